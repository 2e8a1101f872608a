/**
 * Startup: a cold `host.start()` (fresh process, nothing cached in memory)
 * over 10, 100 and 1,000 generated plugins, each with one route, in-process
 * (`isolation: "none"`); and over 10 and 100 in workers (the default: a
 * worker per plugin; 1,000 workers would need ~20 GB here; BENCH_STARTUP_WORKERS
 * caps the count, 10 in a quick run); and over 10 and 100 sandboxed, each in its
 * own process (the same cap), whose RSS adds the plugins' processes (read with
 * `ps`). Each size runs BENCH_STARTUP_RUNS times
 * (default 3); the median is reported, with the time per plugin to show how it
 * grows and the process's RSS once started.
 *
 * The floor under the workers, in the same run: as many empty workers
 * (`_empty_workers.ts`), started together in a fresh process, each run right
 * after a run of plugboard's of the same size. Both report the process's RSS
 * growth from before the start to once the workers idle, divided by their
 * count; the ratios of the start time and of that growth are the goals of
 * issue 25 (≤ 1.2 and ≤ 1.3).
 *
 * @module
 */

import { runChild } from "./_child.ts";
import { generatePlugins } from "./_fixtures.ts";
import { effort } from "./_effort.ts";
import {
  type EmptyWorkersRatio,
  emptyWorkersRatio,
  type EmptyWorkersResult,
  emptyWorkersResult,
  type EmptyWorkersRun,
  emptyWorkersRun,
} from "./_empty_workers.ts";

/** Plugin counts measured in-process. */
export const SIZES = [10, 100, 1000];
/** Plugin counts measured in workers. */
export const WORKER_SIZES = [1, 10, 100];

/** One size's figures. */
export interface StartupResult {
  /** How many plugins. */
  plugins: number;
  /** Median `host.start()`, in ms. */
  ms: number;
  /** ms / plugins. */
  msPerPlugin: number;
  /** The process's RSS once started (of the median run), in bytes. */
  rss?: number;
  /** Plugins that failed to load in the median run (none is the expectation). */
  failed?: number;
  /** Sandboxed plugins: the sum of their processes' RSS (of the median run), in bytes. */
  childRss?: number;
  /** (rss + childRss) / plugins, in bytes. */
  rssPerPlugin?: number;
  /**
   * In workers: the median of the process's RSS growth from before `host.start()` to once the plugins idle,
   * divided by the plugins, in bytes (measured as for the empty workers).
   */
  rssGrowthPerPlugin?: number;
}

/** What the group returns. */
export interface StartupResults {
  /** In-process, per size. */
  results: StartupResult[];
  /** In workers, per size. */
  workers: StartupResult[];
  /** As many empty workers as each size in workers: the floor. */
  emptyWorkers: EmptyWorkersResult[];
  /** plugboard's workers against the empty ones, per size. */
  vsEmptyWorkers: EmptyWorkersRatio[];
  /** Sandboxed, per size. */
  sandboxes: StartupResult[];
}

/** One cold start's figures. */
interface ColdStart {
  ms: number;
  rss: number;
  childRss: number;
  failed: number;
  /** In workers: RSS before the start and once idle. */
  rssBefore?: number;
  rssIdle?: number;
}

type Mode = "none" | "worker" | "sandbox";

/** What `_startup_child.ts` prints. */
interface StartupChildResult {
  ms: number;
  rss: number;
  childRss?: number;
  failed: number;
  plugins: number;
  rssBefore?: number;
  rssIdle?: number;
}

async function coldStart(dir: string, isolation: Mode): Promise<ColdStart> {
  const r = await runChild<StartupChildResult>(
    [
      "run",
      "--v8-flags=--expose-gc",
      "--unstable-worker-options",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run=prlimit,ps",
      new URL("./_startup_child.ts", import.meta.url).pathname,
      dir,
      isolation,
    ],
    `Cold start of ${dir} (${isolation})`,
  );
  if (r.failed) console.log(`  warning: ${r.failed} of ${r.plugins} generated plugins failed to load (${isolation})`);
  return {
    ms: r.ms,
    rss: r.rss,
    childRss: r.childRss ?? 0,
    failed: r.failed,
    ...(r.rssIdle !== undefined ? { rssBefore: r.rssBefore, rssIdle: r.rssIdle } : {}),
  };
}

const LABELS: Record<Mode, string> = { none: "in-process ", worker: "in workers ", sandbox: "sandboxed  " };

const MiB = (bytes: number, digits = 0) => `${(bytes / 2 ** 20).toFixed(digits)} MiB`;

/** What `measure` found; the floor's lists are filled in workers only. */
interface Measured {
  results: StartupResult[];
  emptyWorkers: EmptyWorkersResult[];
  vsEmptyWorkers: EmptyWorkersRatio[];
}

async function measure(sizes: number[], runs: number, isolation: Mode): Promise<Measured> {
  const out: Measured = { results: [], emptyWorkers: [], vsEmptyWorkers: [] };
  for (const size of sizes) {
    const dir = await generatePlugins(size, 1);
    try {
      const times: ColdStart[] = [];
      const floor: EmptyWorkersRun[] = [];
      for (let i = 0; i < runs; i++) {
        times.push(await coldStart(dir, isolation));
        // In workers, each run is followed by a run of as many empty workers: the two see the same machine.
        if (isolation === "worker") floor.push(await emptyWorkersRun(size));
      }
      const growth = times.flatMap((t) => t.rssIdle === undefined ? [] : [(t.rssIdle - t.rssBefore!) / size]);
      const sorted = [...times].sort((a, b) => a.ms - b.ms);
      const { ms, rss, childRss, failed } = sorted[Math.floor(runs / 2)];
      const rssPerPlugin = (rss + childRss) / size;
      const result: StartupResult = {
        plugins: size,
        ms,
        msPerPlugin: ms / size,
        rss,
        rssPerPlugin,
        ...(childRss ? { childRss } : {}),
        ...(failed ? { failed } : {}),
        ...(growth.length
          ? { rssGrowthPerPlugin: [...growth].sort((a, b) => a - b)[Math.floor(growth.length / 2)] }
          : {}),
      };
      out.results.push(result);
      console.log(
        `${String(size).padStart(5)} plugins ${LABELS[isolation]} ${ms.toFixed(1).padStart(9)} ms   ${
          (ms / size).toFixed(3)
        } ms per plugin   RSS ${MiB(rss + childRss)} (${MiB(rssPerPlugin, 1)} per plugin${
          result.rssGrowthPerPlugin ? `; growth once idle ${MiB(result.rssGrowthPerPlugin, 1)} per plugin` : ""
        })`,
      );
      if (floor.length) {
        const empty = emptyWorkersResult(size, floor);
        out.emptyWorkers.push(empty);
        out.vsEmptyWorkers.push(
          emptyWorkersRatio(size, times.map((t, i) => ({ ms: t.ms, rssPerPlugin: growth[i] })), floor),
        );
        console.log(
          `${String(size).padStart(5)} ${"empty workers".padEnd(19)} ${empty.ms.toFixed(1).padStart(9)} ms   ${
            (empty.ms / size).toFixed(3)
          } ms per worker   growth once idle ${MiB(empty.rssPerWorker, 1)} per worker`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  return out;
}

/**
 * Runs the startup benchmark.
 *
 * @param filter runs only when it matches "startup"
 * @returns the median milliseconds per size, and the empty workers beside those in workers
 */
export async function runStandalone(filter?: RegExp): Promise<StartupResults | undefined> {
  if (filter && !filter.test("startup")) return undefined;
  const runs = Math.max(1, effort("BENCH_STARTUP_RUNS"));
  console.log(`\n• cold host.start() (median of ${runs} fresh processes)`);
  const { results } = await measure(SIZES, runs, "none");
  const isolatedSizes = WORKER_SIZES.filter((n) => n <= effort("BENCH_STARTUP_WORKERS"));
  const { results: workers, emptyWorkers, vsEmptyWorkers } = await measure(isolatedSizes, runs, "worker");
  const { results: sandboxes } = await measure(isolatedSizes, runs, "sandbox");
  const growth = results[results.length - 1].ms / results[1].ms;
  console.log(`summary\n  in-process, 1,000 plugins take ${growth.toFixed(1)}x the time of 100 (linear would be 10x)`);
  for (const r of vsEmptyWorkers) {
    console.log(
      `  in workers, ${r.plugins} plugins: start ${r.startRatio.toFixed(2)}x of ${r.plugins} empty workers'${
        r.plugins === 100 ? " (goal ≤ 1.2)" : ""
      }, ` +
        `RSS per plugin ${r.rssRatio.toFixed(2)}x an empty worker's (goal ≤ 1.3)`,
    );
  }
  return { results, workers, emptyWorkers, vsEmptyWorkers, sandboxes };
}
