/**
 * The Deno permissions a plugin declares in its manifest, in Deno's own
 * vocabulary, and what they become: the exact permission set of the
 * plugin's worker. Nothing declared means reading its own code and reading
 * and writing its own data folder; never `ffi`; never more than the host
 * process holds.
 *
 * @module
 */

import { isAbsolute, relative, resolve } from "node:path";
import { z } from "zod";
import { PermissionError } from "./errors.ts";

/** What a plugin may ask for, each as a list (relative paths start at the plugin's folder). */
export interface PluginPermissions {
  /** Paths it may read, besides its own folder and data folder. */
  read?: string[];
  /** Paths it may write, besides its data folder. */
  write?: string[];
  /** Hosts (`name` or `name:port`) it may connect to. */
  net?: string[];
  /** Environment variables it may read. */
  env?: string[];
  /** Hosts it may import modules from at run time, besides its own source's host. */
  import?: string[];
  /** Programs it may run. */
  run?: string[];
  /** System information it may read (`hostname`, `osRelease`, ...). */
  sys?: string[];
}

const list = (what: string) =>
  z.array(z.string().min(1, `${what} entries must not be empty`), {
    error: `must be a list of ${what}, such as ["${what === "paths" ? "./assets" : "example.com"}"]`,
  }).optional();

/** Checks the `permissions` field of a manifest; unknown names, `ffi`, and non-lists are errors. */
export const pluginPermissionsSchema: z.ZodType<PluginPermissions> = z.object({
  read: list("paths"),
  write: list("paths"),
  net: list("hosts"),
  env: list("variable names"),
  import: list("hosts"),
  run: list("programs"),
  sys: list("sys names"),
  ffi: z.never({ error: "ffi is never granted to a plugin: native code would bypass its isolation" }).optional(),
}).strict() as z.ZodType<PluginPermissions>;

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
 * Checks that the host process holds every permission a plugin declared: a
 * worker can never get more than its host.
 *
 * @param plugin the plugin's name
 * @param declared what it asks for
 * @param pluginDir where relative paths start
 * @throws {PermissionError} naming the host flag to add
 */
export async function assertHostHolds(
  plugin: string,
  declared: PluginPermissions,
  pluginDir: string,
): Promise<void> {
  const checks: [Deno.PermissionDescriptor, string, string][] = [];
  for (const p of declared.read ?? []) {
    const path = resolve(pluginDir, p);
    checks.push([{ name: "read", path }, `--allow-read=${path}`, `read "${path}"`]);
  }
  for (const p of declared.write ?? []) {
    const path = resolve(pluginDir, p);
    checks.push([{ name: "write", path }, `--allow-write=${path}`, `write "${path}"`]);
  }
  for (const host of declared.net ?? []) checks.push([{ name: "net", host }, `--allow-net=${host}`, `reach "${host}"`]);
  for (const variable of declared.env ?? []) {
    checks.push([{ name: "env", variable }, `--allow-env=${variable}`, `read env "${variable}"`]);
  }
  for (const host of declared.import ?? []) {
    checks.push([{ name: "import", host }, `--allow-import=${host}`, `import from "${host}"`]);
  }
  for (const command of declared.run ?? []) {
    checks.push([{ name: "run", command }, `--allow-run=${command}`, `run "${command}"`]);
  }
  for (const kind of declared.sys ?? []) {
    checks.push([
      { name: "sys", kind: kind as Deno.SysPermissionDescriptor["kind"] },
      `--allow-sys=${kind}`,
      `read sys "${kind}"`,
    ]);
  }
  for (const [descriptor, flag, what] of checks) {
    const { state } = await Deno.permissions.query(descriptor);
    if (state !== "granted") {
      throw new PermissionError(
        `its manifest asks to ${what}, which the host process may not do. Run Deno with ${flag}, ` +
          `or remove it from the plugin's permissions`,
        flag,
        { plugin, stage: "load" },
      );
    }
  }
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
export function widening(current: PluginPermissions, next: PluginPermissions): PluginPermissions | undefined {
  const added: PluginPermissions = {};
  let any = false;
  for (const kind of PERMISSION_KINDS) {
    const extra = (next[kind] ?? []).filter((v) => !(current[kind] ?? []).includes(v));
    if (extra.length) {
      added[kind] = extra;
      any = true;
    }
  }
  return any ? added : undefined;
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
export function describePermissions(permissions: PluginPermissions): string {
  const parts = PERMISSION_KINDS.filter((k) => permissions[k]?.length).map((k) =>
    `${k}: ${permissions[k]!.join(", ")}`
  );
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
