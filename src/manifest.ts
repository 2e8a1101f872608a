/**
 * Checks a plugin's manifest with zod: the host's half of reading a plugin
 * (`plugin_shape.ts` reads the module, in-process or in its worker).
 *
 * @module
 */

import { z } from "zod";
import { PluginError } from "./errors.ts";
import { PLUGIN_NAME_RE } from "./plugin_name.ts";
import { EVENT_PATTERN_RE, MANIFEST_LIST_MAX, pluginPermissionsSchema } from "./plugin_permissions.ts";
import { formatIssues } from "./schema.ts";
import { type NormalizedPlugin, readPlugin } from "./plugin_shape.ts";
// @ts-types="@types/semver"
import { valid, validRange } from "semver";

export { PLUGIN_NAME_RE };
export type { NormalizedPlugin };

const manifestSchema = z.object({
  name: z.string().max(64).regex(PLUGIN_NAME_RE, 'must be lowercase kebab-case, such as "task-tracker"'),
  version: z.string().refine((v) => valid(v) !== null, 'must be a semantic version, such as "1.0.0"'),
  description: z.string().max(500).optional(),
  author: z.string().max(200).optional(),
  dependencies: z.record(
    z.string().regex(PLUGIN_NAME_RE, "dependency names must be lowercase kebab-case"),
    z.string().max(256).refine((r) => validRange(r) !== null, 'must be a semver range, such as "^1.0.0"'),
  ).refine((d) => Object.keys(d).length <= MANIFEST_LIST_MAX, `at most ${MANIFEST_LIST_MAX} dependencies`)
    .default({}),
  permissions: pluginPermissionsSchema.optional(),
  emits: z.array(
    z.string().max(256).regex(
      EVENT_PATTERN_RE,
      'must be an event name or a prefix pattern, such as "task.created" or "task.*"',
    ),
  ).max(MANIFEST_LIST_MAX, `at most ${MANIFEST_LIST_MAX} entries`).optional(),
  provides: z.object({
    services: z.array(z.string().min(1).max(128)).max(MANIFEST_LIST_MAX, `at most ${MANIFEST_LIST_MAX} entries`)
      .optional(),
    hooks: z.array(z.string().min(1).max(128)).max(MANIFEST_LIST_MAX, `at most ${MANIFEST_LIST_MAX} entries`)
      .optional(),
  }).strict().optional(),
});

/**
 * Checks a plugin's manifest data (from {@linkcode readPlugin}, in-process
 * or sent by its worker, which is not trusted) with every issue found,
 * those of its functions included.
 *
 * @param data the manifest's data fields as given
 * @param issues what is already known to be wrong (its functions, its config schema)
 * @param source where it came from, for messages
 * @param hint the name to report when the manifest has none
 * @returns the manifest, defaults applied
 * @throws {PluginError} `INVALID_PLUGIN` with every issue found
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateManifest } from "./manifest.ts";
 * const meta = validateManifest({ name: "hello", version: "1.0.0" }, [], "mem:", "hello");
 * assert.deepEqual(meta.dependencies, {});
 * ```
 */
export function validateManifest(
  data: unknown,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  source: string,
  hint: string,
): NormalizedPlugin["meta"] {
  const given = data !== null && typeof data === "object" ? data as Record<string, unknown> : {};
  const name = typeof given.name === "string" ? given.name : hint;
  // Sizes first: a list of a million entries is refused whole, not checked entry by entry.
  const oversized = oversizedFields(given);
  if (oversized.length) {
    throw new PluginError("INVALID_PLUGIN", `invalid manifest: ${formatIssues([...oversized, ...issues])}`, {
      plugin: name,
      source,
      stage: "load",
      from: source,
    });
  }
  const parsed = manifestSchema.safeParse(given);
  const all = [...(parsed.success ? [] : parsed.error.issues), ...issues];
  if (!parsed.success || all.length) {
    throw new PluginError(
      "INVALID_PLUGIN",
      `invalid manifest: ${formatIssues(all)}`,
      { plugin: name, source, stage: "load", from: source, cause: parsed.success ? undefined : parsed.error },
    );
  }
  const m = parsed.data;
  return {
    name: m.name,
    version: m.version,
    description: m.description,
    author: m.author,
    dependencies: m.dependencies,
    permissions: m.permissions ?? {},
    emits: m.emits ?? [],
    ...(m.provides ? { provides: m.provides } : {}),
  };
}

/**
 * Reads a module's default export and checks it: the plugin in one shape.
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
  const read = readPlugin(mod, source, hint);
  return {
    meta: validateManifest(read.data, read.issues, source, hint),
    config: read.config,
    setup: read.setup,
    teardown: read.teardown,
    service: read.service,
  };
}

/** The manifest's lists and records longer than {@linkcode MANIFEST_LIST_MAX}, as issues. */
function oversizedFields(given: Record<string, unknown>): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  const check = (path: string[], value: unknown) => {
    const n = Array.isArray(value)
      ? value.length
      : value !== null && typeof value === "object"
      ? Object.keys(value).length
      : 0;
    if (n > MANIFEST_LIST_MAX) out.push({ path, message: `at most ${MANIFEST_LIST_MAX} entries, got ${n}` });
  };
  check(["emits"], given.emits);
  const provides = given.provides;
  if (provides !== null && typeof provides === "object") {
    check(["provides", "services"], (provides as Record<string, unknown>).services);
    check(["provides", "hooks"], (provides as Record<string, unknown>).hooks);
  }
  check(["dependencies"], given.dependencies);
  const permissions = given.permissions;
  if (permissions !== null && typeof permissions === "object") {
    const before = out.length;
    check(["permissions"], permissions);
    // A permissions object with a million kinds is refused as that, without listing them.
    if (out.length === before) {
      for (const [kind, value] of Object.entries(permissions)) check(["permissions", kind], value);
    }
  }
  return out;
}
