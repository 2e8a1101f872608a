/**
 * URL plugins: a 20-module plugin served on 127.0.0.1, loaded by
 * plugboard's fetcher (fetch every module by hand, check, pin, snapshot,
 * import the snapshot) and by Deno's own `import()` of the same URL. Every
 * case runs in a fresh process (Deno caches remote modules in memory and in
 * DENO_DIR), BENCH_REMOTE_RUNS times (default 5); the median is reported.
 *
 * - cold: nothing on disk (plugboard: empty lock and snapshot root; Deno: an empty DENO_DIR)
 * - warm: what the cold run left (plugboard re-fetches and re-checks every module, reuses the snapshot; Deno reads its cache)
 * - offline (plugboard): from plugboard.lock and the snapshot, no network
 * - reload (plugboard, in one process): re-check the graph, copy the snapshot, import the copy; mean of 20
 *
 * Standalone: `deno run -A bench/remote_bench.ts`.
 *
 * @module
 */

import { join } from "node:path";
import { effort } from "./_effort.ts";

/** Modules in the generated plugin. */
export const MODULES = 20;

/** The generated plugin: `mod.js` → 4 `a*.js` → 15 `b*.js`, about 1 KiB each. */
export function pluginFiles(): Record<string, string> {
  const filler = (name: string) =>
    `export function ${name}Work(n) {\n${
      Array.from({ length: 12 }, (_, i) => `  n = (n * ${i + 3} + ${i}) % 1000003; // ${"-".repeat(30)}`).join("\n")
    }\n  return n;\n}\n`;
  const files: Record<string, string> = {};
  const leaves = Array.from({ length: MODULES - 5 }, (_, i) => `b${i}`);
  for (const leaf of leaves) files[`/p/lib/${leaf}.js`] = `${filler(leaf)}export const ${leaf} = 1;\n`;
  for (let a = 0; a < 4; a++) {
    const mine = leaves.filter((_, i) => i % 4 === a);
    files[`/p/a${a}.js`] = mine.map((l) => `import { ${l} } from "./lib/${l}.js";`).join("\n") +
      `\n${filler(`a${a}`)}export const a${a} = ${mine.join(" + ")};\n`;
  }
  files["/p/mod.js"] = `${[0, 1, 2, 3].map((a) => `import { a${a} } from "./a${a}.js";`).join("\n")}\n` +
    `export default { name: "bench-remote", version: "1.0.0", setup() {}, sum: a0 + a1 + a2 + a3 };\n`;
  return files;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function run(args: string[], env: Record<string, string> = {}): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.split("\n").pop()!).ms;
}

const CHILD = new URL("./_remote_child.ts", import.meta.url).pathname;
const DENO_CHILD = `const url = Deno.args[0];
const started = performance.now();
const mod = await import(url);
if (typeof mod.default?.sum !== "number") throw new Error("the plugin did not load");
console.log(JSON.stringify({ ms: performance.now() - started }));
`;

/**
 * Runs the benchmark and prints a table.
 *
 * @param filter runs only when it matches "remote"
 * @returns the medians in ms, by case
 */
export async function runStandalone(filter?: RegExp): Promise<unknown> {
  if (filter && !filter.test("remote")) return undefined;
  const runs = Math.max(1, effort("BENCH_REMOTE_RUNS"));
  const files = pluginFiles();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const body = files[new URL(req.url).pathname];
    return body === undefined
      ? new Response("not found", { status: 404 })
      : new Response(body, { headers: { "content-type": "text/javascript" } });
  });
  const url = `http://127.0.0.1:${server.addr.port}/p/mod.js`;
  const tmp = await Deno.makeTempDir({ prefix: "plugboard-remote-bench-" });
  const denoScript = join(tmp, "deno_child.mjs");
  await Deno.writeTextFile(denoScript, DENO_CHILD);
  const ours = (mode: string, dir: string) => [
    "run",
    "--no-lock",
    "--allow-read",
    "--allow-write",
    `--allow-net=127.0.0.1`,
    CHILD,
    mode,
    url,
    join(dir, "remote"),
    join(dir, "plugboard.lock"),
  ];
  const denos = ["run", "--no-config", "--no-lock", "--allow-import=127.0.0.1", denoScript, url];
  const times: Record<string, number[]> = {
    "plugboard cold": [],
    "deno import() cold": [],
    "plugboard warm (re-check)": [],
    "deno import() warm (cache)": [],
    "plugboard offline": [],
    "plugboard reload (in process)": [],
  };
  try {
    for (let i = 0; i < runs; i++) {
      const dir = join(tmp, `run${i}`);
      await Deno.mkdir(dir);
      const denoDir = { DENO_DIR: join(dir, "deno_dir") };
      times["plugboard cold"].push(await run(ours("cold", dir)));
      times["deno import() cold"].push(await run(denos, denoDir));
      times["plugboard warm (re-check)"].push(await run(ours("warm", dir)));
      times["deno import() warm (cache)"].push(await run(denos, denoDir));
      times["plugboard offline"].push(await run(ours("offline", dir)));
      times["plugboard reload (in process)"].push(await run(ours("reload", dir)));
    }
  } finally {
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
  const results = Object.fromEntries(Object.entries(times).map(([name, values]) => [name, median(values)]));
  console.log(`\n• URL plugin, ${MODULES} modules on 127.0.0.1 (median of ${runs} fresh processes)`);
  for (const [name, ms] of Object.entries(results)) console.log(`${name.padEnd(32)} ${ms.toFixed(1).padStart(8)} ms`);
  console.log(
    `summary\n  cold: plugboard ${
      (results["plugboard cold"] / results["deno import() cold"]).toFixed(2)
    }x Deno's import()` +
      `\n  warm: plugboard re-check ${
        (results["plugboard warm (re-check)"] / results["deno import() warm (cache)"]).toFixed(2)
      }x Deno's cached import()`,
  );
  return { modules: MODULES, runs, results };
}

if (import.meta.main) await runStandalone();
