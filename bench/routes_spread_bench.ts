/**
 * Route dispatch across fresh processes: a request to a plugin route through
 * `host.fetch` against the same handler on a bare Hono `app.fetch`, each
 * measured by mitata in many new processes with no warm-up of the harness's
 * own (min / median / max), beside the warmed figure of `routes_bench.ts`;
 * with the host's defaults (metrics on), and once with the access log and
 * the metrics off.
 *
 * Run alone: `deno run -A bench/routes_spread_bench.ts [--runs 20] [--json out.json]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Hono } from "hono";
import { createHost, type Host } from "../mod.ts";
import { generatePlugins, PONG } from "./_fixtures.ts";
import type { BenchFn, BenchGroup } from "./_runner.ts";
import { measureSpread, type Spread, spreadTable } from "./_fresh.ts";
import { effort } from "./_effort.ts";

const OURS = "plugboard host.fetch";
const HONO = "bare Hono app.fetch";
let cleanup: (() => Promise<void>) | undefined;

/** The access log and the metrics both off: requests to plugin routes are not timed, counted or logged. */
const UNOBSERVED = { accessLog: false, metrics: false };

async function viaHost(plugins: number, routes: number, observability?: typeof UNOBSERVED): Promise<BenchFn> {
  const dir = await generatePlugins(plugins, routes);
  // The in-process path (the worker path is the isolation group's): what issue 15 measured.
  const dataDir = await Deno.makeTempDir({ prefix: "plugboard-bench-data-" });
  const host: Host = createHost({
    pluginsDir: dir,
    dataDir,
    isolation: "none",
    logger: { level: "silent" },
    observability,
  });
  await host.start();
  cleanup = async () => {
    await host.stop();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(dataDir, { recursive: true });
  };
  const request = new Request(`http://localhost/api/plugins/p${plugins - 1}/r${routes - 1}`);
  return () => host.fetch(request);
}

function viaHono(plugins: number, routes: number): BenchFn {
  const app = new Hono();
  for (let p = 0; p < plugins; p++) {
    for (let r = 0; r < routes; r++) app.get(`/api/plugins/p${p}/r${r}`, (c) => c.text(PONG));
  }
  const request = new Request(`http://localhost/api/plugins/p${plugins - 1}/r${routes - 1}`);
  return () => app.fetch(request);
}

const group = (plugins: number, routes: number, observability?: typeof UNOBSERVED): BenchGroup => ({
  ours: OURS,
  cases: { [OURS]: () => viaHost(plugins, routes, observability), [HONO]: () => viaHono(plugins, routes) },
  teardown: () => cleanup?.(),
});

/** The route groups, measured in fresh processes. */
export const groups: Record<string, BenchGroup> = {
  "route dispatch, 1 plugin with 1 route": group(1, 1),
  "route dispatch, 100 plugins with 5 routes each": group(100, 5),
  "route dispatch, 1 plugin with 1 route, observability off": group(1, 1, UNOBSERVED),
};

/** One group's spreads. */
export interface RouteSpread {
  group: string;
  ours: string;
  cases: { name: string; fresh: Spread }[];
  /** plugboard's slowest fresh process / bare Hono's fresh median. */
  freshWorstToPeerMedian: number;
  /** plugboard's fresh median / bare Hono's fresh median. */
  freshMedianToPeerMedian: number;
}

/**
 * Measures every group across fresh processes (`BENCH_FRESH_RUNS`, default 10; 0 skips them).
 *
 * @param filter only groups whose title matches
 * @param runs processes per contender
 * @returns the spreads
 */
export async function runStandalone(
  filter?: RegExp,
  runs = effort("BENCH_FRESH_RUNS"),
): Promise<RouteSpread[]> {
  const out: RouteSpread[] = [];
  if (runs < 1) {
    console.log("\n• route spreads across fresh processes: skipped (BENCH_FRESH_RUNS=0)");
    return out;
  }
  for (const [title, def] of Object.entries(groups)) {
    if (filter && !filter.test(title)) continue;
    console.log(`\n• ${title}: ${runs} fresh processes per contender, no warm-up`);
    const spreads = await measureSpread(import.meta.url, title, Object.keys(def.cases), runs);
    console.log(spreadTable(title, spreads, OURS));
    const ours = spreads.get(OURS)!;
    const hono = spreads.get(HONO)!;
    out.push({
      group: title,
      ours: OURS,
      cases: [...spreads].map(([name, fresh]) => ({ name, fresh })),
      freshWorstToPeerMedian: ours.max / hono.median,
      freshMedianToPeerMedian: ours.median / hono.median,
    });
  }
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { runs: { type: "string" }, filter: { type: "string" }, json: { type: "string" } },
  });
  const results = await runStandalone(
    values.filter ? new RegExp(values.filter) : undefined,
    values.runs ? Number(values.runs) : undefined,
  );
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2));
}
