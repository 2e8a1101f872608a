/**
 * How hard the benchmarks work: every effort setting, its value in a full
 * run and in a quick one (`deno task bench --quick`), read from environment
 * variables so that the measuring processes the benchmarks start inherit
 * them.
 *
 * @module
 */

/** One effort setting. */
export interface EffortSetting {
  /** The full run's value: the default. `undefined` for a list whose default is "every peer". */
  full: number | undefined;
  /** What `--quick` sets when the variable is not set already. */
  quick: number | string;
  /** What it sets, for `--help`. */
  what: string;
  /** A value below `full` (or any value, for a list) makes a run's figures provisional. */
  reduces: boolean;
}

/** Every effort variable, in the order `--help` lists them. */
export const EFFORT = {
  BENCH_REPEATS: {
    full: 3,
    quick: 1,
    what: "measurements of each in-process case (own process each), median kept",
    reduces: true,
  },
  BENCH_WARMUP_MS: {
    full: 500,
    quick: 50,
    what: "ms of calls before each in-process case is measured",
    reduces: true,
  },
  BENCH_CASE_MS: {
    full: 642,
    quick: 50,
    what: "ms mitata measures an in-process case (300 at least over 100 ns a call)",
    reduces: true,
  },
  BENCH_PEERS: {
    full: undefined,
    quick: "tseep",
    what: "peers of the in-process groups (a group with none of them keeps all)",
    reduces: true,
  },
  BENCH_FRESH_RUNS: {
    full: 10,
    quick: 0,
    what: "fresh processes per contender for the spreads (0 skips them)",
    reduces: true,
  },
  BENCH_FRESH_PEERS: {
    full: undefined,
    quick: "tseep",
    what: "peers measured across fresh processes",
    reduces: false,
  },
  BENCH_HTTP_SECONDS: { full: 5, quick: 1, what: "seconds of each wrk measurement", reduces: true },
  BENCH_HTTP_WARMUP_SECONDS: {
    full: 1,
    quick: 0,
    what: "seconds of wrk warm-up before each measurement (0: none)",
    reduces: true,
  },
  BENCH_HTTP_ROUNDS: {
    full: 3,
    quick: 1,
    what: "HTTP rounds, fresh servers, median kept (1: shared paths measured once)",
    reduces: true,
  },
  BENCH_STARTUP_RUNS: { full: 3, quick: 1, what: "cold starts per size, median kept", reduces: true },
  BENCH_STARTUP_WORKERS: {
    full: 100,
    quick: 10,
    what: "most plugins started in workers, and empty workers beside them (10 and 100; ~12 MiB each)",
    reduces: true,
  },
  BENCH_SAVES: { full: 30, quick: 3, what: "saves per save pattern (hot reload)", reduces: true },
  BENCH_RELOADS: { full: 500, quick: 10, what: "reloads for the memory per reload, in-process", reduces: true },
  BENCH_LOAD_RELOADS: {
    full: 100,
    quick: 10,
    what: "reloads under 8 concurrent HTTP clients, per mode (requests dropped per reload)",
    reduces: true,
  },
  BENCH_WORKER_RELOADS: {
    full: 1000,
    quick: 5,
    what: "reloads for the memory per reload in a worker; bare worker cycles",
    reduces: true,
  },
  BENCH_REMOTE_RUNS: { full: 5, quick: 1, what: "fresh processes per URL-plugin case", reduces: true },
  BENCH_MCP_BATCHES: { full: 15, quick: 3, what: "batches of MCP tool calls and route calls per case", reduces: true },
  BENCH_MCP_CALLS: { full: 100, quick: 20, what: "sequential calls per MCP batch", reduces: true },
} as const satisfies Record<string, EffortSetting>;

/** The name of an effort variable. */
export type EffortName = keyof typeof EFFORT;

/** The numeric effort variables. */
type NumericName = { [K in EffortName]: (typeof EFFORT)[K]["full"] extends number ? K : never }[EffortName];

/** The list effort variables. */
type ListName = Exclude<EffortName, NumericName>;

/**
 * A numeric effort setting: the environment variable, else the full run's value.
 *
 * @param name the variable
 * @returns its value
 * @throws {TypeError} when the variable is not a non-negative number
 */
export function effort(name: NumericName): number {
  const text = Deno.env.get(name);
  if (text === undefined || text.trim() === "") return EFFORT[name].full;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name}=${text}: expected a number, 0 or more`);
  return value;
}

/**
 * A list effort setting: the environment variable's comma-separated names, else `undefined` (every peer).
 *
 * @param name the variable
 * @returns the names
 */
export function effortList(name: ListName): string[] | undefined {
  const list = Deno.env.get(name)?.split(",").map((s) => s.trim()).filter(Boolean);
  return list?.length ? list : undefined;
}

/**
 * The variables `--quick` sets: every effort variable's quick value, unless
 * the environment sets it already (what the user set wins).
 *
 * @param env the environment's current values
 * @returns the variables to set
 */
export function quickEnv(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(EFFORT).filter(([name]) => env[name] === undefined).map(([name, s]) => [name, String(s.quick)]),
  );
}

/**
 * The effort variables set below a full run's, as recorded in a results file.
 *
 * @param env the environment's current values
 * @returns each such variable's value
 */
export function reducedEffort(env: Record<string, string | undefined>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [name, s] of Object.entries(EFFORT) as [EffortName, EffortSetting][]) {
    const text = env[name];
    if (text === undefined || !s.reduces) continue;
    if (s.full === undefined) out[name] = text;
    else if (Number(text) < s.full) out[name] = Number(text);
  }
  return out;
}

/**
 * Every effort variable the environment sets, as recorded in a results file
 * (`machine.effort`): a run's settings, whether they reduce it or not.
 *
 * @param env the environment's current values
 * @returns each set variable's value (a number for a numeric setting)
 */
export function effortSet(env: Record<string, string | undefined>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [name, s] of Object.entries(EFFORT) as [EffortName, EffortSetting][]) {
    const text = env[name];
    if (text === undefined) continue;
    out[name] = typeof s.quick === "number" && Number.isFinite(Number(text)) ? Number(text) : text;
  }
  return out;
}

/**
 * The effort variables as `--help` lists them.
 *
 * @returns one line per variable
 */
export function effortHelp(): string {
  const rows = Object.entries(EFFORT).map(([name, s]) => [
    name,
    s.full === undefined ? "all" : String(s.full),
    String(s.quick),
    s.what,
  ]);
  const widths = [0, 1, 2].map((i) =>
    Math.max(...rows.map((r) => r[i].length), ["variable", "full", "quick"][i].length)
  );
  const line = (r: string[]) =>
    `  ${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padEnd(widths[2])}  ${r[3]}`;
  return [line(["variable", "full", "quick", "what"]), ...rows.map(line)].join("\n");
}
