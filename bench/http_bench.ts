/**
 * HTTP throughput: the running server on 127.0.0.1 under autocannon, a plugin
 * route through plugboard against the same handler on a bare Hono app served
 * by `Deno.serve`. Each server runs in its own process; the load generator in
 * this one. Bounded: BENCH_HTTP_SECONDS (default 5) per run, loopback only.
 *
 * @module
 */

import autocannon from "autocannon";

/** One server's figures. */
export interface HttpResult {
  name: string;
  requestsPerSecond: number;
  /** Mean latency under load (connections / throughput). */
  loadedLatencyMs: number;
  /** Median and 99th percentile of sequential requests, timed one by one. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

async function startServer(kind: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      new URL("./_http_server.ts", import.meta.url).pathname,
      kind,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/\d+\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The ${kind} server exited before listening`);
    text += value;
  }
  return {
    port: Number(text.trim().split("\n")[0]),
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
    },
  };
}

const CONNECTIONS = 10;

/** Times `count` sequential requests with performance.now(). */
async function probeLatency(url: string, count: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(count * 0.5)], p99: times[Math.floor(count * 0.99)] };
}

async function load(name: string, kind: string, seconds: number): Promise<HttpResult> {
  const server = await startServer(kind);
  try {
    const url = `http://127.0.0.1:${server.port}/api/plugins/p0/r0`;
    await autocannon({ url, connections: 10, duration: 1 }); // warm-up
    const r = await autocannon({ url, connections: CONNECTIONS, pipelining: 1, duration: seconds });
    const probe = await probeLatency(url, 2000);
    return {
      name,
      requestsPerSecond: r.requests.average,
      // Little's law: autocannon's own latency figures are not reliable under Deno's Node compatibility.
      loadedLatencyMs: CONNECTIONS / r.requests.average * 1000,
      latencyP50Ms: probe.p50,
      latencyP99Ms: probe.p99,
      non2xx: r.non2xx,
      errors: r.errors,
    };
  } finally {
    await server.stop();
  }
}

/**
 * Runs both servers twice, alternating, and reports the better run of each.
 *
 * @returns the figures and the throughput ratio
 */
export async function runStandalone(filter?: RegExp): Promise<unknown> {
  if (filter && !filter.test("http throughput")) return undefined;
  const seconds = Number(Deno.env.get("BENCH_HTTP_SECONDS") ?? 5);
  console.log(`\n• http throughput (autocannon, ${CONNECTIONS} connections, ${seconds} s per run, best of 2)`);
  const best = new Map<string, HttpResult>();
  for (let rep = 0; rep < 2; rep++) {
    for (const [name, kind] of [["plugboard plugin route", "plugboard"], ["bare Hono on Deno.serve", "hono"]]) {
      const r = await load(name, kind, seconds);
      if ((best.get(name)?.requestsPerSecond ?? 0) < r.requestsPerSecond) best.set(name, r);
    }
  }
  const ours = best.get("plugboard plugin route")!;
  const bare = best.get("bare Hono on Deno.serve")!;
  for (const r of [ours, bare]) {
    console.log(
      `${r.name.padEnd(26)} ${r.requestsPerSecond.toFixed(0).padStart(7)} req/s  loaded ${
        r.loadedLatencyMs.toFixed(3)
      } ms  unloaded p50 ${r.latencyP50Ms.toFixed(3)} ms p99 ${
        r.latencyP99Ms.toFixed(3)
      } ms  non-2xx ${r.non2xx}  errors ${r.errors}`,
    );
  }
  const ratio = ours.requestsPerSecond / bare.requestsPerSecond;
  console.log(`summary\n  plugboard serves ${(ratio * 100).toFixed(1)}% of bare Hono's requests per second`);
  return { results: [ours, bare], throughputRatio: ratio };
}
