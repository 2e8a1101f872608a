/**
 * Runs benchmark groups side by side: every case of a group is measured by
 * mitata in its own fresh process, one after another in the same run, and
 * the group ends with a summary of ratios against plugboard.
 *
 * @module
 */

import { effort, effortList } from "./_effort.ts";

/** A benchmark body; it may be async. */
export type BenchFn = () => unknown;

/** One group of contenders measured on the same work. */
export interface BenchGroup {
  /** The contender the ratios are about. */
  ours: string;
  /** Builds each contender's benchmark body (runs in the measuring process). */
  cases: Record<string, () => BenchFn | Promise<BenchFn>>;
  /** Cleans up after a case (in the measuring process). */
  teardown?: () => unknown;
}

/** A module of benchmark groups. */
export interface BenchModule {
  groups: Record<string, BenchGroup>;
}

/** The statistics of one case, in nanoseconds. */
export interface CaseResult {
  name: string;
  avg: number;
  min: number;
  max: number;
  p50: number;
  p75: number;
  p99: number;
  /** The average of each measurement (one per repeat, in the order they ran). */
  runs?: number[];
}

/** One group's results. */
export interface GroupResult {
  group: string;
  ours: string;
  cases: CaseResult[];
  /** ours.avg / fastest other.avg: below 1 means plugboard is faster. */
  ratioToFastestPeer: number | null;
  fastestPeer: string | null;
  /**
   * Half the range of ours.avg / fastestPeer.avg over the repeats (repeat i of
   * one against repeat i of the other), relative to the ratio: 0.1 = ±10%.
   */
  spread?: number;
}

let printedHeader = false;

/** The flags each measuring process gets: those of `deno task bench`, and worker options for isolated plugins. */
const FLAGS = [
  "--unstable-worker-options",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net=127.0.0.1",
  "--allow-import=127.0.0.1",
  "--allow-run",
];

/**
 * The cases of a group to measure: plugboard's and the named peers, or every
 * case when none of the group's peers is named.
 *
 * @param def the group
 * @param peers the peers to keep (`BENCH_PEERS`); every peer when undefined
 * @returns the cases' names, in the group's order
 */
export function casesToMeasure(def: BenchGroup, peers: readonly string[] | undefined): string[] {
  const names = Object.keys(def.cases);
  if (!peers) return names;
  const kept = names.filter((n) => n === def.ours || peers.includes(n));
  return kept.length > 1 ? kept : names;
}

/**
 * Measures one case in its own process (`_isolate.ts`) and returns what it printed.
 *
 * @param module the benchmark module's URL
 * @param group the group's title
 * @param name the case
 * @param mode `warm` (default), `fresh` or `first` (see `_isolate.ts`)
 * @returns the process's result
 * @throws {Error} if the process printed no result or reported an error
 */
export async function measureInProcess(
  module: string,
  group: string,
  name: string,
  mode: "warm" | "fresh" | "first" = "warm",
): Promise<{ printed: string; stats: Omit<CaseResult, "name">; batched?: boolean }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...FLAGS, new URL("./_isolate.ts", import.meta.url).pathname, module, group, name, mode],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`${group} / ${name}: the measuring process printed no result (exit ${out.code})`);
  }
  if (!data.ok) throw new Error(`${group} / ${name}: ${data.error}`);
  return data;
}

/**
 * Formats nanoseconds the way mitata does.
 *
 * @param ns a duration in nanoseconds
 * @returns text such as `12.3 ns` or `1.20 µs`
 */
export function formatNs(ns: number): string {
  if (ns < 1) return `${(ns * 1000).toFixed(0)} ps`;
  if (ns < 1_000) return `${ns.toFixed(2)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`;
  return `${(ns / 1_000_000).toFixed(2)} ms`;
}

/**
 * Measures every group of a module, printing mitata's table for each case
 * and a ratio summary per group.
 *
 * @param module the module's URL
 * @param filter only groups whose title matches
 * @returns the results
 */
export async function runModule(module: string, filter?: RegExp): Promise<GroupResult[]> {
  const mod: BenchModule = await import(module);
  const out: GroupResult[] = [];
  const repeats = Math.max(1, effort("BENCH_REPEATS"));
  for (const [group, def] of Object.entries(mod.groups)) {
    if (filter && !filter.test(group)) continue;
    console.log(`\n• ${group}`);
    // Each case is measured BENCH_REPEATS times, interleaved with the others,
    // and the median run is kept: single runs of a JIT-compiled function vary
    // by tens of percent from one process to the next.
    const runs = new Map<string, { printed: string; stats: Omit<CaseResult, "name"> }[]>();
    const names = casesToMeasure(def, effortList("BENCH_PEERS"));
    for (let rep = 0; rep < repeats; rep++) {
      for (const name of names) {
        const r = await measureInProcess(module, group, name);
        runs.set(name, [...(runs.get(name) ?? []), r]);
      }
    }
    const cases: CaseResult[] = [];
    for (const [name, list] of runs) {
      const r = [...list].sort((a, b) => a.stats.avg - b.stats.avg)[Math.floor(list.length / 2)];
      const lines = r.printed.split("\n");
      // mitata prints clk/cpu/runtime and the column header first: show them once.
      const start = lines.findIndex((l) => l.startsWith("-----"));
      if (start >= 0 && !printedHeader) {
        console.log(lines.slice(0, start + 1).join("\n"));
        printedHeader = true;
      }
      console.log(lines.slice(start + 1).filter((l) => l.trim()).join("\n"));
      cases.push({ name, ...r.stats, runs: list.map((x) => x.stats.avg) });
    }
    const ours = cases.find((c) => c.name === def.ours)!;
    const peers = cases.filter((c) => c !== ours).sort((a, b) => a.avg - b.avg);
    const fastest = peers[0];
    const ratio = fastest ? ours.avg / fastest.avg : null;
    const repeatRatios = fastest ? ours.runs!.map((avg, i) => avg / fastest.runs![i]) : [];
    const summary: GroupResult = {
      group,
      ours: def.ours,
      cases,
      ratioToFastestPeer: ratio,
      fastestPeer: fastest?.name ?? null,
      ...(ratio ? { spread: (Math.max(...repeatRatios) - Math.min(...repeatRatios)) / 2 / ratio } : {}),
    };
    console.log("summary");
    for (const peer of peers) {
      const r = peer.avg / ours.avg;
      console.log(
        `  ${def.ours} is ${r >= 1 ? `${r.toFixed(2)}x faster` : `${(1 / r).toFixed(2)}x slower`} than ${peer.name}`,
      );
    }
    out.push(summary);
  }
  return out;
}
