/**
 * What the access log and the metrics cost: HTTP throughput of a plugin route
 * (the shipped `hello`) with both on (the default: an access line per request
 * to stdout, counters and a latency histogram), with metrics only, and with
 * both off, in-process and isolated in a worker. wrk drives each server in its
 * own process, as in `http_bench.ts`; each round measures the three servers
 * in an order that rotates from round to round; each mode's median round is
 * reported, with its ratio to "off", the median of the rounds' ratios (the
 * goal: at least 0.9).
 *
 * Two figures per server and round: requests per second, and the server
 * process's CPU time per request (user + system time of every thread, read
 * from `/proc/<pid>/stat` before and after the measured wrk run, divided by
 * the requests wrk completed). On a shared two-core machine a wrk round moves
 * by ±10-20% with whatever else runs; the CPU a request costs the server moves
 * far less, and its ratio (off's CPU per request over the mode's) reads like a
 * throughput ratio: 0.9 means the mode costs 11% more CPU a request.
 *
 * Usage: deno run -A bench/observability_bench.ts (BENCH_HTTP_SECONDS, BENCH_HTTP_ROUNDS as in http_bench.ts;
 * BENCH_OBSERVABILITY_ROUNDS overrides the rounds, 2 × BENCH_HTTP_ROUNDS - 1 by default;
 * BENCH_OBSERVABILITY_ISOLATION=none or worker for one of the two)
 *
 * @module
 */

import { median } from "./_child.ts";
import { effort } from "./_effort.ts";
import { HELLO_PATH } from "./_http_server.ts";
import { ensureWrk, parseWrk, WRK, type WrkResult } from "./http_bench.ts";

const MODES = ["off", "metrics", "on"] as const;
type Mode = (typeof MODES)[number];

/** A server of `_observability_server.ts`, started. */
interface ObservedServer {
  base: string;
  /** The CPU time the server process has used so far (every thread), in µs; undefined without `/proc`. */
  cpuMicros(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** Clock ticks per second of `/proc/<pid>/stat`'s times (`getconf CLK_TCK`; 100 on Linux when it cannot be read). */
let ticksPerSecond: number | undefined;

async function clockTicks(): Promise<number> {
  if (ticksPerSecond !== undefined) return ticksPerSecond;
  ticksPerSecond = 100;
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped", stderr: "null" }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    if (out.success && Number.isFinite(n) && n > 0) ticksPerSecond = n;
  } catch {
    // No getconf: Linux's USER_HZ is 100.
  }
  return ticksPerSecond;
}

/**
 * A process's CPU time so far, from `/proc/<pid>/stat` (utime + stime of every thread, dead ones included).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cpuMicrosOfStat } from "./observability_bench.ts";
 * const stat = "4242 (deno main) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 9 0 100 0 0";
 * assert.equal(cpuMicrosOfStat(stat, 100), 3_250_000); // (250 + 75) ticks of 10 ms
 * ```
 *
 * @param stat the file's text
 * @param ticks clock ticks per second
 * @returns the CPU time in µs
 */
export function cpuMicrosOfStat(stat: string, ticks: number): number {
  // The second field (the command) is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the line, 12th and 13th after the command.
  return (Number(fields[11]) + Number(fields[12])) * 1e6 / ticks;
}

/**
 * A process's `/proc/<pid>/stat`: read directly, or through `cat` (Deno lets only `--allow-all` read `/proc`
 * files, and the bench runs with `--allow-run` but not `-A`).
 */
async function procStat(pid: number): Promise<string | undefined> {
  const path = `/proc/${pid}/stat`;
  try {
    return await Deno.readTextFile(path);
  } catch {
    try {
      const out = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" }).output();
      return out.success ? new TextDecoder().decode(out.stdout) : undefined;
    } catch {
      return undefined;
    }
  }
}

async function startServer(mode: Mode, isolation: string): Promise<ObservedServer> {
  const portFile = await Deno.makeTempFile({ prefix: "plugboard-observability-port-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-worker-options",
      "--allow-net=127.0.0.1,localhost",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      new URL("./_observability_server.ts", import.meta.url).pathname,
      mode,
      isolation,
      portFile,
    ],
    // The access log goes where a server's stdout goes when nobody reads it on this machine: a sink that costs the
    // bench nothing (a reader here would take CPU from the server on a 2-core machine).
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  let port = "";
  for (let waited = 0; port === ""; waited += 50) {
    if (waited > 120_000) throw new Error(`The ${mode} server did not listen within 2 minutes`);
    await new Promise((r) => setTimeout(r, 50));
    port = (await Deno.readTextFile(portFile)).trim();
  }
  await Deno.remove(portFile);
  const ticks = await clockTicks();
  return {
    base: `http://127.0.0.1:${port}`,
    cpuMicros: async () => {
      const stat = await procStat(child.pid);
      return stat === undefined ? undefined : cpuMicrosOfStat(stat, ticks);
    },
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function wrk(url: string, seconds: number): Promise<WrkResult> {
  const out = await new Deno.Command("wrk", {
    args: [`-t${WRK.threads}`, `-c${WRK.connections}`, `-d${seconds}s`, "--latency", url],
    stdout: "piped",
  }).output();
  return parseWrk(new TextDecoder().decode(out.stdout));
}

/** One isolation mode's figures: req/s with the access log and metrics off, metrics only, and both on. */
export interface ObservabilityCase {
  isolation: "none" | "worker";
  /** Median req/s of each mode. */
  requestsPerSecond: Record<Mode, number>;
  /** metrics-only and both-on throughput over off: the median of the rounds' ratios (a round measures all three). */
  ratios: { metrics: number; on: number };
  /** Median CPU time of the server process per request, in µs (absent without `/proc`). */
  cpuMicrosPerRequest?: Record<Mode, number>;
  /** off's CPU per request over metrics-only's and both-on's (the median of the rounds'): read as a throughput ratio. */
  cpuRatios?: { metrics: number; on: number };
  /** Each round's figures, in the order measured: req/s, and CPU µs per request. */
  rounds?: { requestsPerSecond: Record<Mode, number>; cpuMicrosPerRequest?: Record<Mode, number> }[];
}

/**
 * The rounds of the group: BENCH_OBSERVABILITY_ROUNDS, else 2 × BENCH_HTTP_ROUNDS - 1 (5 in a full run, 1 quick).
 *
 * @returns how many rounds
 */
function roundCount(): number {
  const own = Number(Deno.env.get("BENCH_OBSERVABILITY_ROUNDS"));
  if (Number.isFinite(own) && own >= 1) return Math.round(own);
  return Math.max(1, 2 * Math.round(effort("BENCH_HTTP_ROUNDS")) - 1);
}

/** The lowest and highest of some figures, as `lo-hi`. */
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;

/**
 * Runs the group.
 *
 * @param filter only when "observability" matches
 * @returns the cases, or why they were skipped
 */
export async function runStandalone(filter?: RegExp): Promise<ObservabilityCase[] | { skipped: string } | undefined> {
  if (filter && !filter.test("observability")) return undefined;
  const tool = await ensureWrk();
  if ("skipped" in tool) {
    console.log(`observability bench skipped: ${tool.skipped}`);
    return tool;
  }
  const seconds = Math.max(1, Math.round(effort("BENCH_HTTP_SECONDS")));
  const rounds = roundCount();
  console.log(
    `\n• observability: ${tool.version}; wrk -t${WRK.threads} -c${WRK.connections} -d${seconds}s, ${rounds} rounds ` +
      `(order rotating), median; req/s and the server's CPU time per request`,
  );
  const only = Deno.env.get("BENCH_OBSERVABILITY_ISOLATION"); // "none" or "worker": one of the two only
  const cases: ObservabilityCase[] = [];
  for (const isolation of (["none", "worker"] as const).filter((i) => !only || i === only)) {
    const perRound: NonNullable<ObservabilityCase["rounds"]> = [];
    for (let round = 0; round < rounds; round++) {
      const order = [...MODES.slice(round % 3), ...MODES.slice(0, round % 3)];
      const rps = {} as Record<Mode, number>;
      const cpu = {} as Record<Mode, number>;
      let cpuKnown = true;
      for (const mode of order) {
        const server = await startServer(mode, isolation);
        try {
          await wrk(server.base + HELLO_PATH, 1); // warm-up
          const before = await server.cpuMicros();
          const result = await wrk(server.base + HELLO_PATH, seconds);
          const after = await server.cpuMicros();
          rps[mode] = result.requestsPerSecond;
          if (before === undefined || after === undefined || result.requests === 0) cpuKnown = false;
          else cpu[mode] = (after - before) / result.requests;
        } finally {
          await server.stop();
        }
      }
      perRound.push({ requestsPerSecond: rps, ...(cpuKnown ? { cpuMicrosPerRequest: cpu } : {}) });
    }
    const rps = {} as Record<Mode, number>;
    for (const mode of MODES) rps[mode] = median(perRound.map((r) => r.requestsPerSecond[mode]));
    const withCpu = perRound.filter((r) => r.cpuMicrosPerRequest).map((r) => r.cpuMicrosPerRequest!);
    const cpu = {} as Record<Mode, number>;
    for (const mode of MODES) cpu[mode] = median(withCpu.map((r) => r[mode]));
    const cpuKnown = withCpu.length > 0;
    const rpsOver = (mode: Mode) => median(perRound.map((r) => r.requestsPerSecond[mode] / r.requestsPerSecond.off));
    const cpuUnder = (mode: Mode) => median(withCpu.map((r) => r.off / r[mode]));
    cases.push({
      isolation,
      requestsPerSecond: rps,
      ratios: { metrics: rpsOver("metrics"), on: rpsOver("on") },
      ...(cpuKnown
        ? { cpuMicrosPerRequest: cpu, cpuRatios: { metrics: cpuUnder("metrics"), on: cpuUnder("on") } }
        : {}),
      rounds: perRound,
    });
    const where = isolation === "none" ? "in-process" : "worker    ";
    for (const mode of MODES) {
      const rpsRounds = perRound.map((r) => r.requestsPerSecond[mode] / r.requestsPerSecond.off);
      const cpuRounds = withCpu.map((r) => r.off / r[mode]);
      console.log(
        `  ${where} ${mode.padEnd(8)} ${Math.round(rps[mode]).toLocaleString("en-US").padStart(8)} req/s  ` +
          `${median(rpsRounds).toFixed(2)}x of off (rounds ${range(rpsRounds)})` +
          (cpuKnown
            ? `  ${cpu[mode].toFixed(2).padStart(6)} µs CPU/request  ${median(cpuRounds).toFixed(2)}x of off ` +
              `(rounds ${range(cpuRounds)})`
            : ""),
      );
    }
  }
  return cases;
}

if (import.meta.main) await runStandalone();
