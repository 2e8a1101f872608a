/**
 * The spread across fresh processes: each case of a group measured by
 * mitata in many new processes, with no warm-up of the harness's own, and
 * reported as min / median / max of mitata's average per process.
 *
 * Why: the warmed figure (`_isolate.ts` in `warm` mode, median of three
 * processes) is what code reaches at V8's top tier; a process that has just
 * started may not be there, and may never get there (a deoptimisation loop
 * keeps some code slow for the life of the process). That is what these
 * runs look for.
 *
 * How: mitata's `measure`, with its choice of timing mode made after its two
 * warm-up calls rather than on its first call alone. Left to decide on the
 * first call, mitata times every later call one by one, timer included,
 * whenever that one call took over 0.5 ms (compiling, a page fault: it
 * happened in 1 to 3 of 10 processes for plugboard and tseep alike here), and
 * reports ~90 ns for an emit that takes 9. Each run still records whether
 * mitata batched.
 *
 * @module
 */

import { formatNs, measureInProcess } from "./_runner.ts";

/** How a case did across fresh processes, in nanoseconds (mitata's average per process). */
export interface Spread {
  /** Each process's average, in run order. */
  runs: number[];
  min: number;
  median: number;
  max: number;
  /** Processes in which mitata timed calls one by one (even its warm-up calls were slow). */
  unbatched: number;
}

/** One measuring process's figure. */
export interface FreshRun {
  avg: number;
  batched: boolean;
}

/**
 * Runs `_isolate.ts` once.
 *
 * @param module the benchmark module's URL
 * @param group the group's title
 * @param name the case's name
 * @param mode `fresh` (mitata, no warm-up) or `first` (the first call alone)
 * @returns the process's figure
 * @throws {Error} if the process printed no result or reported an error
 */
export async function measureOnce(
  module: string,
  group: string,
  name: string,
  mode: "fresh" | "first",
): Promise<FreshRun> {
  const data = await measureInProcess(module, group, name, mode);
  return { avg: data.stats.avg, batched: data.batched ?? true };
}

/**
 * Summarises runs.
 *
 * @param runs the figures of each process
 * @returns min, median and max
 */
export function spreadOf(runs: readonly FreshRun[]): Spread {
  const sorted = runs.map((r) => r.avg).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return {
    runs: runs.map((r) => r.avg),
    min: sorted[0],
    median: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    max: sorted[sorted.length - 1],
    unbatched: runs.filter((r) => !r.batched).length,
  };
}

/**
 * Measures each case of a group in `runs` fresh processes, interleaving the
 * cases so that a change in the machine's load affects them alike.
 *
 * @param module the benchmark module's URL
 * @param group the group's title
 * @param names the cases to measure
 * @param runs processes per case
 * @returns each case's spread
 */
export async function measureSpread(
  module: string,
  group: string,
  names: readonly string[],
  runs: number,
): Promise<Map<string, Spread>> {
  const all = new Map<string, FreshRun[]>(names.map((n) => [n, []]));
  for (let i = 0; i < runs; i++) {
    for (const name of names) all.get(name)!.push(await measureOnce(module, group, name, "fresh"));
  }
  return new Map([...all].map(([name, list]) => [name, spreadOf(list)]));
}

/**
 * Formats a group's spreads as a Markdown table, with each case's ratio to
 * the fastest other case's median.
 *
 * @param title the group's title
 * @param spreads each case's spread
 * @param ours the case the ratios are about
 * @param warmed each case's warmed average, when known
 * @returns the table
 */
export function spreadTable(
  title: string,
  spreads: ReadonlyMap<string, Spread>,
  ours: string,
  warmed?: ReadonlyMap<string, number>,
): string {
  const rows = [...spreads].sort((a, b) => a[1].median - b[1].median);
  const n = rows[0]?.[1].runs.length ?? 0;
  const lines = [
    `**${title}**, ${n} fresh processes per contender`,
    "",
    `| contender | min | median | max | unbatched runs | warmed avg |`,
    `| --- | ---: | ---: | ---: | ---: | ---: |`,
  ];
  for (const [name, s] of rows) {
    const w = warmed?.get(name);
    lines.push(
      `| ${name === ours ? `**${name}**` : name} | ${formatNs(s.min)} | ${formatNs(s.median)} | ${
        formatNs(s.max)
      } | ${s.unbatched} | ${w === undefined ? "" : formatNs(w)} |`,
    );
  }
  const mine = spreads.get(ours);
  const peers = rows.filter(([name]) => name !== ours);
  if (mine && peers.length) {
    const [peer, best] = peers[0];
    lines.push(
      "",
      `${ours} against ${peer}'s median: slowest process ${(mine.max / best.median).toFixed(2)}x, median ${
        (mine.median / best.median).toFixed(2)
      }x`,
    );
  }
  return lines.join("\n");
}
