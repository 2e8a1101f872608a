/**
 * Generated plugins for the benchmarks: `count` plugin folders, each with
 * `routes` GET routes answering with the same handler as the bare-Hono peer.
 *
 * @module
 */

import { join } from "node:path";

/** The body every benchmark route answers with. */
export const PONG = "pong";

/**
 * Writes generated plugins into a new temporary folder.
 *
 * @param count how many plugins
 * @param routes routes per plugin
 * @param parent where to make the folder (it must exist); the system's temporary folder by default
 * @returns the plugins folder
 */
export async function generatePlugins(count: number, routes: number, parent?: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "plugboard-bench-", dir: parent });
  for (let i = 0; i < count; i++) {
    const name = `p${i}`;
    const lines = Array.from(
      { length: routes },
      (_, r) => `ctx.routes.get("/r${r}", (c) => c.text(${JSON.stringify(PONG)}));`,
    );
    await Deno.mkdir(join(dir, name));
    await Deno.writeTextFile(
      join(dir, name, "mod.ts"),
      `export default { name: "${name}", version: "1.0.0", setup(ctx) { ${lines.join(" ")} } };\n`,
    );
  }
  return dir;
}
