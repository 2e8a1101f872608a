/**
 * Runs every JSDoc example of the project in this one test module, each as
 * its own test, as `deno test --doc` would but without paying a module
 * start-up per example (137 of them took most of the suite's time).
 *
 * The examples are type-checked by `deno check --doc` (the first step of
 * `deno task test`); here each is written to `.plugboard/doc_examples/` with
 * its relative imports made absolute, and imported. `deno test --doc` still
 * runs them all one module each.
 *
 * @module
 */

import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { extractExamples } from "./_doc_examples.ts";
import { ROOT_DIR } from "./_helpers.ts";

/** Where examples are looked for: the files `deno test --doc` was given. */
const SOURCES = ["mod.ts", "testing.ts", "plugin.ts", "src", "plugins", "tests"];

const outDir = join(ROOT_DIR, ".plugboard", "doc_examples");
await Deno.remove(outDir, { recursive: true }).catch(() => {});
await Deno.mkdir(outDir, { recursive: true });

let count = 0;
for (const path of await sourceFiles(SOURCES.map((p) => join(ROOT_DIR, p)))) {
  const rel = relative(ROOT_DIR, path);
  for (const example of extractExamples(await Deno.readTextFile(path), path)) {
    const file = join(outDir, `${rel.replaceAll("/", "__")}__${example.start}-${example.end}.ts`);
    await Deno.writeTextFile(file, example.code);
    count++;
    Deno.test(`${rel}#${example.start}-${example.end}`, async () => {
      await import(pathToFileURL(file).href);
    });
  }
}

Deno.test("the doc examples were found", () => {
  // A broken extractor would find none and pass silently.
  if (count < 100) throw new Error(`Found only ${count} doc examples; expected well over 100`);
});

async function sourceFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const info = await Deno.stat(path);
    if (info.isFile) {
      if (/\.tsx?$/.test(path)) out.push(path);
      continue;
    }
    for await (const entry of Deno.readDir(path)) {
      if (entry.name.startsWith(".")) continue;
      out.push(...await sourceFiles([join(path, entry.name)]));
    }
  }
  return out.sort();
}
