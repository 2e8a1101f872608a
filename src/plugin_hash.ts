/**
 * A plugin's content hash: SHA-256 over every file of its folder (paths and
 * bytes, in path order), so an approval can be bound to the code the
 * operator saw. Dot-files and `node_modules` are left out; a folder over
 * {@linkcode MAX_HASHED_BYTES} is refused rather than read whole.
 *
 * @module
 */

import { join, relative } from "node:path";
import { concat } from "./bytes.ts";

/** The most bytes a plugin folder's hash reads. */
export const MAX_HASHED_BYTES = 64 * 1024 * 1024;

/**
 * The content hash of a plugin's folder.
 *
 * @param dir the folder
 * @returns `sha256-<hex>`
 * @throws {RangeError} a folder over {@linkcode MAX_HASHED_BYTES}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentHash } from "./plugin_hash.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/mod.ts`, "export default {}");
 * const before = await contentHash(dir);
 * assert.equal(before, await contentHash(dir));
 * await Deno.writeTextFile(`${dir}/mod.ts`, "export default { changed: true }");
 * assert.notEqual(before, await contentHash(dir));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function contentHash(dir: string): Promise<string> {
  const files: string[] = [];
  const walk = async (at: string) => {
    for await (const entry of Deno.readDir(at)) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const path = join(at, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) files.push(path);
    }
  };
  await walk(dir);
  files.sort();
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const file of files) {
    const bytes = await Deno.readFile(file);
    total += bytes.byteLength;
    if (total > MAX_HASHED_BYTES) throw new RangeError(`${dir} holds over ${MAX_HASHED_BYTES} bytes to hash`);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    parts.push(encoder.encode(`${relative(dir, file)}\0`), digest);
  }
  const all = concat(parts, parts.reduce((n, p) => n + p.byteLength, 0));
  const hex = [...new Uint8Array(await crypto.subtle.digest("SHA-256", all))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `sha256-${hex}`;
}
