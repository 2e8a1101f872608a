/**
 * The regression check: compares two results files of `deno task bench
 * --json`, case by case, and flags the ratios that got worse by more than
 * their noise band.
 *
 * What is flagged: ratios against a peer measured in the same run
 * (plugboard / fastest peer time for the in-process groups, plugboard / bare
 * Hono requests per second for HTTP, the growth of startup from 100 to 1,000
 * plugins, isolated plugins against a bare worker: emitAsync and a service
 * call against a bare `postMessage` round trip, start time and RSS per
 * plugin against empty workers) and the reloads a save causes. A ratio
 * cancels most of the
 * machine's speed, so two runs on different machines can be compared; the
 * absolute figures are printed beside them for information only.
 *
 * The noise band of a ratio is the larger of a floor per kind (NOISE_FLOORS)
 * and the ratio's spread between the repeats or rounds of either run (half
 * their range, relative to the ratio).
 *
 * Usage: `deno task bench --compare bench/results.json` (runs, then compares)
 * or `deno task bench --compare old.json --against new.json` (no run).
 *
 * @module
 */

/** Minimum noise band per kind of figure, relative (0.15 = ±15%). */
export const NOISE_FLOORS = {
  /** mitata groups (nanoseconds; each case in its own process). */
  inProcess: 0.15,
  /** wrk against servers in their own processes. */
  http: 0.05,
  /** Startup growth from 100 to 1,000 plugins. */
  startup: 0.15,
  /** Reloads per save: a count, the goal is exactly 1. */
  reloadsPerSave: 0.05,
  /** Isolated plugins against a bare worker measured in the same run: round trips, start time, RSS per worker. */
  workerFloor: 0.15,
  /** Metrics and the access log on ÷ off, under wrk (three rounds, in-process). */
  observability: 0.1,
  /** A URL plugin's cold load ÷ Deno's own cold `import()` (five runs, a local server). */
  remote: 0.25,
};

/** One comparable figure of a results file. */
export interface Metric {
  /** Unique across a file: `group / case / what`. */
  id: string;
  /** The figure. */
  value: number;
  /** Which way is better. */
  better: "lower" | "higher";
  /** Relative spread seen in this run (0 when unknown). */
  spread: number;
  /** The noise band's floor; undefined for figures shown for information only. */
  floor?: number;
  /** How to print the value. */
  unit: "ratio" | "ns" | "ms" | "req/s" | "KiB" | "count";
}

/** One row of a comparison. */
export interface ComparedRow {
  /** The figure's id, as in {@linkcode Metric}. */
  id: string;
  /** How to print the values. */
  unit: Metric["unit"];
  /** The baseline's value; missing for a new figure. */
  old?: number;
  /** The new run's value; missing for a figure that is gone. */
  new?: number;
  /** new / old - 1. */
  change?: number;
  /** The band applied, for flagged kinds. */
  band?: number;
  /** Worse or better beyond the band, within it, shown for information, or on one side only. */
  verdict: "worse" | "better" | "within noise" | "info" | "new" | "gone";
}

/** A parsed JSON object. */
export type Json = Record<string, unknown>;

/** The fields of a lower-is-better figure shown for information only. */
const info = (unit: Metric["unit"]) => ({ better: "lower" as const, spread: 0, unit });

interface GroupLike {
  group: string;
  ours: string;
  fastestPeer: string | null;
  ratioToFastestPeer: number | null;
  spread?: number;
  cases: { name: string; avg: number }[];
}

/** An isolation case, as the isolation group writes it (the floor's fields since issue 25). */
interface IsolationLike {
  name: string;
  workerUs?: number;
  floorRatio?: number;
  floorSpread?: number;
  /** The round trip with every thread on one core (since the threads are pinned). */
  sameCore?: { floorRatio?: number };
}

/** Isolated plugins against empty workers, as the startup group writes it (since issue 25). */
interface FloorRatioLike {
  plugins: number;
  startRatio: number;
  startSpread?: number;
  rssRatio: number;
  rssSpread?: number;
}

const isGroupList = (x: unknown): x is GroupLike[] =>
  Array.isArray(x) && x.every((g) => g && typeof g === "object" && "group" in g && "cases" in g);

/**
 * Lists the comparable figures of a results file.
 *
 * @param data the parsed JSON written by `deno task bench --json`
 * @returns every figure, ratios and counts first within each group
 */
export function metricsOf(data: { results?: Json }): Metric[] {
  const out: Metric[] = [];
  for (const [module, value] of Object.entries(data.results ?? {})) {
    if (isGroupList(value)) {
      for (const g of value) {
        if (typeof g.ratioToFastestPeer === "number" && g.fastestPeer) {
          out.push({
            id: `${module} / ${g.group} / plugboard ÷ ${g.fastestPeer} (time)`,
            value: g.ratioToFastestPeer,
            better: "lower",
            spread: g.spread ?? 0,
            floor: NOISE_FLOORS.inProcess,
            unit: "ratio",
          });
        }
        const ours = g.cases.find((c) => c.name === g.ours);
        // (A group measured across fresh processes has no average of its own: its spread is shown elsewhere.)
        if (typeof ours?.avg === "number") {
          out.push({
            id: `${module} / ${g.group} / ${g.ours}`,
            value: ours.avg,
            better: "lower",
            spread: 0,
            unit: "ns",
          });
        }
      }
    }
  }
  const http = data.results?.http as
    | {
      cases?: {
        case: string;
        ratio: number;
        spread: number;
        peerLabel?: string;
        ours: { requestsPerSecond: number; p99Ms: number };
      }[];
    }
    | undefined;
  for (const c of http?.cases ?? []) {
    out.push({
      id: `http / ${c.case} / plugboard ÷ ${c.peerLabel ?? "bare Hono"} (req/s)`,
      value: c.ratio,
      better: "higher",
      spread: c.spread,
      floor: NOISE_FLOORS.http,
      unit: "ratio",
    });
    out.push({
      id: `http / ${c.case} / plugboard req/s`,
      value: c.ours.requestsPerSecond,
      better: "higher",
      spread: 0,
      unit: "req/s",
    });
    out.push({ id: `http / ${c.case} / plugboard p99`, value: c.ours.p99Ms, better: "lower", spread: 0, unit: "ms" });
  }
  const isolation = data.results?.isolation;
  for (const c of Array.isArray(isolation) ? isolation as IsolationLike[] : []) {
    if (typeof c?.workerUs === "number") {
      out.push({ id: `isolation / ${c.name}, in a worker`, value: c.workerUs * 1000, ...info("ns") });
    }
    if (typeof c?.floorRatio !== "number") continue;
    out.push({
      id: `isolation / ${c.name}, in a worker ÷ bare postMessage round trip (time)`,
      value: c.floorRatio,
      better: "lower",
      spread: c.floorSpread ?? 0,
      floor: NOISE_FLOORS.workerFloor,
      unit: "ratio",
    });
    if (typeof c.sameCore?.floorRatio !== "number") continue;
    out.push({
      id: `isolation / ${c.name}, in a worker ÷ bare postMessage round trip, one core (time)`,
      value: c.sameCore.floorRatio,
      better: "lower",
      spread: 0,
      floor: NOISE_FLOORS.workerFloor,
      unit: "ratio",
    });
  }
  const startup = data.results?.startup as
    | {
      results?: { plugins: number; ms: number }[];
      workers?: { plugins: number; ms: number }[];
      emptyWorkers?: { workers: number; ms: number }[];
      vsEmptyWorkers?: FloorRatioLike[];
    }
    | undefined;
  const at = (n: number) => startup?.results?.find((r) => r.plugins === n)?.ms;
  if (at(100) && at(1000)) {
    out.push({
      id: "startup / 1,000 plugins ÷ 100 plugins (10 is linear)",
      value: at(1000)! / at(100)!,
      better: "lower",
      spread: 0,
      floor: NOISE_FLOORS.startup,
      unit: "ratio",
    });
  }
  for (const r of startup?.results ?? []) {
    out.push({ id: `startup / ${r.plugins} plugins`, value: r.ms, better: "lower", spread: 0, unit: "ms" });
  }
  for (const r of startup?.workers ?? []) {
    out.push({ id: `startup / ${r.plugins} plugins in workers`, value: r.ms, better: "lower", spread: 0, unit: "ms" });
  }
  for (const r of startup?.emptyWorkers ?? []) {
    out.push({ id: `startup / ${r.workers} empty workers`, value: r.ms, ...info("ms") });
  }
  for (const r of startup?.vsEmptyWorkers ?? []) {
    const n = r.plugins;
    out.push(
      {
        id: `startup / ${n} plugins in workers ÷ ${n} empty workers (time)`,
        value: r.startRatio,
        better: "lower",
        spread: r.startSpread ?? 0,
        floor: NOISE_FLOORS.workerFloor,
        unit: "ratio",
      },
      {
        id: `startup / ${n} plugins in workers, RSS per plugin ÷ per empty worker`,
        value: r.rssRatio,
        better: "lower",
        spread: r.rssSpread ?? 0,
        floor: NOISE_FLOORS.workerFloor,
        unit: "ratio",
      },
    );
  }
  const reload = data.results?.reload as Json | undefined;
  const patterns =
    (reload?.saveToServed as { patterns?: { pattern: string; medianMs: number; reloadsPerSave: number }[] })
      ?.patterns;
  for (const p of patterns ?? []) {
    out.push({
      id: `reload / ${p.pattern} / reloads per save`,
      value: p.reloadsPerSave,
      better: "lower",
      spread: 0,
      floor: NOISE_FLOORS.reloadsPerSave,
      unit: "count",
    });
    out.push({
      id: `reload / ${p.pattern} / save → served median`,
      value: p.medianMs,
      better: "lower",
      spread: 0,
      unit: "ms",
    });
  }
  type Memory = { heapBytesPerReload: number; rssBytesPerReload: number };
  const worker = reload?.worker as { memory?: Memory } | undefined;
  if (worker?.memory) {
    const m = worker.memory;
    out.push(
      { id: "reload / heap per reload, in a worker", value: m.heapBytesPerReload / 1024, ...info("KiB") },
      { id: "reload / RSS per reload, in a worker", value: m.rssBytesPerReload / 1024, ...info("KiB") },
    );
  }
  const bare = reload?.bareWorker as { rssBytesPerCycle?: number } | undefined;
  if (typeof bare?.rssBytesPerCycle === "number") {
    out.push({ id: "reload / RSS per bare worker cycle", value: bare.rssBytesPerCycle / 1024, ...info("KiB") });
  }
  const memory = reload?.memory as Memory | undefined;
  if (memory) {
    out.push({
      id: "reload / heap per reload",
      value: memory.heapBytesPerReload / 1024,
      better: "lower",
      spread: 0,
      unit: "KiB",
    });
    out.push({
      id: "reload / RSS per reload",
      value: memory.rssBytesPerReload / 1024,
      better: "lower",
      spread: 0,
      unit: "KiB",
    });
  }
  out.push(...observedMetrics(data.results));
  return out;
}

/** The MCP, observability and URL-plugin groups' figures (`mcp`, `observability`, `remote` in a results file). */
function observedMetrics(results: Json | undefined): Metric[] {
  const out: Metric[] = [];
  const mcp = results?.mcp as { where: string; ratio: number; toolCallUs: number }[] | undefined;
  for (const m of Array.isArray(mcp) ? mcp : []) {
    if (typeof m?.ratio !== "number") continue;
    out.push(
      {
        id: `mcp / ${m.where} / tool call ÷ route call (time)`,
        value: m.ratio,
        better: "lower",
        spread: 0,
        floor: NOISE_FLOORS.inProcess,
        unit: "ratio",
      },
      { id: `mcp / ${m.where} / tool call`, value: m.toolCallUs * 1000, ...info("ns") },
    );
  }
  const observability = results?.observability as
    | { isolation: string; ratios?: { metrics?: number; on?: number } }[]
    | undefined;
  for (const o of Array.isArray(observability) ? observability : []) {
    for (const [key, what] of [["metrics", "metrics on"], ["on", "metrics and access log on"]] as const) {
      const value = o?.ratios?.[key];
      if (typeof value !== "number") continue;
      out.push({
        id: `observability / ${o.isolation} / ${what} ÷ off (req/s)`,
        value,
        better: "higher",
        spread: 0,
        floor: NOISE_FLOORS.observability,
        unit: "ratio",
      });
    }
  }
  const remote = (results?.remote as { results?: Record<string, number> } | undefined)?.results;
  const cold = remote?.["plugboard cold"];
  const denoCold = remote?.["deno import() cold"];
  if (typeof cold === "number" && typeof denoCold === "number" && denoCold > 0) {
    out.push({
      id: "remote / plugboard cold ÷ deno import() cold (time)",
      value: cold / denoCold,
      better: "lower",
      spread: 0,
      floor: NOISE_FLOORS.remote,
      unit: "ratio",
    });
  }
  for (const [name, ms] of Object.entries(remote ?? {})) {
    if (typeof ms === "number") out.push({ id: `remote / ${name}`, value: ms, ...info("ms") });
  }
  return out;
}

/**
 * Compares two results files.
 *
 * @param before the baseline (e.g. the committed bench/results.json)
 * @param after the new run
 * @param options `filtered`: the new run ran only some groups (`--filter`), so a figure it lacks is not called gone
 * @returns one row per figure of the new run, and one per figure of the
 * baseline that a module of the new run no longer has
 *
 * @example A ratio that fell beyond its band
 * ```ts
 * import { compare } from "./compare.ts";
 * const run = (ratio: number) => ({
 *   results: { http: { cases: [{ case: "404", ratio, spread: 0.01, ours: { requestsPerSecond: 1, p99Ms: 1 } }] } },
 * });
 * const rows = compare(run(0.9), run(0.8));
 * if (rows[0].verdict !== "worse") throw new Error(rows[0].verdict);
 * ```
 */
export function compare(
  before: { results?: Json },
  after: { results?: Json },
  options: { filtered?: boolean } = {},
): ComparedRow[] {
  const old = new Map(metricsOf(before).map((m) => [m.id, m]));
  const rows: ComparedRow[] = [];
  for (const m of metricsOf(after)) {
    const o = old.get(m.id);
    old.delete(m.id);
    if (!o) {
      rows.push({ id: m.id, unit: m.unit, new: m.value, verdict: "new" });
      continue;
    }
    const change = o.value === 0 ? (m.value === 0 ? 0 : Infinity) : m.value / o.value - 1;
    if (m.floor === undefined) {
      rows.push({ id: m.id, unit: m.unit, old: o.value, new: m.value, change, verdict: "info" });
      continue;
    }
    const band = Math.max(m.floor, m.spread, o.spread);
    const worse = m.better === "lower" ? change > band : change < -band;
    const better = m.better === "lower" ? change < -band : change > band;
    rows.push({
      id: m.id,
      unit: m.unit,
      old: o.value,
      new: m.value,
      change,
      band,
      verdict: worse ? "worse" : better ? "better" : "within noise",
    });
  }
  // A module the new run did not include (`--only`) is not gone; nor is anything when it ran only some groups
  // (`--filter`): which of the rest were left out on purpose it cannot tell.
  if (options.filtered) return rows;
  const ran = new Set(Object.entries(after.results ?? {}).filter(([, v]) => v !== undefined).map(([k]) => k));
  for (const o of old.values()) {
    if (ran.has(o.id.split(" / ")[0])) rows.push({ id: o.id, unit: o.unit, old: o.value, verdict: "gone" });
  }
  return rows;
}

function show(x: number | undefined, unit: Metric["unit"]): string {
  if (x === undefined) return "-";
  if (unit === "ratio") return x.toFixed(2);
  if (unit === "count") return x.toFixed(2);
  if (unit === "req/s") return x.toFixed(0);
  if (unit === "ns") return x < 1000 ? `${x.toFixed(2)} ns` : `${(x / 1000).toFixed(2)} µs`;
  if (unit === "KiB") return `${x.toFixed(1)} KiB`;
  return `${x.toFixed(1)} ms`;
}

/**
 * Prints a comparison as a table, flagged rows marked.
 *
 * @param rows from {@linkcode compare}
 * @param labels what the two sides are
 * @returns how many figures got worse beyond their band
 */
export function printComparison(rows: ComparedRow[], labels: { before: string; after: string }): number {
  const f = NOISE_FLOORS;
  console.log(`\n• comparison: ${labels.before} → ${labels.after}`);
  console.log(
    `  Flagged: ratios and reloads per save that got worse by more than their noise band = max(floor, spread of ` +
      `the repeats/rounds in either run); floors: in-process ±${f.inProcess * 100}%, HTTP ±${f.http * 100}%, ` +
      `startup growth ±${f.startup * 100}%, reloads per save ±${f.reloadsPerSave * 100}%, against a bare worker ` +
      `±${f.workerFloor * 100}%. ` +
      `Absolute figures depend on the machine: shown for information.`,
  );
  const width = Math.min(90, Math.max(...rows.map((r) => r.id.length)));
  for (const r of rows) {
    const change = r.change === undefined ? "" : `${r.change >= 0 ? "+" : ""}${(r.change * 100).toFixed(1)}%`;
    const band = r.band === undefined ? "" : `±${(r.band * 100).toFixed(0)}%`;
    const mark = r.verdict === "worse" ? "WORSE" : r.verdict;
    console.log(
      `${r.id.padEnd(width)}  ${show(r.old, r.unit).padStart(10)}  ${show(r.new, r.unit).padStart(10)}  ${
        change.padStart(8)
      }  ${band.padStart(5)}  ${mark}`,
    );
  }
  const worse = rows.filter((r) => r.verdict === "worse").length;
  console.log(
    worse
      ? `summary\n  ${worse} figure(s) got worse beyond their noise band`
      : "summary\n  nothing got worse beyond its noise band",
  );
  return worse;
}

if (import.meta.main) {
  const [a, b] = Deno.args;
  if (!a || !b) throw new TypeError("Usage: deno run --allow-read bench/compare.ts <before.json> <after.json>");
  const worse = printComparison(
    compare(JSON.parse(await Deno.readTextFile(a)), JSON.parse(await Deno.readTextFile(b))),
    { before: a, after: b },
  );
  Deno.exit(worse ? 1 : 0);
}
