/**
 * Reads a plugin module's default export (definition object, plain object,
 * `Plugin` subclass or instance) into one shape, without judging its
 * manifest: that is `manifest.ts`'s job, on the host. This half runs in
 * every plugin's worker too, so it imports no validation library.
 *
 * @module
 */

import { PluginError } from "./errors.ts";
import type { PluginContext } from "./context.ts";
import type { PluginMeta } from "./plugin_meta.ts";
import { type ConfigSchema, isConfigSchema } from "./schema.ts";
import { errorText } from "./error_text.ts";

/** A plugin in the one shape the host runs. */
export interface NormalizedPlugin {
  meta: Required<Pick<PluginMeta, "name" | "version" | "dependencies" | "permissions" | "emits">> & PluginMeta;
  config: ConfigSchema | undefined;
  setup(ctx: PluginContext<unknown>): unknown;
  teardown: ((ctx: PluginContext<unknown>) => unknown) | undefined;
  /** The main service of a class plugin, read after setup. */
  service: (() => unknown) | undefined;
}

/** The manifest's data fields, as the module gave them (not yet validated). */
export const MANIFEST_FIELDS = [
  "name",
  "version",
  "description",
  "author",
  "dependencies",
  "permissions",
  "emits",
  "provides",
] as const;

/** A plugin as read from its module: its manifest's data unchecked, its functions checked. */
export interface ReadPlugin {
  /** The manifest's data fields as given (only those present). */
  data: Record<string, unknown>;
  /** What is wrong with its functions and config schema, as `path: message`. */
  issues: { path: string[]; message: string }[];
  config: ConfigSchema | undefined;
  setup: NormalizedPlugin["setup"];
  teardown: NormalizedPlugin["teardown"];
  service: NormalizedPlugin["service"];
}

type AnyRecord = Record<string, unknown>;

function isClassPlugin(value: unknown): value is new () => AnyRecord {
  return typeof value === "function" && typeof (value as { prototype?: AnyRecord }).prototype?.load === "function";
}

function fromInstance(inst: AnyRecord): AnyRecord {
  const info = (typeof inst.getInfo === "function" ? (inst.getInfo as () => unknown)() : inst.info) ?? {};
  const call = (name: string) => (...args: unknown[]) => (inst[name] as (...a: unknown[]) => unknown).apply(inst, args);
  return {
    ...(info as AnyRecord),
    config: inst.configSchema,
    setup: (ctx: unknown) => {
      if (typeof inst.attach === "function") call("attach")(ctx);
      return call("load")(ctx);
    },
    teardown: typeof inst.unload === "function" ? () => call("unload")() : undefined,
  };
}

/**
 * Reads a module's default export into one shape. Only what cannot cross to
 * the host is checked here (functions, the config schema); the manifest's
 * data is checked by `validateManifest`.
 *
 * @param mod the imported module namespace
 * @param source where it came from, for messages
 * @param hint the name to report before the manifest is read (folder or file name)
 * @returns the plugin, its manifest data unchecked
 * @throws {PluginError} `INVALID_PLUGIN` when there is no plugin object at all
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPlugin } from "./plugin_shape.ts";
 * const p = readPlugin({ default: { name: "hello", version: "1.0.0", setup() {} } }, "mem:", "hello");
 * assert.deepEqual(p.data, { name: "hello", version: "1.0.0" });
 * assert.deepEqual(p.issues, []);
 * ```
 */
export function readPlugin(mod: Record<string, unknown>, source: string, hint: string): ReadPlugin {
  let exported = mod.default;
  let service: (() => unknown) | undefined;
  if (exported === undefined) {
    throw new PluginError(
      "INVALID_PLUGIN",
      `the module has no default export. ` +
        `Add "export default definePlugin({ name, version, setup })" (or a Plugin subclass)`,
      { plugin: hint, source, stage: "load", from: source },
    );
  }
  try {
    const instance = isClassPlugin(exported)
      ? new exported()
      : exported && typeof exported === "object" && typeof (exported as AnyRecord).load === "function"
      ? exported as AnyRecord
      : undefined;
    if (instance) {
      exported = fromInstance(instance);
      if (typeof instance.getService === "function") service = () => (instance.getService as () => unknown)();
    }
  } catch (cause) {
    throw new PluginError(
      "INVALID_PLUGIN",
      `its constructor threw: ${errorText(cause)}`,
      { plugin: hint, source, stage: "load", from: source, cause },
    );
  }
  if (exported === null || typeof exported !== "object") {
    throw new PluginError(
      "INVALID_PLUGIN",
      `the default export must be a plugin object or a Plugin subclass, ` +
        `got ${exported === null ? "null" : typeof exported}`,
      { plugin: hint, source, stage: "load", from: source },
    );
  }
  const e = exported as AnyRecord;
  const data: Record<string, unknown> = {};
  for (const key of MANIFEST_FIELDS) if (e[key] !== undefined) data[key] = e[key];
  const issues: ReadPlugin["issues"] = [];
  if (typeof e.setup !== "function") issues.push({ path: ["setup"], message: "setup must be a function" });
  if (e.teardown !== undefined && typeof e.teardown !== "function") {
    issues.push({ path: ["teardown"], message: "teardown must be a function" });
  }
  if (e.config !== undefined && !isConfigSchema(e.config)) {
    issues.push({ path: ["config"], message: "must be a zod (or Standard Schema) schema" });
  }
  return {
    data,
    issues,
    config: e.config as ConfigSchema | undefined,
    setup: e.setup as NormalizedPlugin["setup"],
    teardown: e.teardown as NormalizedPlugin["teardown"],
    service,
  };
}
