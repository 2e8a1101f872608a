/**
 * What the access log and the metrics cost: HTTP throughput of a plugin route
 * (the shipped `hello`) with both on (the default: an access line per request
 * to stdout, counters and a latency histogram), with metrics only, and with
 * both off, in-process and isolated in a worker. wrk drives each server in its
 * own process, as in `http_bench.ts`; each round measures the three servers
 * in an order that rotates from round to round, and the median is reported
 * with the ratio to "off" (the goal: at least 0.9).
 *
 * Usage: deno run -A bench/observability_bench.ts (BENCH_HTTP_SECONDS, BENCH_HTTP_ROUNDS as in http_bench.ts;
 * BENCH_OBSERVABILITY_ISOLATION=none or worker for one of the two)
 *
 * @module
 */

import { median } from "./_child.ts";
import { effort } from "./_effort.ts";
import { HELLO_PATH } from "./_http_server.ts";
import { ensureWrk, parseWrk, WRK, type WrkResult } from "./http_bench.ts";

const MODES = ["off", "metrics", "on"] as const;

async function startServer(mode: string, isolation: string): Promise<{ base: string; stop(): Promise<void> }> {
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
  return {
    base: `http://127.0.0.1:${port}`,
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
  requestsPerSecond: Record<(typeof MODES)[number], number>;
  /** metrics-only and both-on throughput over off. */
  ratios: { metrics: number; on: number };
}

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
  const rounds = Math.max(1, effort("BENCH_HTTP_ROUNDS"));
  console.log(
    `\n• observability: ${tool.version}; wrk -t${WRK.threads} -c${WRK.connections} -d${seconds}s, ${rounds} rounds, median`,
  );
  const only = Deno.env.get("BENCH_OBSERVABILITY_ISOLATION"); // "none" or "worker": one of the two only
  const cases: ObservabilityCase[] = [];
  for (const isolation of (["none", "worker"] as const).filter((i) => !only || i === only)) {
    const results: Record<string, number[]> = { off: [], metrics: [], on: [] };
    for (let round = 0; round < rounds; round++) {
      const order = [...MODES.slice(round % 3), ...MODES.slice(0, round % 3)];
      for (const mode of order) {
        const server = await startServer(mode, isolation);
        try {
          await wrk(server.base + HELLO_PATH, 1); // warm-up
          results[mode].push((await wrk(server.base + HELLO_PATH, seconds)).requestsPerSecond);
        } finally {
          await server.stop();
        }
      }
    }
    const off = median(results.off);
    const rps = { off, metrics: median(results.metrics), on: median(results.on) };
    cases.push({ isolation, requestsPerSecond: rps, ratios: { metrics: rps.metrics / off, on: rps.on / off } });
    for (const mode of MODES) {
      console.log(
        `  ${isolation === "none" ? "in-process" : "worker    "} ${mode.padEnd(8)} ${
          Math.round(rps[mode]).toLocaleString("en-US").padStart(8)
        } req/s  ${(rps[mode] / off).toFixed(2)}x of off`,
      );
    }
  }
  return cases;
}

if (import.meta.main) await runStandalone();
