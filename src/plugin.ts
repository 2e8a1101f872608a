/**
 * How a plugin is written: {@linkcode definePlugin} for the object form, or a
 * subclass of {@linkcode Plugin} for the class form. Neither is needed at run
 * time: a plain default-export object with the same fields is a valid plugin.
 *
 * @module
 */

import type { PluginContext } from "./context.ts";
import type { ConfigSchema } from "./schema.ts";
import type { PluginMeta } from "./plugin_meta.ts";
import { PluginError } from "./errors.ts";

export type { PluginMeta };

/**
 * The object form of a plugin.
 *
 * @typeParam C the validated config type
 */
export interface PluginDefinition<C = Record<string, unknown>> extends PluginMeta {
  /** Validates `config.json` (defaults applied); zod or any Standard Schema. */
  config?: ConfigSchema<C>;
  /** Registers everything through `ctx`; may be async. */
  setup(ctx: PluginContext<C>): unknown;
  /** The plugin's own unload hook, run before its registrations are undone. */
  teardown?(ctx: PluginContext<C>): unknown;
}

/**
 * Declares a plugin, with types for `ctx` and the config. It returns its
 * argument after checking that `setup` is a function.
 *
 * @param definition the plugin
 * @returns the same definition
 * @throws {TypeError} when `setup` is missing
 *
 * @example A plugin with config
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { definePlugin } from "../mod.ts";
 * export const plugin = definePlugin({
 *   name: "greeter",
 *   version: "1.0.0",
 *   config: z.object({ greeting: z.string().default("hello") }),
 *   setup(ctx) {
 *     ctx.services.provide("greeter", { greet: (who: string) => `${ctx.config.greeting} ${who}` });
 *   },
 * });
 * assert.equal(plugin.name, "greeter");
 * ```
 */
export function definePlugin<C = Record<string, unknown>>(definition: PluginDefinition<C>): PluginDefinition<C> {
  if (typeof definition?.setup !== "function") {
    const name = typeof definition?.name === "string" ? ` "${definition.name}"` : "";
    throw new TypeError(`Cannot define plugin${name}: "setup" must be a function, got ${typeof definition?.setup}`);
  }
  return definition;
}

/**
 * The class form of a plugin, for parity with class-based plugin systems.
 * Export the subclass (or an instance) as the module's default export. A
 * value returned by {@linkcode Plugin.getService} is provided as a service
 * under the plugin's name.
 *
 * @typeParam C the validated config type
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Plugin, type PluginContext } from "../mod.ts";
 * class Counter extends Plugin {
 *   info = { name: "counter", version: "1.0.0" };
 *   count = 0;
 *   load(ctx: PluginContext) {
 *     ctx.events.on("plugin.loaded", () => this.count++);
 *   }
 *   override getService() { return { count: () => this.count }; }
 * }
 * // A plugin module would `export default Counter;`
 * assert.equal((new Counter().getService() as { count(): number }).count(), 0);
 * ```
 */
export abstract class Plugin<C = Record<string, unknown>> {
  /** Name, version and the rest. */
  abstract readonly info: PluginMeta;
  /** Validates the plugin's config. @default undefined (config passed through) */
  readonly configSchema?: ConfigSchema<C>;
  #context: PluginContext<C> | undefined;

  /** The context of the current load; throws before `load`. */
  get context(): PluginContext<C> {
    if (!this.#context) {
      throw new PluginError("UNLOADED", `Plugin "${this.info.name}" is not loaded`, { plugin: this.info.name });
    }
    return this.#context;
  }

  /**
   * Called by the host before {@linkcode Plugin.load}.
   *
   * @param ctx the plugin's context
   */
  attach(ctx: PluginContext<C>): void {
    this.#context = ctx;
  }

  /**
   * Registers everything through `ctx`.
   *
   * @param ctx the plugin's context
   */
  abstract load(ctx: PluginContext<C>): unknown;

  /** The plugin's own cleanup; registrations made through `ctx` are undone anyway. */
  unload(): unknown {
    return undefined;
  }

  /**
   * Asks the host to reload this plugin.
   *
   * @returns when the reload finished
   */
  reload(): Promise<void> {
    return this.context.reload();
  }

  /**
   * The plugin's main service, provided under its name.
   *
   * @returns the service, or undefined for none
   */
  getService(): unknown {
    return undefined;
  }

  /**
   * The plugin's metadata.
   *
   * @returns {@linkcode Plugin.info}
   */
  getInfo(): PluginMeta {
    return this.info;
  }
}
