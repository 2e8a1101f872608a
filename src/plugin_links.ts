/**
 * Deno checks a path permission against the path as written, not where a
 * link leads: a link inside a plugin's folder would reach anything beyond
 * it, for reading and (through a declared `write` path) for writing. So
 * before an isolated plugin's worker starts, its folder must hold no link
 * that leaves it, and every path its manifest declares is resolved to its
 * real path and must stay inside its folder or data folder, unless the
 * operator granted that path.
 *
 * @module
 */

import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { PermissionError } from "./errors.ts";
import type { PluginPermissions } from "./plugin_meta.ts";

/** How many entries of a plugin's folder are checked for links, at most. */
export const MAX_FOLDER_ENTRIES = 20_000;

/**
 * Refuses a plugin folder that holds a link leading outside it.
 *
 * @param plugin the plugin's name, for the message
 * @param dir the plugin's folder
 * @throws {PermissionError} naming the first such link and where it leads, or a folder too large to check
 *
 * @example
 * ```ts
 * import { assertNoEscapingLinks } from "./plugin_links.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/mod.ts`, "export default {}");
 * await assertNoEscapingLinks("p", dir); // a folder without links passes
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function assertNoEscapingLinks(plugin: string, dir: string): Promise<void> {
  const root = await Deno.realPath(dir);
  let seen = 0;
  const walk = async (folder: string): Promise<void> => {
    for await (const entry of Deno.readDir(folder)) {
      if (++seen > MAX_FOLDER_ENTRIES) {
        throw new PermissionError(
          `its folder ${dir} holds more than ${MAX_FOLDER_ENTRIES} entries; plugboard checks each for links that ` +
            `leave it. Keep dependencies out of the plugin's folder (import them as npm: or https: modules)`,
          "a smaller plugin folder",
          { plugin, stage: "load", from: dir },
        );
      }
      const path = join(folder, entry.name);
      if (entry.isSymlink) {
        const target = await Deno.realPath(path).catch(() => undefined);
        if (target === undefined || !inside(root, target)) {
          throw new PermissionError(
            `its folder holds a link that leaves it: ${path} → ${target ?? "(a missing target)"}. Deno would let the ` +
              `plugin read (or write) through it whatever the link reaches. Replace the link by the files it points to`,
            `remove the link ${path}`,
            { plugin, stage: "load", from: path },
          );
        }
      } else if (entry.isDirectory) {
        await walk(path);
      }
    }
  };
  await walk(root);
}

/**
 * Refuses declared `read` and `write` paths whose real path (links followed;
 * for a path that does not exist yet, its nearest existing parent's) leaves
 * the plugin's folder and data folder, unless the operator granted it.
 *
 * @param plugin the plugin's name
 * @param declared what its manifest declares
 * @param places its folder, its data folder, and the operator's grant for it
 * @throws {PermissionError} naming the field, the path and where it leads
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertContainedPaths } from "./plugin_links.ts";
 * const dir = await Deno.makeTempDir();
 * await assertContainedPaths("p", { read: ["./assets"] }, { pluginDir: dir, dataDir: `${dir}/data` });
 * await assert.rejects(
 *   assertContainedPaths("p", { write: ["/etc"] }, { pluginDir: dir, dataDir: `${dir}/data` }),
 *   /permissions\.write "\/etc" is outside its folder and data folder/,
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function assertContainedPaths(
  plugin: string,
  declared: PluginPermissions | undefined,
  places: { pluginDir: string; dataDir: string; granted?: PluginPermissions },
): Promise<void> {
  const roots = await Promise.all([places.pluginDir, places.dataDir].map(realOrResolved));
  for (const field of ["read", "write"] as const) {
    const grantedPaths = await Promise.all(
      (places.granted?.[field] ?? []).map((p) => realOrResolved(resolve(places.pluginDir, p))),
    );
    for (const path of declared?.[field] ?? []) {
      const real = await realOrResolved(resolve(places.pluginDir, path));
      if (roots.some((r) => inside(r, real)) || grantedPaths.some((g) => inside(g, real))) continue;
      throw new PermissionError(
        `permissions.${field} ${
          JSON.stringify(path)
        } is outside its folder and data folder (it resolves to ${real}). ` +
          `A path beyond them needs the operator's grant: "grants": { "${plugin}": { "${field}": ["${real}"] } }`,
        `grants.${plugin}.${field}`,
        { plugin, stage: "load" },
      );
    }
  }
}

/** The real path of `path`, or of its nearest existing parent joined with the rest. */
async function realOrResolved(path: string): Promise<string> {
  let head = resolve(path);
  const rest: string[] = [];
  for (;;) {
    try {
      return join(await Deno.realPath(head), ...rest);
    } catch {
      const parent = dirname(head);
      if (parent === head) return resolve(path);
      rest.unshift(relative(parent, head));
      head = parent;
    }
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel) && !rel.startsWith(sep));
}
