/**
 * HTTP throughput and latency under load, with an out-of-process load
 * generator: wrk (a C program) drives servers that each run in their own
 * `deno run` process on 127.0.0.1 (see `_http_server.ts`). Cases, each
 * plugboard against a bare Hono app on `Deno.serve` answering the same
 * status, content type and body:
 *
 * - a plugin route with `hello` only, isolated in a worker (the default), the
 *   same in-process (`isolation: "none"`) and sandboxed (its own process);
 * - the same route with every shipped plugin loaded (host-wide middleware
 *   on), in workers and in-process;
 * - `/health`, and `/health` while an isolated plugin floods the host with
 *   events and log lines (its p99 is the containment figure);
 * - a 404 (a path under a plugin's prefix that it does not serve).
 *
 * Every round starts fresh servers (the flooding one only for its own case:
 * it floods from its start, and would take the CPU of every other
 * measurement) and measures each case on plugboard and
 * on bare Hono one after the other, the order alternating from round to
 * round; each measurement follows a one-second warm-up. Each side's median
 * round is reported, and the ratio is the median of the rounds' ratios. wrk is installed with apt-get when missing (as root);
 * otherwise the group is skipped with the reason printed.
 *
 * Effort: BENCH_HTTP_SECONDS (default 5, whole seconds: wrk's `-d`) per
 * measurement, BENCH_HTTP_WARMUP_SECONDS (default 1; 0 for none) before it,
 * BENCH_HTTP_ROUNDS (default 3, at least 3 for a median worth the name; with
 * 1, as `--quick` sets, a server and path are measured once and the figure is
 * shared by the cases that use them).
 *
 * @module
 */

import { median } from "./_child.ts";
import { HELLO_PATH, MISSING_PATH } from "./_http_server.ts";
import { effort } from "./_effort.ts";

/** wrk's settings; the warm-up is BENCH_HTTP_WARMUP_SECONDS's (1 s in a full run). */
export const WRK: { threads: number; connections: number; warmupSeconds: number } = {
  threads: 2,
  connections: 50,
  warmupSeconds: 1,
};

/** What one wrk run measured. */
export interface WrkResult {
  /** Requests per second over the run. */
  requestsPerSecond: number;
  /** Median (50th percentile) latency under load, in ms. */
  p50Ms: number;
  /** 99th percentile latency under load, in ms. */
  p99Ms: number;
  /** Requests completed. */
  requests: number;
  /** Responses with a status of 400 or more (wrk counts them as non-2xx or 3xx). */
  non2xx: number;
  /** connect + read + write + timeout errors. */
  socketErrors: number;
}

/** One side of a case: the median of the rounds, and each round. */
export interface HttpSide {
  /** Which server. */
  server: string;
  /** Median requests per second. */
  requestsPerSecond: number;
  /** Median p50 latency under load, in ms. */
  p50Ms: number;
  /** Median p99 latency under load, in ms. */
  p99Ms: number;
  /** Each round's figures. */
  rounds: WrkResult[];
}

/** One case: plugboard against bare Hono. */
export interface HttpCase {
  /** The case's name. */
  case: string;
  /** The path requested. */
  path: string;
  /** plugboard. */
  ours: HttpSide;
  /** Bare Hono (or, for the floor case, bare Hono in a worker). */
  peer: HttpSide;
  /** What the peer is, short: "bare Hono" or "bare Hono in a worker". */
  peerLabel?: string;
  /**
   * plugboard's req/s over the peer's, the median of the rounds' ratios (both sides of a round are measured back to
   * back, so a busy moment of the machine falls on both): below 1 means plugboard trails.
   */
  ratio: number;
  /** The ratio in each round. */
  roundRatios: number[];
  /** Half the range of the round ratios, relative to their median (0.05 = ±5%). */
  spread: number;
}

/** The group's result, or why it was skipped. */
export type HttpResults =
  | {
    tool: string;
    settings: typeof WRK & { seconds: number; rounds: number };
    cases: HttpCase[];
  }
  | { skipped: string };

/** A plugboard server kind of `_http_server.ts`. */
type Ours = "hello" | "hello-inproc" | "hello-sandbox" | "all" | "all-inproc" | "flood";

/** What plugboard is measured against. */
type Peer = "hono" | "hono-worker";

interface CaseDef {
  name: string;
  ours: Ours;
  path: string;
  status: number;
  /** Bare Hono unless named. */
  peer?: Peer;
}

const CASES: CaseDef[] = [
  { name: "plugin route, hello only, in a worker (default)", ours: "hello", path: HELLO_PATH, status: 200 },
  {
    // The floor under any design that answers from the plugin's worker: ≥ 0.8x of bare Hono in-process is out of reach
    // where this one is far below it.
    name: "plugin route, hello only, in a worker, against Hono in a worker (the floor)",
    ours: "hello",
    path: HELLO_PATH,
    status: 200,
    peer: "hono-worker",
  },
  { name: "plugin route, hello only, in-process", ours: "hello-inproc", path: HELLO_PATH, status: 200 },
  { name: "plugin route, hello only, sandboxed (own process)", ours: "hello-sandbox", path: HELLO_PATH, status: 200 },
  {
    // Issue 25's goal for the shipped set isolated (≥ 0.8x of the floor), side by side with it.
    name: "plugin route, every shipped plugin, in workers (default), against Hono in a worker (the floor)",
    ours: "all",
    path: HELLO_PATH,
    status: 200,
    peer: "hono-worker",
  },
  { name: "plugin route, every shipped plugin, in-process", ours: "all-inproc", path: HELLO_PATH, status: 200 },
  { name: "/health", ours: "hello", path: "/health", status: 200 },
  // Containment under a flood: the p99 is the figure (the bound is 100 ms), not the throughput.
  { name: "/health while a plugin floods events and logs", ours: "flood", path: "/health", status: 200 },
  { name: "404", ours: "hello", path: MISSING_PATH, status: 404 },
];

const SERVER_NAMES: Record<Ours | Peer, string> = {
  hello: "plugboard, hello in a worker",
  "hello-inproc": "plugboard, hello in-process",
  "hello-sandbox": "plugboard, hello sandboxed",
  flood: "plugboard, hello and an isolated plugin flooding events and logs",
  all: "plugboard, every plugin in workers",
  "all-inproc": "plugboard, every plugin in-process",
  hono: "bare Hono on Deno.serve",
  "hono-worker": "bare Hono in a worker, least forwarding",
};

const PEER_LABELS: Record<Peer, string> = { hono: "bare Hono", "hono-worker": "bare Hono in a worker" };

/** The server a case is measured against. */
const peerOf = (def: CaseDef): Peer => def.peer ?? "hono";

/** Converts wrk's `842.00us`, `1.15ms` or `2.00s` to milliseconds. */
function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`Cannot read wrk's latency '${text}'`);
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as "us" | "ms" | "s" | "m"];
  return Number(m[1]) * scale;
}

/**
 * Reads what `wrk --latency` prints.
 *
 * @param text wrk's standard output
 * @returns req/s, p50 and p99 latency, request and error counts
 * @throws {Error} when a figure is missing
 */
export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const p50 = /^\s+50%\s+(\S+)/m.exec(text);
  const p99 = /^\s+99%\s+(\S+)/m.exec(text);
  const requests = /(\d+) requests in/.exec(text);
  if (!rps || !p50 || !p99 || !requests) throw new Error(`Cannot read wrk's output:\n${text}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requestsPerSecond: Number(rps[1]),
    p50Ms: toMs(p50[1]),
    p99Ms: toMs(p99[1]),
    requests: Number(requests[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0,
  };
}

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string } | null> {
  try {
    const o = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    const dec = new TextDecoder();
    return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/**
 * Finds wrk, installing it with apt-get when it is missing.
 *
 * @returns wrk's version line, or why it cannot be had
 */
export async function ensureWrk(): Promise<{ version: string } | { skipped: string }> {
  const version = async () => {
    const v = await run("wrk", ["-v"]);
    return v && { version: (v.out + v.err).split("\n")[0].split(" [")[0].trim() };
  };
  const found = await version();
  if (found) return found;
  if (Deno.build.os !== "linux") return { skipped: "wrk is not installed: install it (https://github.com/wg/wrk)" };
  console.log("wrk is missing: installing it with apt-get install -y wrk");
  let install = await run("apt-get", ["install", "-y", "wrk"]);
  if (!install) return { skipped: "wrk is not installed and apt-get is not available: install wrk and run again" };
  if (install.code !== 0) {
    await run("apt-get", ["update"]);
    install = await run("apt-get", ["install", "-y", "wrk"]);
  }
  const after = await version();
  if (after) return after;
  const why = install?.err.trim().split("\n").pop() ?? "";
  return { skipped: `wrk is not installed and apt-get install -y wrk failed (it needs root): ${why}` };
}

/** A server process. */
/** A server of `_http_server.ts`, started. */
export interface Server {
  base: string;
  stop(): Promise<void>;
}

/**
 * Starts a server of `_http_server.ts` in its own process.
 *
 * @param kind the server's kind
 * @param env more environment for it
 * @returns its base URL and how to stop it
 */
export async function startServer(kind: Ours | Peer, env: Record<string, string> = {}): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-worker-options",
      // notifier declares local webhooks (127.0.0.1 and localhost): its worker may only get what the host has.
      "--allow-net=127.0.0.1,localhost",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      // The sandboxed case starts its plugin's process through prlimit.
      "--allow-run=prlimit,ps",
      new URL("./_http_server.ts", import.meta.url).pathname,
      kind,
    ],
    // notifier's webhook: a loopback port nothing listens on; it is only called when a task fails.
    env: { NOTIFIER_WEBHOOK_URL: "http://127.0.0.1:9/bench-never-called", ...env },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/^\d+\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The ${kind} server exited before listening`);
    text += value;
  }
  reader.releaseLock();
  return {
    base: `http://127.0.0.1:${Number(text.split("\n")[0])}`,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

async function wrk(url: string, seconds: number): Promise<WrkResult> {
  const r = await run("wrk", [
    `-t${WRK.threads}`,
    `-c${WRK.connections}`,
    `-d${seconds}s`,
    "--latency",
    url,
  ]);
  if (!r || r.code !== 0) throw new Error(`wrk failed: ${r?.err ?? "not found"}`);
  return parseWrk(r.out);
}

/** Checks that both servers answer a case alike, so that they do the same work. */
async function sameAnswer(def: CaseDef, ours: Server, peer: Server): Promise<void> {
  const answer = async (s: Server) => {
    const res = await fetch(s.base + def.path);
    return `${res.status} ${res.headers.get("content-type")} ${(await res.text()).length}`;
  };
  const [a, b] = [await answer(ours), await answer(peer)];
  if (!a.startsWith(`${def.status} `) || a !== b) {
    throw new Error(
      `${def.name}: plugboard answers "${a}", ${PEER_LABELS[peerOf(def)]} "${b}" (status, type, body length)`,
    );
  }
}

function side(server: string, rounds: WrkResult[]): HttpSide {
  return {
    server,
    requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    rounds,
  };
}

const ms = (x: number) => `${x.toFixed(2)} ms`;

/**
 * Runs the HTTP group.
 *
 * @param filter only when "http" matches
 * @returns the figures, or why they were skipped
 */
export async function runStandalone(filter?: RegExp): Promise<HttpResults | undefined> {
  if (filter && !filter.test("http")) return undefined;
  const seconds = Math.max(1, Math.round(effort("BENCH_HTTP_SECONDS")));
  const warmupSeconds = Math.round(effort("BENCH_HTTP_WARMUP_SECONDS"));
  const roundCount = Math.max(1, effort("BENCH_HTTP_ROUNDS"));
  const tool = await ensureWrk();
  if ("skipped" in tool) {
    console.log(`\n• http (skipped: ${tool.skipped})`);
    return tool;
  }
  console.log(
    `\n• http, ${tool.version}: -t${WRK.threads} -c${WRK.connections}, ${warmupSeconds} s warm-up + ${seconds} s ` +
      `per measurement, median of ${roundCount} rounds alternating plugboard and bare Hono`,
  );
  const runs = new Map<string, { ours: WrkResult[]; peer: WrkResult[] }>(
    CASES.map((c) => [c.name, { ours: [], peer: [] }]),
  );
  for (let round = 0; round < roundCount; round++) {
    // The flooding server floods from its start: it runs only for its own case, or it would take the CPU of every
    // other measurement of the round (two cores here).
    const servers = {} as Record<Ours | Peer, Server>;
    for (const kind of Object.keys(SERVER_NAMES) as (Ours | Peer)[]) {
      if (kind !== "flood") servers[kind] = await startServer(kind);
    }
    try {
      // With a single round (a quick run), a server and path already measured for an earlier case is not measured
      // again: bare Hono's plugin route serves four cases. With more rounds every case measures both sides back to back.
      const measured = new Map<string, WrkResult>();
      for (const def of CASES) {
        const ours = servers[def.ours] ??= await startServer(def.ours);
        const peer = servers[peerOf(def)];
        if (round === 0) await sameAnswer(def, ours, peer);
        const order: ["ours" | "peer", Server][] = [["ours", ours], ["peer", peer]];
        if (round % 2 === 1) order.reverse();
        for (const [who, server] of order) {
          const key = `${who === "ours" ? def.ours : peerOf(def)} ${def.path}`;
          let r = roundCount === 1 ? measured.get(key) : undefined;
          if (!r) {
            if (warmupSeconds > 0) await wrk(server.base + def.path, warmupSeconds);
            r = await wrk(server.base + def.path, seconds);
            measured.set(key, r);
            const expectedNon2xx = def.status >= 400 ? r.requests : 0;
            if (r.non2xx !== expectedNon2xx || r.socketErrors) {
              console.log(`  warning: ${def.name} (${who}): ${r.non2xx} non-2xx, ${r.socketErrors} socket errors`);
            }
          }
          runs.get(def.name)![who].push(r);
        }
        if (def.ours === "flood") {
          await servers.flood.stop();
          delete (servers as Partial<typeof servers>).flood;
        }
      }
    } finally {
      for (const s of Object.values(servers)) await s.stop();
    }
    console.log(`  round ${round + 1}/${roundCount} done`);
  }
  const cases: HttpCase[] = CASES.map((def) => {
    const { ours, peer } = runs.get(def.name)!;
    const roundRatios = ours.map((r, i) => r.requestsPerSecond / peer[i].requestsPerSecond);
    const mid = median(roundRatios);
    const o = side(SERVER_NAMES[def.ours], ours);
    const p = side(SERVER_NAMES[peerOf(def)], peer);
    return {
      case: def.name,
      path: def.path,
      ours: o,
      peer: p,
      peerLabel: PEER_LABELS[peerOf(def)],
      ratio: mid,
      roundRatios,
      spread: (Math.max(...roundRatios) - Math.min(...roundRatios)) / 2 / mid,
    };
  });
  console.log(
    `${"case".padEnd(58)} ${"plugboard req/s".padStart(15)} ${"p50".padStart(9)} ${"p99".padStart(9)}   ${
      "peer req/s".padStart(15)
    } ${"p50".padStart(9)} ${"p99".padStart(9)}   ratio (± spread)`,
  );
  for (const c of cases) {
    console.log(
      `${c.case.padEnd(58)} ${c.ours.requestsPerSecond.toFixed(0).padStart(15)} ${ms(c.ours.p50Ms).padStart(9)} ${
        ms(c.ours.p99Ms).padStart(9)
      }   ${c.peer.requestsPerSecond.toFixed(0).padStart(15)} ${ms(c.peer.p50Ms).padStart(9)} ${
        ms(c.peer.p99Ms).padStart(9)
      }   ${c.ratio.toFixed(2)} (±${(c.spread * 100).toFixed(0)}%)`,
    );
  }
  return { tool: tool.version, settings: { ...WRK, warmupSeconds, seconds, rounds: roundCount }, cases };
}

if (import.meta.main) await runStandalone();
