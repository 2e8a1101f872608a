/**
 * Deno's command-line permission flags for a sandboxed plugin's process,
 * built from the same permission set a worker would be given: the plugin
 * gets exactly that (its channel is its stdin and stdout, which need none),
 * and no remote import unless one is granted.
 *
 * @module
 */

type Kind = "read" | "write" | "net" | "env" | "run" | "sys" | "ffi" | "import";
const KINDS: readonly Kind[] = ["read", "write", "net", "env", "run", "sys", "ffi", "import"];

/**
 * The flags for one permission set.
 *
 * @param granted the set (as for a worker: lists, `true`, or `false`)
 * @returns the flags, e.g. `["--allow-read=/p", ...]`
 * @throws {TypeError} a value with a comma (Deno's flags separate values with commas)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionFlags } from "./process_flags.ts";
 * assert.deepEqual(permissionFlags({ read: ["/p"], write: ["/d"], env: ["KEY"], net: false }), [
 *   "--allow-read=/p",
 *   "--allow-write=/d",
 *   "--allow-env=KEY",
 *   "--deny-import",
 * ]);
 * ```
 */
export function permissionFlags(granted: Deno.PermissionOptionsObject): string[] {
  const flags: string[] = [];
  for (const kind of KINDS) {
    const value = granted[kind] as boolean | string[] | "inherit" | undefined;
    if (value === true || value === "inherit") {
      flags.push(`--allow-${kind}`);
      continue;
    }
    const values = Array.isArray(value) ? value.map(String) : [];
    const comma = values.find((v) => v.includes(","));
    if (comma !== undefined) {
      throw new TypeError(`"${comma}" holds a comma, which Deno's --allow-${kind} flag cannot carry; rename it`);
    }
    if (values.length) flags.push(`--allow-${kind}=${values.join(",")}`);
    else if (kind === "import") flags.push("--deny-import");
  }
  return flags;
}
