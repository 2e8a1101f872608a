/**
 * Turns a plugin module's default export (definition object, plain object,
 * `Plugin` subclass or instance) into one checked shape, validated with zod.
 *
 * @module
 */

import { z } from "zod";
import { PluginError } from "./errors.ts";
import { EVENT_PATTERN_RE, pluginPermissionsSchema } from "./plugin_permissions.ts";
import type { PluginContext } from "./context.ts";
import type { PluginMeta } from "./plugin.ts";
import { type ConfigSchema, formatIssues, isConfigSchema } from "./schema.ts";
// @ts-types="@types/semver"
import { valid, validRange } from "semver";

/** A plugin in the one shape the host runs. */
export interface NormalizedPlugin {
  meta: Required<Pick<PluginMeta, "name" | "version" | "dependencies" | "permissions" | "emits">> & PluginMeta;
  config: ConfigSchema | undefined;
  setup(ctx: PluginContext<unknown>): unknown;
  teardown: ((ctx: PluginContext<unknown>) => unknown) | undefined;
  /** The main service of a class plugin, read after setup. */
  service: (() => unknown) | undefined;
}

/** Plugin names: lowercase kebab-case. */
export const PLUGIN_NAME_RE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", `${what} must be a function`);

const manifestSchema = z.object({
  name: z.string().max(64).regex(PLUGIN_NAME_RE, 'must be lowercase kebab-case, such as "task-tracker"'),
  version: z.string().refine((v) => valid(v) !== null, 'must be a semantic version, such as "1.0.0"'),
  description: z.string().max(500).optional(),
  author: z.string().max(200).optional(),
  dependencies: z.record(
    z.string().regex(PLUGIN_NAME_RE, "dependency names must be lowercase kebab-case"),
    z.string().refine((r) => validRange(r) !== null, 'must be a semver range, such as "^1.0.0"'),
  ).default({}),
  config: z.custom<ConfigSchema>(
    (v) => v === undefined || isConfigSchema(v),
    "must be a zod (or Standard Schema) schema",
  )
    .optional(),
  permissions: pluginPermissionsSchema.optional(),
  emits: z.array(
    z.string().regex(EVENT_PATTERN_RE, 'must be an event name or a prefix pattern, such as "task.created" or "task.*"'),
  ).optional(),
  setup: fn("setup"),
  teardown: fn("teardown").optional(),
});

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
 * Checks a module's default export and returns the plugin in one shape.
 *
 * @param mod the imported module namespace
 * @param source where it came from, for messages
 * @param hint the name to report before the manifest is read (folder or file name)
 * @returns the normalized plugin
 * @throws {PluginError} `INVALID_PLUGIN` with every issue found
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizePlugin } from "./manifest.ts";
 * const p = normalizePlugin({ default: { name: "hello", version: "1.0.0", setup() {} } }, "mem:", "hello");
 * assert.equal(p.meta.name, "hello");
 * ```
 */
export function normalizePlugin(mod: Record<string, unknown>, source: string, hint: string): NormalizedPlugin {
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
      `its constructor threw: ${(cause as Error)?.message ?? cause}`,
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
  const parsed = manifestSchema.safeParse(exported);
  const name = typeof (exported as AnyRecord).name === "string" ? (exported as AnyRecord).name as string : hint;
  if (!parsed.success) {
    const issues = formatIssues(parsed.error.issues);
    throw new PluginError(
      "INVALID_PLUGIN",
      `invalid manifest: ${issues}`,
      { plugin: name, source, stage: "load", from: source, cause: parsed.error },
    );
  }
  const m = parsed.data;
  return {
    meta: {
      name: m.name,
      version: m.version,
      description: m.description,
      author: m.author,
      dependencies: m.dependencies,
      permissions: m.permissions ?? {},
      emits: m.emits ?? [],
    },
    config: m.config,
    setup: m.setup as NormalizedPlugin["setup"],
    teardown: m.teardown as NormalizedPlugin["teardown"],
    service,
  };
}
