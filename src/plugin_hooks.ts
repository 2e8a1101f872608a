/**
 * `ctx.hooks`: the extension points as one plugin sees them. What it
 * defines or wraps is owned by it and removed when it unloads.
 *
 * @module
 */

import type { HookRegistry, HookWrapper, PlugboardHooks } from "./hooks.ts";
import type { Scope } from "./scope.ts";

/**
 * Extension points as a plugin sees them: what it defines or wraps is removed
 * when it unloads, whatever the order of unloads.
 */
// deno-lint-ignore no-explicit-any
export class PluginHooks<H extends Record<string, any> = PlugboardHooks & Record<string, any>> {
  #hooks: HookRegistry;
  #scope: Scope;

  /**
   * Wraps the host's hook registry for one plugin; the host builds one per
   * plugin, a plugin only meets it as `ctx.hooks`.
   *
   * @param hooks the host's registry
   * @param scope the plugin's scope: it owns every definition and wrapper added here
   */
  constructor(hooks: HookRegistry, scope: Scope) {
    this.#hooks = hooks;
    this.#scope = scope;
  }

  /**
   * Defines an extension point until the plugin unloads.
   *
   * @param name the hook
   * @param impl its base implementation
   */
  define<K extends keyof H & string>(name: K, impl: H[K]): void {
    let remove: (() => void) | undefined;
    this.#scope.register({
      activate: () => remove = this.#hooks.define(name, impl as never, { owner: this.#scope.owner }),
      deactivate: () => remove?.(),
    });
  }

  /**
   * Wraps an extension point until the plugin unloads.
   *
   * @param name the hook
   * @param wrapper receives `next`, returns the replacement
   */
  wrap<K extends keyof H & string>(name: K, wrapper: HookWrapper<H[K]>): void {
    let remove: (() => void) | undefined;
    this.#scope.register({
      activate: () => remove = this.#hooks.wrap(name, wrapper as never, { owner: this.#scope.owner }),
      deactivate: () => remove?.(),
    });
  }

  /**
   * Calls an extension point through its wrappers.
   *
   * @param name the hook
   * @param args its arguments
   * @returns its result
   */
  call<K extends keyof H & string>(name: K, ...args: Parameters<H[K]>): ReturnType<H[K]> {
    return (this.#hooks.get(name) as (...a: unknown[]) => ReturnType<H[K]>)(...args);
  }

  /**
   * Tells whether an extension point is defined.
   *
   * @param name the hook
   * @returns true when defined
   */
  has(name: string): boolean {
    return this.#hooks.has(name);
  }
}
