/**
 * The shape of `src/`: its modules import one another one way (no circle,
 * type imports included), and no source file grows past 400 lines.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { denoCommand, ROOT_DIR } from "./_helpers.ts";

const SRC = join(ROOT_DIR, "src");
const MAX_LINES = 400;
/** Every entry point into src/, the worker's included (it is loaded by URL, not imported). */
const ENTRIES = ["mod.ts", "plugin.ts", "testing.ts", "main.ts", "serve.ts", "src/runtime/worker_main.ts"];

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

/** The import graph among src/ files, from `deno info --json`. */
async function srcGraph(): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  const prefix = new URL("../src/", import.meta.url).href;
  for (const entry of ENTRIES) {
    const out = await denoCommand("info", ["--json", join(ROOT_DIR, entry)]).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    for (const m of info.modules) {
      if (!m.specifier.startsWith(prefix)) continue;
      const from = m.specifier.slice(prefix.length);
      const deps = graph.get(from) ?? new Set<string>();
      for (const d of m.dependencies ?? []) {
        for (const to of [d.code?.specifier, d.type?.specifier]) {
          if (to?.startsWith(prefix)) deps.add(to.slice(prefix.length));
        }
      }
      graph.set(from, deps);
    }
  }
  return graph;
}

/** One circle of imports, if any: the files in order, the first repeated at the end. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return undefined;
}

Deno.test("structure: no circle of imports among src/ files, type imports included", async () => {
  const graph = await srcGraph();
  assert.ok(graph.size > 50, `the graph covers src/ (${graph.size} files)`);
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `src/ imports go round: ${cycle?.join(" → ")}`);
});

Deno.test("structure: findCycle() finds a circle and only a circle", () => {
  const g = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));
  assert.deepEqual(findCycle(g({ a: ["b"], b: ["c"], c: ["a"] })), ["a", "b", "c", "a"]);
  assert.equal(findCycle(g({ a: ["b", "c"], b: ["c"], c: [] })), undefined);
});

Deno.test(`structure: no src/ file over ${MAX_LINES} lines`, async () => {
  const long: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) {
        const lines = (await Deno.readTextFile(path)).split("\n").length - 1;
        if (lines > MAX_LINES) long.push(`${relative(ROOT_DIR, path)} (${lines})`);
      }
    }
  };
  await walk(SRC);
  assert.deepEqual(long.sort(), [], "split these files by concern");
});
