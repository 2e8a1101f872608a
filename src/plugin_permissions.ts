/**
 * The Deno permissions a plugin declares in its manifest, in Deno's own
 * vocabulary, and what they become: the exact permission set of the
 * plugin's worker. Nothing declared means reading its own code and reading
 * and writing its own data folder; never `ffi`; never more than the host
 * process holds.
 *
 * @module
 */

import { isAbsolute, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { PermissionError } from "./errors.ts";
import { EVENT_PATTERN_RE, mayEmit } from "./emit_rules.ts";
import type { PluginPermissions } from "./plugin_meta.ts";

export type { PluginPermissions };

/** The most entries a manifest list may hold (permissions, `emits`, dependencies): a manifest is not a database. */
export const MANIFEST_LIST_MAX = 256;

const list = (what: string) =>
  z.array(z.string().min(1, `${what} entries must not be empty`).max(4096), {
    error: `must be a list of ${what}, such as ["${what === "paths" ? "./assets" : "example.com"}"]`,
  }).max(MANIFEST_LIST_MAX, `at most ${MANIFEST_LIST_MAX} entries`).optional();

/** Checks the `permissions` field of a manifest; unknown names, `ffi`, and non-lists are errors. */
export const pluginPermissionsSchema: z.ZodType<PluginPermissions> = z.object({
  read: list("paths"),
  write: list("paths"),
  net: list("hosts"),
  env: list("variable names"),
  import: list("hosts"),
  run: list("programs"),
  sys: list("sys names"),
  observe: z.array(z.enum(["system", "plugin"], { error: 'must be "system" or "plugin"' })).max(2).optional(),
  hostWide: z.array(z.enum(["middleware", "responses"], { error: 'must be "middleware" or "responses"' })).max(2)
    .optional(),
  ffi: z.never({ error: "ffi is never granted to a plugin: native code would bypass its isolation" }).optional(),
}).strict() as z.ZodType<PluginPermissions>;

export { EVENT_PATTERN_RE, mayEmit };

/** The permission kinds, in the order they are shown. */
export const PERMISSION_KINDS = ["read", "write", "net", "env", "import", "run", "sys"] as const;

/** One kind of permission. */
export type PermissionKind = typeof PERMISSION_KINDS[number];

/** Where an isolated plugin lives, to resolve its permissions. */
export interface PermissionPlaces {
  /** The plugin's folder (local plugins). */
  pluginDir?: string;
  /** The plugin's data folder: read and write. */
  dataDir: string;
  /** The `host:port` its code comes from (URL plugins). */
  sourceHost?: string;
  /** Files and folders of plugboard itself that plugins import (read only). */
  codeRoots: readonly string[];
}

/**
 * The permission set of a plugin's worker: exactly what it declared, plus
 * reading its code, reading and writing its data folder, and importing from
 * its source's host.
 *
 * @param declared what the manifest asks for
 * @param places the plugin's folders
 * @returns Deno's permission options for `new Worker`
 *
 * @example Nothing declared
 * ```ts
 * import assert from "node:assert/strict";
 * import { workerPermissions } from "./plugin_permissions.ts";
 * const p = workerPermissions({}, { pluginDir: "/srv/plugins/p", dataDir: "/srv/data/plugins/p", codeRoots: [] });
 * assert.deepEqual(p.read, ["/srv/plugins/p", "/srv/data/plugins/p"]);
 * assert.equal(p.env, false);
 * assert.equal(p.ffi, false);
 * ```
 */
export function workerPermissions(declared: PluginPermissions, places: PermissionPlaces): Deno.PermissionOptionsObject {
  const paths = (values: string[] | undefined) =>
    (values ?? []).map((p) => resolve(places.pluginDir ?? places.dataDir, p));
  const orFalse = <T>(values: T[]) => values.length ? values : false;
  return {
    read: [
      ...(places.pluginDir ? [places.pluginDir] : []),
      places.dataDir,
      ...places.codeRoots,
      ...paths(declared.read),
    ],
    write: [places.dataDir, ...paths(declared.write)],
    net: orFalse(declared.net ?? []),
    env: orFalse(declared.env ?? []),
    import: orFalse([...(places.sourceHost ? [places.sourceHost] : []), ...(declared.import ?? [])]),
    run: orFalse(declared.run ?? []),
    sys: orFalse(declared.sys ?? []) as Deno.PermissionOptionsObject["sys"],
    ffi: false,
  };
}

/**
 * Checks that the host process holds every permission of a worker's set: a
 * worker can never get more than its host, and Deno's own refusal ("Can't
 * escalate parent thread permissions") does not say which one is missing.
 * Every missing permission is named at once, as the flags to add; a path
 * read inside `codeRoot` (plugboard's own files) is named as that folder,
 * since the worker needs all of it.
 *
 * @param plugin the plugin's name
 * @param granted the worker's permission set
 * @param codeRoot plugboard's own folder, named instead of its files
 * @throws {PermissionError} naming what is missing and the host flags to add
 *
 * @example A worker set the host lacks (run without --allow-net and --allow-sys)
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertHostGrants } from "./plugin_permissions.ts";
 * const lacks = async (descriptor: Deno.PermissionDescriptor) =>
 *   (await Deno.permissions.query(descriptor)).state !== "granted";
 * if (await lacks({ name: "net", host: "example.com" }) && await lacks({ name: "sys", kind: "hostname" })) {
 *   await assert.rejects(
 *     assertHostGrants("p", { net: ["example.com", "example.org"], sys: ["hostname"] }),
 *     /Run Deno with --allow-net=example\.com,example\.org --allow-sys=hostname /,
 *   );
 * }
 * ```
 */
export async function assertHostGrants(
  plugin: string,
  granted: Deno.PermissionOptionsObject,
  codeRoot?: string,
): Promise<void> {
  const list = (v: unknown): string[] => Array.isArray(v) ? v.map(String) : [];
  const shownPath = (path: string) =>
    codeRoot && (path === codeRoot || path.startsWith(codeRoot.endsWith(sep) ? codeRoot : codeRoot + sep))
      ? codeRoot.replace(/[\\/]+$/, "")
      : path.replace(/[\\/]+$/, "");
  type Check = { descriptor: Deno.PermissionDescriptor; flag: string; value: string; what: string };
  // Per kind: the descriptor for one value, and how a message names it.
  const kinds: [PermissionKind, (v: string) => Deno.PermissionDescriptor, string][] = [
    ["read", (path) => ({ name: "read", path }), "read"],
    ["write", (path) => ({ name: "write", path }), "write"],
    ["net", (host) => ({ name: "net", host }), "reach"],
    ["env", (variable) => ({ name: "env", variable }), "read env"],
    ["import", (host) => ({ name: "import", host }), "import from"],
    ["run", (command) => ({ name: "run", command }), "run"],
    ["sys", (kind) => ({ name: "sys", kind: kind as Deno.SysPermissionDescriptor["kind"] }), "read sys"],
  ];
  const checks = kinds.flatMap(([kind, descriptor, verb]) =>
    list(granted[kind]).map((raw): Check => {
      // Reads of plugboard's own files are named as its folder; anything else as it is.
      const value = kind === "read" ? shownPath(raw) : raw;
      return { descriptor: descriptor(raw), flag: `--allow-${kind}`, value, what: `${verb} "${value}"` };
    })
  );
  const missing: Check[] = [];
  for (const check of checks) {
    if ((await Deno.permissions.query(check.descriptor)).state !== "granted") missing.push(check);
  }
  if (missing.length === 0) return;
  const values = new Map<string, Set<string>>();
  for (const { flag, value } of missing) values.set(flag, (values.get(flag) ?? new Set()).add(value));
  const flags = [...values].map(([flag, set]) => `${flag}=${[...set].join(",")}`).join(" ");
  const whats = [...new Set(missing.map((m) => m.what))].join(", ");
  throw new PermissionError(
    `its worker needs to ${whats}, which the host process may not. Run Deno with ${flags} ` +
      `(plugboard's own folder, the plugin's folder and its data folder are always needed; anything else comes ` +
      `from its manifest's permissions)`,
    flags,
    { plugin, stage: "load" },
  );
}

/**
 * What `next` asks for beyond `current` (relative paths compared as written).
 *
 * @param current the active version's permissions
 * @param next the new version's permissions
 * @returns the additions, or undefined when there are none
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { widening } from "./plugin_permissions.ts";
 * assert.deepEqual(widening({ env: ["A"] }, { env: ["A", "B"], net: ["x.com"] }), { env: ["B"], net: ["x.com"] });
 * assert.equal(widening({ env: ["A", "B"] }, { env: ["B"] }), undefined);
 * ```
 */
export function widening<T extends Capabilities>(current: T, next: T): Partial<T> | undefined {
  const added: Record<string, string[]> = {};
  let any = false;
  const cur = current as unknown as Record<string, string[] | undefined>;
  const nxt = next as unknown as Record<string, string[] | undefined>;
  for (const kind of Object.keys(nxt)) {
    const extra = (nxt[kind] ?? []).filter((v) => !(cur[kind] ?? []).includes(v));
    if (extra.length) {
      added[kind] = extra;
      any = true;
    }
  }
  return any ? added as Partial<T> : undefined;
}

/** What an isolated plugin may do: its Deno permissions and the events it may emit. */
export type Capabilities = PluginPermissions & { emits?: string[] };

/**
 * A new version that asks for more than the operator approved: refused
 * before its code runs with any of it. `added` is what it asks for beyond the
 * approved set, shown as the plugin's `pendingPermissions`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PermissionGrowthError } from "./plugin_permissions.ts";
 * const err = new PermissionGrowthError("notifier", { env: ["SECRET"] });
 * assert.equal(err.code, "PERMISSION_DENIED");
 * assert.match(err.message, /asks for more permissions \(env: SECRET\)/);
 * ```
 */
export class PermissionGrowthError extends PermissionError {
  /** What it asks for beyond what was approved. */
  readonly added: Capabilities;

  /**
   * @param plugin the plugin
   * @param added what it asks for beyond what was approved
   */
  constructor(plugin: string, added: Capabilities) {
    super(
      `the new version asks for more permissions (${describePermissions(added)}), so it was not swapped in and none ` +
        `of its code ran with them. Approve them with POST /api/plugins/${plugin}:approve (or host.approve("${plugin}"))`,
      `POST /api/plugins/${plugin}:approve`,
      { plugin, stage: "reload" },
    );
    this.added = added;
  }
}

/**
 * Both permission sets together.
 *
 * @param a one set
 * @param b the other
 * @returns every entry of both, without repeats
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergePermissions } from "./plugin_permissions.ts";
 * assert.deepEqual(mergePermissions({ env: ["A"] }, { env: ["A", "B"], net: ["x.com"] }), { env: ["A", "B"], net: ["x.com"] });
 * ```
 */
export function mergePermissions(a: PluginPermissions, b: PluginPermissions): PluginPermissions {
  const merged: PluginPermissions = {};
  for (const kind of PERMISSION_KINDS) {
    const values = [...new Set([...(a[kind] ?? []), ...(b[kind] ?? [])])];
    if (values.length) merged[kind] = values;
  }
  return merged;
}

/**
 * One line for listings: `net: x.com; env: A, B` (or `none`), kinds in a fixed order.
 *
 * @param permissions declared permissions
 * @returns the line
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describePermissions } from "./plugin_permissions.ts";
 * assert.equal(describePermissions({ env: ["A"], net: ["x.com"] }), "net: x.com; env: A");
 * assert.equal(describePermissions({}), "none");
 * ```
 */
export function describePermissions(permissions: Capabilities): string {
  const parts = [...PERMISSION_KINDS, "observe" as const, "hostWide" as const, "emits" as const].filter((k) =>
    permissions[k]?.length
  )
    .map((k) => `${k}: ${permissions[k]!.join(", ")}`);
  return parts.length ? parts.join("; ") : "none";
}

/**
 * Tells whether `path` is `root` or inside it.
 *
 * @param root a folder
 * @param path a path
 * @returns true when inside
 */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
