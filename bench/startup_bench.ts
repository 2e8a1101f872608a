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
 * @module
 */

import { generatePlugins } from "./_fixtures.ts";
import { effort } from "./_effort.ts";

/** Plugin counts measured in-process. */
export const SIZES = [10, 100, 1000];
/** Plugin counts measured in workers. */
export const WORKER_SIZES = [10, 100];

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
}

type Mode = "none" | "worker" | "sandbox";

async function coldStart(
  dir: string,
  isolation: Mode,
): Promise<{ ms: number; rss: number; childRss: number; failed: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-worker-options",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run=prlimit,ps",
      new URL("./_startup_child.ts", import.meta.url).pathname,
      dir,
      isolation,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  if (r.failed) console.log(`  warning: ${r.failed} of ${r.plugins} generated plugins failed to load (${isolation})`);
  return { ms: r.ms, rss: r.rss, childRss: r.childRss ?? 0, failed: r.failed };
}

const LABELS: Record<Mode, string> = { none: "in-process ", worker: "in workers ", sandbox: "sandboxed  " };

async function measure(sizes: number[], runs: number, isolation: Mode): Promise<StartupResult[]> {
  const results: StartupResult[] = [];
  for (const size of sizes) {
    const dir = await generatePlugins(size, 1);
    try {
      const times: { ms: number; rss: number; childRss: number; failed: number }[] = [];
      for (let i = 0; i < runs; i++) times.push(await coldStart(dir, isolation));
      times.sort((a, b) => a.ms - b.ms);
      const { ms, rss, childRss, failed } = times[Math.floor(runs / 2)];
      const rssPerPlugin = (rss + childRss) / size;
      results.push({
        plugins: size,
        ms,
        msPerPlugin: ms / size,
        rss,
        rssPerPlugin,
        ...(childRss ? { childRss } : {}),
        ...(failed ? { failed } : {}),
      });
      console.log(
        `${String(size).padStart(5)} plugins ${LABELS[isolation]} ${ms.toFixed(1).padStart(9)} ms   ${
          (ms / size).toFixed(3)
        } ms per plugin   RSS ${((rss + childRss) / 2 ** 20).toFixed(0)} MiB (${
          (rssPerPlugin / 2 ** 20).toFixed(1)
        } MiB per plugin)`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  return results;
}

/**
 * Runs the startup benchmark.
 *
 * @returns the median milliseconds per size
 */
export async function runStandalone(filter?: RegExp): Promise<unknown> {
  if (filter && !filter.test("startup")) return undefined;
  const runs = Math.max(1, effort("BENCH_STARTUP_RUNS"));
  console.log(`\n• cold host.start() (median of ${runs} fresh processes)`);
  const results = await measure(SIZES, runs, "none");
  const isolatedSizes = WORKER_SIZES.filter((n) => n <= effort("BENCH_STARTUP_WORKERS"));
  const workers = await measure(isolatedSizes, runs, "worker");
  const sandboxes = await measure(isolatedSizes, runs, "sandbox");
  const growth = results[results.length - 1].ms / results[1].ms;
  console.log(`summary\n  in-process, 1,000 plugins take ${growth.toFixed(1)}x the time of 100 (linear would be 10x)`);
  return { results, workers, sandboxes };
}
