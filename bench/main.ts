/**
 * `deno task bench`: every benchmark, side by side with the peers, in one
 * run.
 *
 * - `--json <file>` also writes the results;
 * - `--docs` writes them to bench/results.json (or `--json`'s file) and
 *   regenerates the tables of BENCHMARKS.md and the README's summary: the
 *   full run behind the docs is `deno task bench --docs`;
 * - `--compare <file>` then compares the run with those results and flags
 *   the ratios that got worse beyond their noise band (exit code 1 if any);
 *   with `--against <file>` it compares two files without running;
 * - `--filter <regex>` picks groups, `--only events,http` picks modules.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runModule } from "./_runner.ts";
import { compare, printComparison } from "./compare.ts";
import { BUSY_LOAD, writeDocs } from "./report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "string" },
    filter: { type: "string" },
    only: { type: "string" },
    compare: { type: "string" },
    against: { type: "string" },
    docs: { type: "boolean" },
  },
});

/** The effort variables and their defaults (the full run). */
export const EFFORT_DEFAULTS: Record<string, number> = {
  BENCH_REPEATS: 3,
  BENCH_HTTP_SECONDS: 5,
  BENCH_HTTP_ROUNDS: 3,
  BENCH_STARTUP_RUNS: 3,
  BENCH_SAVES: 30,
  BENCH_RELOADS: 500,
  BENCH_WORKER_RELOADS: 1000,
};

/** What the machine is and how busy it was. */
async function machine(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { cores: navigator.hardwareConcurrency, deno: Deno.version };
  const reduced = Object.entries(EFFORT_DEFAULTS).filter(([k, v]) => Number(Deno.env.get(k) ?? v) < v);
  if (reduced.length) out.reducedEffort = Object.fromEntries(reduced.map(([k]) => [k, Number(Deno.env.get(k))]));
  try {
    // Deno reads /proc only with --allow-all: ask cat.
    const text = new TextDecoder().decode((await new Deno.Command("cat", { args: ["/proc/cpuinfo"] }).output()).stdout);
    const cpu = text.match(/^model name\s*:\s*(.+)$/m);
    if (cpu) out.cpu = cpu[1].trim();
  } catch { /* not Linux */ }
  try {
    out.os = `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`;
    out.memoryGiB = Math.round(Deno.systemMemoryInfo().total / 2 ** 30);
    out.loadAverageAtStart = Deno.loadavg();
  } catch { /* no --allow-sys */ }
  return out;
}

if (values.against) {
  if (!values.compare) throw new TypeError("--against <file> needs --compare <file>: the baseline");
  const rows = compare(
    JSON.parse(await Deno.readTextFile(values.compare)),
    JSON.parse(await Deno.readTextFile(values.against)),
  );
  Deno.exit(printComparison(rows, { before: values.compare, after: values.against }) ? 1 : 0);
}

if (values.docs && (values.only || values.filter)) {
  throw new TypeError("--docs regenerates the docs from one full run: drop --only and --filter");
}

const baseline = values.compare ? JSON.parse(await Deno.readTextFile(values.compare)) : undefined;
const info = await machine();
const load = (info.loadAverageAtStart as number[] | undefined)?.[0];
if (load !== undefined && load > BUSY_LOAD) {
  console.log(`warning: the 1-minute load average is ${load.toFixed(2)}: other work is running, figures will be noisy`);
}
const filter = values.filter ? new RegExp(values.filter) : undefined;
const modules = ["events", "routes", "routes_spread", "isolation", "startup", "reload", "http", "remote"].filter((m) =>
  !values.only || values.only.split(",").includes(m)
);
const started = performance.now();
const results: Record<string, unknown> = {};
for (const name of modules) {
  const url = new URL(`./${name}_bench.ts`, import.meta.url).href;
  const mod = await import(url);
  try {
    results[name] = typeof mod.runStandalone === "function"
      ? await mod.runStandalone(filter)
      : await runModule(url, filter);
  } catch (error) {
    // One failing module must not lose the others' figures: record it and go on.
    console.log(`\n${name} failed: ${(error as Error)?.stack ?? error}`);
    results[name] = { error: String((error as Error)?.message ?? error) };
  }
}
try {
  info.loadAverageAtEnd = Deno.loadavg();
} catch { /* no --allow-sys */ }
info.minutes = Number(((performance.now() - started) / 60_000).toFixed(1));
const data = { deno: Deno.version.deno, date: new Date().toISOString(), machine: info, results };
const jsonPath = values.json ?? (values.docs ? "bench/results.json" : undefined);
if (jsonPath) {
  await Deno.writeTextFile(jsonPath, JSON.stringify(data, null, 2) + "\n");
  console.log(`\nWrote ${jsonPath}`);
}
const failed = Object.entries(results).filter(([, r]) => r && typeof r === "object" && "error" in r);
if (failed.length) console.log(`\nThese modules failed: ${failed.map(([name]) => name).join(", ")}`);
if (values.docs && failed.length) {
  console.log("The docs were not regenerated: --docs needs every module's figures");
} else if (values.docs) {
  for (const file of await writeDocs(data)) console.log(`Regenerated the tables of ${file}`);
}
if (baseline) {
  const worse = printComparison(compare(baseline, data), { before: values.compare!, after: "this run" });
  if (worse) Deno.exit(1);
}
if (failed.length) Deno.exit(1);
