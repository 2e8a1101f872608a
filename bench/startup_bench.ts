/**
 * Startup: a cold `host.start()` (fresh process, nothing cached in memory)
 * over 10, 100 and 1,000 generated plugins, each with one route. Each size
 * runs BENCH_STARTUP_RUNS times (default 3); the median is reported, with the
 * time per plugin to show how it grows.
 *
 * @module
 */

import { generatePlugins } from "./_fixtures.ts";

/** Plugin counts measured. */
export const SIZES = [10, 100, 1000];

async function coldStart(dir: string): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      new URL("./_startup_child.ts", import.meta.url).pathname,
      dir,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  if (r.failed) throw new Error(`${r.failed} generated plugins failed to load`);
  return r.ms;
}

/**
 * Runs the startup benchmark.
 *
 * @returns the median milliseconds per size
 */
export async function runStandalone(filter?: RegExp): Promise<unknown> {
  if (filter && !filter.test("startup")) return undefined;
  const runs = Number(Deno.env.get("BENCH_STARTUP_RUNS") ?? 3);
  console.log(`\n• cold host.start() (median of ${runs} fresh processes)`);
  const results = [];
  for (const size of SIZES) {
    const dir = await generatePlugins(size, 1);
    try {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await coldStart(dir));
      times.sort((a, b) => a - b);
      const ms = times[Math.floor(runs / 2)];
      results.push({ plugins: size, ms, msPerPlugin: ms / size });
      console.log(
        `${String(size).padStart(5)} plugins  ${ms.toFixed(1).padStart(8)} ms   ${
          (ms / size).toFixed(3)
        } ms per plugin`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  const growth = results[results.length - 1].ms / results[1].ms;
  console.log(`summary\n  1,000 plugins take ${growth.toFixed(1)}x the time of 100 (linear would be 10x)`);
  return { results };
}
