/**
 * The startup group's floor: N empty workers started together in a fresh
 * process (`_empty_workers_child.ts`), and plugboard's isolated plugins
 * against them as ratios (start time, RSS growth per worker).
 *
 * @module
 */

import { median, runChild } from "./_child.ts";

/** One run of N empty workers. */
export interface EmptyWorkersRun {
  /** From the first `new Worker` until every worker has answered, in ms. */
  ms: number;
  /** The process's RSS before the workers start, in bytes (`_settled_rss.ts`). */
  rssBefore: number;
  /** The same once they idle. */
  rssIdle: number;
}

/** The median figures of N empty workers. */
export interface EmptyWorkersResult {
  /** How many workers. */
  workers: number;
  /** Median time until all answered, in ms. */
  ms: number;
  /** Median of (rssIdle - rssBefore) / workers, in bytes. */
  rssPerWorker: number;
  /** Each run's time, in the order they ran. */
  runs: number[];
}

/** plugboard's isolated plugins against as many empty workers, each run of one beside a run of the other. */
export interface EmptyWorkersRatio {
  /** How many plugins, and empty workers. */
  plugins: number;
  /** plugboard's median `host.start()` / the empty workers' median time (goal ≤ 1.2). */
  startRatio: number;
  /** Half the range of the per-run ratios (run i against run i), relative to startRatio. */
  startSpread: number;
  /** plugboard's RSS growth per plugin / an empty worker's, medians (goal ≤ 1.3). */
  rssRatio: number;
  /** Half the range of the per-run ratios, relative to rssRatio. */
  rssSpread: number;
}

/**
 * Starts N empty workers in a fresh process.
 *
 * @param count how many
 * @returns the run's figures
 * @throws {Error} when the process printed no result
 */
export function emptyWorkersRun(count: number): Promise<EmptyWorkersRun> {
  const script = new URL("./_empty_workers_child.ts", import.meta.url).pathname;
  return runChild(
    [
      "run",
      "--v8-flags=--expose-gc",
      "--unstable-worker-options",
      "--allow-read",
      "--allow-write",
      script,
      String(count),
    ],
    `${count} empty workers`,
  );
}

const halfRange = (xs: number[], of: number) => (Math.max(...xs) - Math.min(...xs)) / 2 / of;

/**
 * The median figures of a size's runs.
 *
 * @param count how many workers each run started
 * @param runs the runs
 * @returns the medians
 */
export function emptyWorkersResult(count: number, runs: EmptyWorkersRun[]): EmptyWorkersResult {
  return {
    workers: count,
    ms: median(runs.map((r) => r.ms)),
    rssPerWorker: median(runs.map((r) => (r.rssIdle - r.rssBefore) / count)),
    runs: runs.map((r) => r.ms),
  };
}

/**
 * plugboard's runs against the empty workers' runs of the same size, made in turn.
 *
 * @param plugins how many plugins (and workers)
 * @param ours plugboard's runs: `host.start()` ms and RSS growth per plugin
 * @param floor the empty workers' runs, in the same order
 * @returns the ratios and their spreads
 */
export function emptyWorkersRatio(
  plugins: number,
  ours: { ms: number; rssPerPlugin: number }[],
  floor: EmptyWorkersRun[],
): EmptyWorkersRatio {
  const floorRss = floor.map((r) => (r.rssIdle - r.rssBefore) / plugins);
  const startRatio = median(ours.map((r) => r.ms)) / median(floor.map((r) => r.ms));
  const rssRatio = median(ours.map((r) => r.rssPerPlugin)) / median(floorRss);
  const pairs = ours.map((r, i) => [r, i] as const).filter(([, i]) => i < floor.length);
  return {
    plugins,
    startRatio,
    startSpread: halfRange(pairs.map(([r, i]) => r.ms / floor[i].ms), startRatio),
    rssRatio,
    rssSpread: halfRange(pairs.map(([r, i]) => r.rssPerPlugin / floorRss[i]), rssRatio),
  };
}
