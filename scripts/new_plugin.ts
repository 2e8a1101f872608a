/**
 * `deno task new <name>`: scaffolds a plugin folder with `mod.ts`,
 * `config.json.example`, a README and a test that passes.
 *
 * @module
 */

import { join } from "node:path";
import { PLUGIN_NAME_RE } from "../src/manifest.ts";

/** Options for {@linkcode scaffoldPlugin}. */
export interface ScaffoldOptions {
  /** How the files import plugboard: a path or URL ending in `/` that holds plugin.ts and testing.ts. @default "../../" */
  base?: string;
}

/**
 * Writes a new plugin folder.
 *
 * @param pluginsDir the plugins folder
 * @param name the plugin's name (lowercase kebab-case)
 * @param options where plugboard is imported from
 * @returns the files written
 * @throws {Error} for a bad name or an existing folder, saying which
 */
export async function scaffoldPlugin(
  pluginsDir: string,
  name: string,
  options: ScaffoldOptions = {},
): Promise<string[]> {
  if (!PLUGIN_NAME_RE.test(name)) {
    throw new Error(`Cannot create plugin "${name}": the name must be lowercase kebab-case, such as "my-plugin"`);
  }
  const dir = join(pluginsDir, name);
  try {
    await Deno.stat(dir);
    throw new Error(`Cannot create plugin "${name}": ${dir} already exists`);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const base = options.base ?? "../../";
  const files: Record<string, string> = {
    "mod.ts": `/**
 * ${name}: describe what it does in one line.
 *
 * @module
 */

import { z } from "zod";
import { definePlugin } from "${base}plugin.ts";
import type {} from "${base}plugins/tasks/events.ts"; // types the task.* events

export default definePlugin({
  name: "${name}",
  version: "0.1.0",
  description: "TODO: one line for listings",
  config: z.object({ greeting: z.string().default("hello") }),
  setup(ctx) {
    let seen = 0;
    ctx.events.on("task.created", () => {
      seen++;
    });
    ctx.routes.get("/", (c) => c.json({ plugin: ctx.name, greeting: ctx.config.greeting, tasksSeen: seen }));
    ctx.log.info("ready");
  },
});
`,
    "config.json.example": `{
  "greeting": "\${${name.toUpperCase().replaceAll("-", "_")}_GREETING:-hello}"
}
`,
    "README.md": `# ${name}

What it does, in a sentence or two.

## Configuration

Copy \`config.json.example\` to \`config.json\`. Fields:

- \`greeting\` (string, default \`hello\`): what the route answers with.

## Routes

- \`GET /api/plugins/${name}/\`: the greeting and how many tasks were created since it loaded.

## Test

\`\`\`sh
deno test --allow-read --allow-write --allow-env plugins/${name}/
\`\`\`
`,
    "mod_test.ts": `import assert from "node:assert/strict";
import { createTestHost } from "${base}testing.ts";
import type {} from "${base}plugins/tasks/events.ts";

const PLUGIN = new URL("./mod.ts", import.meta.url).pathname;

Deno.test("${name}: answers with its greeting, counts tasks, unloads clean", async () => {
  await using t = await createTestHost({ plugin: PLUGIN });
  await t.emit("task.created", { taskId: "t1" });
  assert.deepEqual(await (await t.request("/")).json(), { plugin: "${name}", greeting: "hello", tasksSeen: 1 });
  await t.assertUnloadsClean();
});
`,
  };
  await Deno.mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, file), text);
  return Object.keys(files).map((f) => join(dir, f));
}

if (import.meta.main) {
  const name = Deno.args[0];
  const usage = "Usage: deno task new <name>   (lowercase kebab-case, such as my-plugin)";
  if (name === "--help" || name === "-h") {
    console.log(usage);
    Deno.exit(0);
  }
  if (!name || name.startsWith("-") || Deno.args.length > 1) {
    console.error(name ? `new: one plugin name, not ${Deno.args.join(" ")}. ${usage}` : usage);
    Deno.exit(2);
  }
  try {
    const files = await scaffoldPlugin("plugins", name);
    console.log(
      `Created plugin "${name}":\n${
        files.map((f) => `  ${f}`).join("\n")
      }\nRun its test: deno test -A plugins/${name}/`,
    );
  } catch (err) {
    console.error((err as Error).message);
    Deno.exit(1);
  }
}
