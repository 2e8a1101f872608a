/**
 * Tests of the benchmark tooling: the command line of `deno task bench`
 * (options, `--help`, `--quick`), the effort settings, reading wrk's output,
 * the regression check's verdicts and bands (ratios to a bare worker
 * included), and the regeneration of the docs (the README's short summary, BENCHMARKS.md's tables).
 * `deno test --allow-read --allow-write --allow-env --allow-run bench/`
 *
 * @module
 */

import assert from "node:assert/strict";
import { compare, metricsOf } from "./compare.ts";
import { parseWrk } from "./http_bench.ts";
import {
  type BenchData,
  README_LINK,
  renderHeadlines,
  renderReadmeSummary,
  renderResults,
  renderRun,
  renderSummary,
  writeDocs,
} from "./report.ts";
import { EFFORT, effort, effortSet, quickEnv, reducedEffort } from "./_effort.ts";
import { HELP, MODULES, parseOptions, UsageError } from "./main.ts";
import { casesToMeasure, measureInProcess, runModule } from "./_runner.ts";
import { halvesSpread, pairedRatio } from "./isolation_bench.ts";
import { emptyWorkersRatio } from "./_empty_workers.ts";
import { CHILD_LOCK } from "../tests/_helpers.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
/** The flags of `deno task bench`. */
const TASK_FLAGS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-net=127.0.0.1",
  "--allow-import=127.0.0.1",
  "--allow-run",
];

/** Runs bench/main.ts as `deno task bench` does. */
async function runMain(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    // The project's lock, frozen: the child resolves only what deno.lock pins.
    args: ["run", `--lock=${CHILD_LOCK}`, "--frozen", ...TASK_FLAGS, MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** The committed results of the full run behind the docs. */
async function committed(): Promise<BenchData> {
  return JSON.parse(await Deno.readTextFile(new URL("./results.json", import.meta.url)));
}

Deno.test("parseOptions() reads the options, and -h / --help alone", () => {
  assert.deepEqual(parseOptions(["--help"]), { help: true });
  assert.deepEqual(parseOptions(["-h", "--quick"]), { help: true });
  const o = parseOptions(["--quick", "--only", "events,http", "--filter", "emit", "--json", "out.json"]);
  assert.deepEqual({ ...o }, { quick: true, only: "events,http", filter: "emit", json: "out.json" });
  assert.deepEqual({ ...parseOptions(["--compare", "a.json", "--against", "b.json"]) }, {
    compare: "a.json",
    against: "b.json",
  });
});

Deno.test("parseOptions() refuses a wrong command line with a one-line UsageError", () => {
  const refused = (args: string[], message: RegExp) =>
    assert.throws(() => parseOptions(args), (e: unknown) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  refused(["--bogus"], /^unknown option '--bogus'$/);
  refused(["-x"], /^unknown option '-x'$/);
  refused(["--json"], /^--json needs a value$/);
  refused(["events"], /^unexpected argument 'events'/);
  refused(["--quick", "--docs"], /--quick cannot write the docs/);
  refused(["--quick", "--compare", "bench/results.json"], /drop --quick/);
  refused(["--docs", "--only", "events"], /drop --only and --filter/);
  refused(["--against", "b.json"], /--against <file> needs --compare <file>/);
  refused(["--only", "events,nope"], /--only: no module 'nope'/);
  refused(["--filter", "("], /--filter: '\(' is not a regular expression/);
});

Deno.test("--help lists every option and every effort variable with its full and quick values", () => {
  for (const option of ["--quick", "--only", "--filter", "--json", "--docs", "--compare", "--against", "--help"]) {
    assert.match(HELP, new RegExp(`^  (-h, )?${option}\\b`, "m"), option);
  }
  for (const m of MODULES) assert.ok(HELP.includes(m), m);
  for (const [name, s] of Object.entries(EFFORT)) {
    const line = HELP.split("\n").find((l) => l.trimStart().startsWith(`${name} `));
    assert.ok(line, `${name} is not listed`);
    const [, full, quick] = line.trim().split(/\s+/);
    assert.equal(full, s.full === undefined ? "all" : String(s.full), name);
    assert.equal(quick, String(s.quick), name);
  }
});

Deno.test("deno task bench --help prints the help and exits 0; a wrong option prints one line and exits 2", async () => {
  const help = await runMain(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.equal(help.stdout.trim(), HELP.trim());
  const wrong = await runMain(["--bogus"]);
  assert.equal(wrong.code, 2);
  assert.equal(wrong.stdout, "");
  const lines = wrong.stderr.trim().split("\n");
  assert.equal(lines.length, 1, wrong.stderr);
  assert.match(lines[0], /unknown option '--bogus'.*--help/);
  assert.doesNotMatch(wrong.stderr, /\bat |Error|\.ts:\d+/);
  const docs = await runMain(["--quick", "--docs"]);
  assert.equal(docs.code, 2);
  assert.match(docs.stderr, /--quick cannot write the docs/);
});

Deno.test("deno task bench --quick says so, sets the quick effort, and marks its JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const json = `${dir}/quick.json`;
    // A filter no group matches: every module is loaded and skips its work, in a second or two.
    const run = await runMain(["--quick", "--filter", "^no group has this title$", "--json", json], {
      BENCH_SAVES: "7",
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^QUICK RUN \(--quick\)/m);
    assert.match(run.stdout, /BENCH_REPEATS=1 .*BENCH_SAVES=7 /);
    assert.match(run.stdout, /Wrote .*quick\.json \(marked quick\)/);
    const data = JSON.parse(await Deno.readTextFile(json));
    assert.equal(data.machine.quick, true);
    assert.equal(data.machine.reducedEffort.BENCH_REPEATS, 1);
    assert.equal(data.machine.reducedEffort.BENCH_PEERS, "tseep");
    // What the user set wins over the quick value.
    assert.equal(data.machine.reducedEffort.BENCH_SAVES, 7);
    await assert.rejects(writeDocs(data, { benchmarks: `${dir}/B.md`, readme: `${dir}/R.md` }), /quick run/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("quickEnv() sets every effort variable the environment does not set already", () => {
  const set = quickEnv({ BENCH_REPEATS: "5", PATH: "/bin" });
  assert.equal(set.BENCH_REPEATS, undefined);
  assert.equal(set.BENCH_HTTP_SECONDS, "1");
  assert.equal(set.BENCH_PEERS, "tseep");
  assert.deepEqual(Object.keys(set).sort(), Object.keys(EFFORT).filter((k) => k !== "BENCH_REPEATS").sort());
});

Deno.test("effortSet() records every effort variable a run sets, full or reduced; nothing else", () => {
  assert.deepEqual(effortSet({}), {});
  assert.deepEqual(
    effortSet({ BENCH_FRESH_RUNS: "20", BENCH_FRESH_PEERS: "tseep", BENCH_REPEATS: "3", HOME: "/root" }),
    { BENCH_FRESH_RUNS: 20, BENCH_FRESH_PEERS: "tseep", BENCH_REPEATS: 3 },
  );
});

Deno.test("reducedEffort() records values below a full run's, and any peer list that narrows the groups", () => {
  assert.deepEqual(reducedEffort({}), {});
  assert.deepEqual(
    reducedEffort({ BENCH_REPEATS: "1", BENCH_FRESH_RUNS: "20", BENCH_PEERS: "tseep", BENCH_FRESH_PEERS: "tseep" }),
    { BENCH_REPEATS: 1, BENCH_PEERS: "tseep" },
  );
});

Deno.test("effort() reads a variable, else the full run's value, and refuses what is not a number", () => {
  const before = Deno.env.get("BENCH_SAVES");
  try {
    Deno.env.delete("BENCH_SAVES");
    assert.equal(effort("BENCH_SAVES"), 30);
    Deno.env.set("BENCH_SAVES", "4");
    assert.equal(effort("BENCH_SAVES"), 4);
    Deno.env.set("BENCH_SAVES", "many");
    assert.throws(() => effort("BENCH_SAVES"), /BENCH_SAVES=many: expected a number/);
  } finally {
    if (before === undefined) Deno.env.delete("BENCH_SAVES");
    else Deno.env.set("BENCH_SAVES", before);
  }
});

Deno.test("casesToMeasure() keeps plugboard and the named peers, or every case when none of them is named", () => {
  const fn = () => () => 0;
  const group = { ours: "plugboard", cases: { plugboard: fn, tseep: fn, mitt: fn } };
  assert.deepEqual(casesToMeasure(group, undefined), ["plugboard", "tseep", "mitt"]);
  assert.deepEqual(casesToMeasure(group, ["tseep"]), ["plugboard", "tseep"]);
  assert.deepEqual(casesToMeasure(group, ["hono"]), ["plugboard", "tseep", "mitt"]);
});

Deno.test("runModule() with the quick settings measures plugboard against BENCH_PEERS only, one short run each", async () => {
  const dir = await Deno.makeTempDir();
  const names = ["BENCH_REPEATS", "BENCH_WARMUP_MS", "BENCH_CASE_MS", "BENCH_PEERS"];
  const before = names.map((n) => Deno.env.get(n));
  try {
    const module = `${dir}/tiny_bench.ts`;
    await Deno.writeTextFile(
      module,
      `let n = 0;
export const groups = {
  "tiny": { ours: "ours", cases: { ours: () => () => n++, fast: () => () => n--, other: () => () => n ^= 1 } },
};
`,
    );
    Object.entries({ BENCH_REPEATS: "1", BENCH_WARMUP_MS: "1", BENCH_CASE_MS: "5", BENCH_PEERS: "fast" })
      .forEach(([k, v]) => Deno.env.set(k, v));
    const [g] = await runModule(new URL(`file://${module}`).href);
    assert.deepEqual(g.cases.map((c) => c.name), ["ours", "fast"]);
    assert.deepEqual(g.cases.map((c) => c.runs?.length), [1, 1]);
    assert.equal(g.fastestPeer, "fast");
    assert.ok(g.cases.every((c) => c.avg > 0 && Number.isFinite(c.avg)), JSON.stringify(g.cases));
    assert.ok(Math.abs(g.ratioToFastestPeer! - g.cases[0].avg / g.cases[1].avg) < 1e-9);
    // BENCH_CASE_MS: mitata's measure for that long, without run()'s calibration, and a line of our own.
    const one = await measureInProcess(new URL(`file://${module}`).href, "tiny", "other");
    assert.match(one.printed, /^other +\d+(\.\d+)? (ps|ns)\/iter +p75 /);
  } finally {
    names.forEach((n, i) => before[i] === undefined ? Deno.env.delete(n) : Deno.env.set(n, before[i]!));
    await Deno.remove(dir, { recursive: true });
  }
});

const WRK_OUTPUT = `Running 2s test @ http://127.0.0.1:39409/api/plugins/hello/missing
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.28ms    1.59ms  19.99ms   91.18%
    Req/Sec    25.88k     7.77k   38.74k    67.50%
  Latency Distribution
     50%  842.00us
     75%    1.15ms
     90%    2.59ms
     99%    1.02s
  102973 requests in 2.00s, 26.32MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 102973
Requests/sec:  51397.25
Transfer/sec:     13.14MB
`;

Deno.test("parseWrk() reads req/s, p50 and p99 in ms, and the error counts", () => {
  assert.deepEqual(parseWrk(WRK_OUTPUT), {
    requestsPerSecond: 51397.25,
    p50Ms: 0.842,
    p99Ms: 1020,
    requests: 102973,
    non2xx: 102973,
    socketErrors: 6,
  });
});

Deno.test("parseWrk() refuses output without figures", () => {
  assert.throws(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused"), /Cannot read wrk's output/);
});

/** A results file with one HTTP case, one in-process group and one reload pattern. */
function run(o: { http: number; httpSpread?: number; time: number; reloads?: number; rps?: number }) {
  return {
    results: {
      routes: [{
        group: "route dispatch",
        ours: "plugboard",
        fastestPeer: "hono",
        ratioToFastestPeer: o.time,
        spread: 0.02,
        cases: [{ name: "plugboard", avg: 500 * o.time }, { name: "hono", avg: 500 }],
      }],
      http: {
        tool: "wrk 4.1.0",
        settings: { threads: 2, connections: 50, warmupSeconds: 1, seconds: 5, rounds: 3 },
        cases: [{
          case: "404",
          path: "/missing",
          ratio: o.http,
          roundRatios: [o.http, o.http, o.http],
          spread: o.httpSpread ?? 0.01,
          ours: { server: "plugboard", requestsPerSecond: o.rps ?? 50_000, p50Ms: 1, p99Ms: 2, rounds: [] },
          peer: { server: "bare Hono", requestsPerSecond: 60_000, p50Ms: 1, p99Ms: 2, rounds: [] },
        }],
      },
      reload: {
        saveToServed: {
          settleMs: 10,
          afterSaveMs: 150,
          patterns: [{
            pattern: "one file",
            saves: 30,
            medianMs: 20,
            p99Ms: 25,
            reloadsPerSave: o.reloads ?? 1,
            failedReloads: 0,
            notServedWithin5s: 0,
          }],
        },
        reloadMs: { median: 3, p99: 5, samples: 50 },
        memory: { method: "m", reloads: 500, heapBytesPerReload: 10_000, rssBytesPerReload: 40_000 },
      },
    },
  };
}

const verdicts = (rows: ReturnType<typeof compare>) => Object.fromEntries(rows.map((r) => [r.id, r.verdict]));

Deno.test("compare() flags a throughput ratio that fell beyond the 5% floor, and a time ratio that rose beyond 15%", () => {
  const v = verdicts(compare(run({ http: 0.9, time: 1.0 }), run({ http: 0.8, time: 1.2 })));
  assert.equal(v["http / 404 / plugboard ÷ bare Hono (req/s)"], "worse");
  assert.equal(v["routes / route dispatch / plugboard ÷ hono (time)"], "worse");
});

Deno.test("compare() calls changes within the band noise, and improvements better", () => {
  const v = verdicts(compare(run({ http: 0.9, time: 1.0 }), run({ http: 0.87, time: 0.8 })));
  assert.equal(v["http / 404 / plugboard ÷ bare Hono (req/s)"], "within noise");
  assert.equal(v["routes / route dispatch / plugboard ÷ hono (time)"], "better");
});

Deno.test("compare() widens the band to the spread between rounds of either run", () => {
  const rows = compare(run({ http: 0.9, time: 1 }), run({ http: 0.8, httpSpread: 0.2, time: 1 }));
  const row = rows.find((r) => r.id.startsWith("http / 404 / plugboard ÷"))!;
  assert.equal(row.band, 0.2);
  assert.equal(row.verdict, "within noise");
});

Deno.test("compare() flags a save that now causes two reloads; absolute figures are info only", () => {
  const v = verdicts(compare(run({ http: 0.9, time: 1 }), run({ http: 0.9, time: 1, reloads: 2, rps: 10 })));
  assert.equal(v["reload / one file / reloads per save"], "worse");
  assert.equal(v["http / 404 / plugboard req/s"], "info");
});

Deno.test("compare() flags the MCP, observability and URL-plugin groups' ratios too", () => {
  const results = (mcp: number, on: number, cold: number) => ({
    results: {
      mcp: [{ where: "in-process", toolCallUs: 10, routeUs: 1, ratio: mcp }],
      observability: [{ isolation: "none", ratios: { metrics: 1, on } }],
      remote: { modules: 20, runs: 5, results: { "plugboard cold": cold, "deno import() cold": 20 } },
    },
  });
  const same = verdicts(compare(results(10, 1, 70), results(10.5, 0.97, 75)));
  assert.equal(same["mcp / in-process / tool call ÷ route call (time)"], "within noise");
  assert.equal(same["observability / none / metrics and access log on ÷ off (req/s)"], "within noise");
  assert.equal(same["remote / plugboard cold ÷ deno import() cold (time)"], "within noise");
  const worse = verdicts(compare(results(10, 1, 70), results(30, 0.5, 350)));
  assert.equal(worse["mcp / in-process / tool call ÷ route call (time)"], "worse");
  assert.equal(worse["observability / none / metrics and access log on ÷ off (req/s)"], "worse");
  assert.equal(worse["observability / none / metrics on ÷ off (req/s)"], "within noise");
  assert.equal(worse["remote / plugboard cold ÷ deno import() cold (time)"], "worse");
  // The committed run has all three groups: each is compared.
  const committed = metricsOf(JSON.parse(Deno.readTextFileSync(new URL("./results.json", import.meta.url))));
  for (const group of ["mcp / ", "observability / ", "remote / "]) {
    assert.ok(committed.some((m) => m.id.startsWith(group) && m.floor !== undefined), group);
  }
});

Deno.test("compare() lists figures found on one side only as new or gone", () => {
  const before = run({ http: 0.9, time: 1 });
  const after = { results: { ...before.results, http: { cases: [] } } };
  const v = verdicts(compare(before, after));
  assert.equal(v["http / 404 / plugboard ÷ bare Hono (req/s)"], "gone");
  assert.equal(verdicts(compare(after, before))["http / 404 / plugboard ÷ bare Hono (req/s)"], "new");
  // A run of some groups only (--filter) calls nothing gone.
  assert.equal(
    verdicts(compare(before, after, { filtered: true }))["http / 404 / plugboard ÷ bare Hono (req/s)"],
    undefined,
  );
});

Deno.test("compare() leaves out the modules the new run did not include", () => {
  const before = run({ http: 0.9, time: 1 });
  const rows = compare(before, { results: { http: before.results.http } });
  assert.ok(rows.length > 0);
  assert.deepEqual(rows.filter((r) => !r.id.startsWith("http / ")), []);
});

/** Adds the figures measured against a bare worker (issue 25) to a results file of `run`. */
function withFloor(
  data: ReturnType<typeof run>,
  o: { emit: number; service: number; start: number; rss: number; spread?: number; oneCore?: number },
) {
  const floorCase = (name: string, ratio: number) => ({
    name,
    inProcessUs: 1,
    workerUs: 40 * ratio,
    ratio: 40 * ratio,
    addedUs: 40 * ratio - 1,
    floorUs: 40,
    floorRatio: ratio,
    floorSpread: o.spread ?? 0.02,
    ...(o.oneCore ? { pinned: true, sameCore: { workerUs: 30 * o.oneCore, floorUs: 30, floorRatio: o.oneCore } } : {}),
  });
  return {
    results: {
      ...data.results,
      isolation: [
        { name: "route through host.fetch", inProcessUs: 5, workerUs: 150, ratio: 30, addedUs: 145 },
        floorCase("emitAsync to one listener", o.emit),
        floorCase("service call round trip", o.service),
      ],
      startup: {
        results: [{ plugins: 100, ms: 150, msPerPlugin: 1.5 }, { plugins: 1000, ms: 1500, msPerPlugin: 1.5 }],
        workers: [{
          plugins: 100,
          ms: 4000 * o.start,
          msPerPlugin: 40 * o.start,
          rssGrowthPerPlugin: 8 * 2 ** 20 * o.rss,
        }],
        emptyWorkers: [{ workers: 100, ms: 4000, rssPerWorker: 8 * 2 ** 20, runs: [4000] }],
        vsEmptyWorkers: [{ plugins: 100, startRatio: o.start, startSpread: 0.03, rssRatio: o.rss, rssSpread: 0.01 }],
      },
    },
  };
}

/** The ids of the figures against a bare worker. */
const FLOOR_IDS = {
  emit: "isolation / emitAsync to one listener, in a worker ÷ bare postMessage round trip (time)",
  service: "isolation / service call round trip, in a worker ÷ bare postMessage round trip (time)",
  start: "startup / 100 plugins in workers ÷ 100 empty workers (time)",
  rss: "startup / 100 plugins in workers, RSS per plugin ÷ per empty worker",
};

Deno.test("compare() flags a ratio to a bare worker that got worse beyond its 15% floor, and calls the rest noise", () => {
  const base = run({ http: 0.9, time: 1 });
  const before = withFloor(base, { emit: 1.4, service: 1.5, start: 1.2, rss: 1.3 });
  const v = verdicts(compare(before, withFloor(base, { emit: 1.7, service: 1.6, start: 1.5, rss: 1.6 })));
  assert.equal(v[FLOOR_IDS.emit], "worse");
  assert.equal(v[FLOOR_IDS.service], "within noise");
  assert.equal(v[FLOOR_IDS.start], "worse");
  assert.equal(v[FLOOR_IDS.rss], "worse");
  assert.equal(v["isolation / emitAsync to one listener, in a worker"], "info");
  assert.equal(v["startup / 100 empty workers"], "info");
  // The spread between halves of the batches widens the band, as a spread between repeats does.
  const noisy = compare(before, withFloor(base, { emit: 1.7, service: 1.5, start: 1.2, rss: 1.3, spread: 0.3 }));
  const emit = noisy.find((r) => r.id === FLOOR_IDS.emit)!;
  assert.equal(emit.band, 0.3);
  assert.equal(emit.verdict, "within noise");
});

Deno.test("deno task bench --compare old --against new exits 1 when a ratio to a bare worker got worse", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const base = run({ http: 0.9, time: 1 });
    const write = async (name: string, data: unknown) => {
      await Deno.writeTextFile(`${dir}/${name}`, JSON.stringify(data));
      return `${dir}/${name}`;
    };
    const old = await write("old.json", withFloor(base, { emit: 1.4, service: 1.5, start: 1.2, rss: 1.3 }));
    const same = await write("same.json", withFloor(base, { emit: 1.45, service: 1.5, start: 1.2, rss: 1.3 }));
    const worse = await write("worse.json", withFloor(base, { emit: 1.4, service: 1.5, start: 1.2, rss: 1.8 }));
    const ok = await runMain(["--compare", old, "--against", same]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const flagged = await runMain(["--compare", old, "--against", worse]);
    assert.equal(flagged.code, 1, flagged.stdout + flagged.stderr);
    assert.match(flagged.stdout, /RSS per plugin ÷ per empty worker .* WORSE/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run without the figures against a bare worker reads as not measured; the committed run has them", async () => {
  const measured = metricsOf(await committed()).map((m) => m.id);
  for (const id of Object.values(FLOOR_IDS)) assert.ok(measured.includes(id), id);
  // Measured in the new run only: new, never worse; measured in the baseline only: gone, never worse.
  const withIt = withFloor(run({ http: 0.9, time: 1 }), { emit: 9, service: 9, start: 9, rss: 9 });
  // The same run as one made before these figures existed: the groups ran, without them.
  const data = structuredClone(withIt) as typeof withIt;
  const results = data.results as Record<string, unknown>;
  results.isolation = (results.isolation as Record<string, unknown>[]).map(
    ({ floorUs: _u, floorRatio: _r, floorSpread: _s, ...rest }) => rest,
  );
  const { emptyWorkers: _e, vsEmptyWorkers: _v, ...startup } = results.startup as Record<string, unknown>;
  results.startup = startup;
  const ids = metricsOf(data).map((m) => m.id);
  for (const id of Object.values(FLOOR_IDS)) assert.ok(!ids.includes(id), id);
  const newer = { results: { ...data.results, isolation: withIt.results.isolation, startup: withIt.results.startup } };
  const up = verdicts(compare(data, newer));
  for (const id of Object.values(FLOOR_IDS)) assert.equal(up[id], "new", id);
  const down = verdicts(compare(newer, data));
  for (const id of Object.values(FLOOR_IDS)) assert.equal(down[id], "gone", id);
  assert.ok(!Object.values(up).includes("worse"), JSON.stringify(up));
  const dated = { deno: "2.9.6", date: "2026-01-01T00:00:00Z", ...data };
  const md = renderSummary(dated) + renderResults(dated);
  assert.doesNotMatch(md, /empty worker|bare `postMessage`/);
});

Deno.test("renderSummary() and renderResults() give the ratios to a bare worker, with their goals", () => {
  const data = {
    deno: "2.9.6",
    date: "2026-01-01T00:00:00Z",
    ...withFloor(run({ http: 0.9, time: 1 }), { emit: 1.4, service: 1.6, start: 1.25, rss: 1.5 }),
  };
  const summary = renderSummary(data);
  assert.match(
    summary,
    /\| emitAsync to one listener in a worker, against a bare `postMessage` round trip \(goal ≤ 1\.5\) \| 56\.0 µs \| bare round trip 40\.0 µs \| 1\.40 \(time\) \|/,
  );
  assert.match(summary, /\| service call round trip in a worker, against .* \| 1\.60 \(time\) \|/);
  assert.match(
    summary,
    /\| cold `host\.start\(\)` in workers, 100 plugins, against 100 empty workers \(goal ≤ 1\.2\) \| 5\.00 s \| 100 empty workers 4\.00 s \| 1\.25 \(time\) \|/,
  );
  assert.match(
    summary,
    /\| RSS per isolated plugin, 100 plugins, against an empty worker's \(goal ≤ 1\.3\) \| 12\.0 MiB \| empty worker 8\.0 MiB \| 1\.50 \(RSS\) \|/,
  );
  const results = renderResults(data);
  assert.match(results, /\| emitAsync to one listener \| 56\.0 µs \| 40\.0 µs \| \*\*1\.40\*\* \(±2%\) \|/);
  assert.doesNotMatch(summary + results, /one core|separate cores/);
  assert.match(
    results,
    /\| 100 \| 5000\.0 ms \| 4000\.0 ms \| \*\*1\.25\*\* \(±3%\) \| 12\.0 MiB \| 8\.0 MiB \| \*\*1\.50\*\* \(±1%\) \|/,
  );
});

Deno.test("a pinned run shows its placement and the one-core round trips, and compare() tracks those ratios", () => {
  const base = run({ http: 0.9, time: 1 });
  const data = {
    deno: "2.9.6",
    date: "2026-01-01T00:00:00Z",
    ...withFloor(base, { emit: 1.4, service: 1.6, start: 1.25, rss: 1.5, oneCore: 1.8 }),
  };
  const summary = renderSummary(data);
  assert.match(
    summary,
    /\| emitAsync to one listener in a worker, against a bare `postMessage` round trip, threads on separate cores/,
  );
  assert.match(
    summary,
    /\| the same, all threads on one core \| 54\.0 µs \| bare round trip 30\.0 µs \| 1\.80 \(time\) \|/,
  );
  const results = renderResults(data);
  assert.match(results, /pinned to separate cores; then again with all of them pinned to one core/);
  assert.match(
    results,
    /\| service call round trip \| 64\.0 µs \| 40\.0 µs \| \*\*1\.60\*\* \(±2%\) \| 1\.60 \| 54\.0 µs \| 30\.0 µs \| 1\.80 \| 1\.80 \|/,
  );
  const oneCore = "isolation / service call round trip, in a worker ÷ bare postMessage round trip, one core (time)";
  const worse = withFloor(base, { emit: 1.4, service: 1.6, start: 1.25, rss: 1.5, oneCore: 2.4 });
  assert.equal(verdicts(compare(data, worse))[oneCore], "worse");
  assert.equal(verdicts(compare(data, data))[oneCore], "within noise");
});

/** Whether a command is there to run (the pinning needs util-linux's `taskset` and procps' `ps`). */
function runs(command: string, ...args: string[]): boolean {
  try {
    return new Deno.Command(command, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "pinThreads() puts the main thread on core 0 and the workers where asked; unpinThreads() frees them",
  ignore: Deno.build.os !== "linux" || navigator.hardwareConcurrency < 2 || !runs("taskset", "-V") || !runs("ps", "-V"),
  fn: async () => {
    const pin = new URL("./_pin_threads.ts", import.meta.url).href;
    const script = `
      import { pinThreads, unpinThreads } from ${JSON.stringify(pin)};
      const w = new Worker("data:text/javascript,self.onmessage = () => {}", { type: "module" });
      await new Promise((r) => setTimeout(r, 100));
      const ps = async () => new TextDecoder().decode((await new Deno.Command("ps", {
        args: ["-T", "-p", String(Deno.pid), "-o", "tid=,comm="] }).output()).stdout).trim().split("\\n")
        .map((l) => l.trim().split(/\\s+/));
      const mask = async (tid) => new TextDecoder().decode((await new Deno.Command("taskset", {
        args: ["-pc", tid] }).output()).stdout).trim().split(": ").pop();
      const show = async () => {
        const threads = await ps();
        const main = await mask(String(Deno.pid));
        const worker = await mask(threads.find(([, name]) => name.startsWith("worker-"))[0]);
        return main + "/" + worker;
      };
      const before = await show();
      const out = [await pinThreads("cross"), await show(), await pinThreads("same"), await show()];
      await unpinThreads();
      out.push(await show() === before);
      w.terminate();
      console.log(JSON.stringify(out));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-check", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(text), [true, "0/1", true, "0/0", true]);
  },
});

Deno.test("pairedRatio(), halvesSpread() and emptyWorkersRatio(): ratios, and how far they move between runs", () => {
  // Even batches: ratio 2; odd batches: ratio 2.4; all: the median of 2, 2.4, 2, 2.4, 2, 2.4 is 2.2.
  const ours = [40, 48, 40, 48, 40, 48];
  const floor = [20, 20, 20, 20, 20, 20];
  assert.ok(Math.abs(pairedRatio(ours, floor) - 2.2) < 1e-9);
  assert.ok(Math.abs(halvesSpread(ours, floor, 2.2) - 0.2 / 2.2) < 1e-9);
  // A busy moment that slows both of a pair leaves its ratio as it was.
  const busyOurs = [20, 20, 60, 60, 20], busyFloor = [10, 10, 30, 30, 10];
  assert.equal(pairedRatio(busyOurs, busyFloor), 2);
  assert.ok(Math.abs(halvesSpread(busyOurs, busyFloor, 2)) < 1e-9);
  const mb = 2 ** 20;
  const r = emptyWorkersRatio(
    10,
    [{ ms: 120, rssPerPlugin: 13 * mb }, { ms: 100, rssPerPlugin: 12 * mb }, { ms: 110, rssPerPlugin: 12 * mb }],
    [
      { ms: 100, rssBefore: 40 * mb, rssIdle: 120 * mb },
      { ms: 100, rssBefore: 40 * mb, rssIdle: 120 * mb },
      { ms: 100, rssBefore: 40 * mb, rssIdle: 120 * mb },
    ],
  );
  assert.equal(r.startRatio, 1.1);
  assert.equal(r.rssRatio, 1.5);
  assert.ok(Math.abs(r.startSpread - 0.1 / 1.1) < 1e-9);
  assert.ok(Math.abs(r.rssSpread - (1.625 - 1.5) / 2 / 1.5) < 1e-9);
});

Deno.test("metricsOf() reads the committed bench/results.json", async () => {
  const data = JSON.parse(await Deno.readTextFile(new URL("./results.json", import.meta.url)));
  const ids = metricsOf(data).map((m) => m.id);
  assert.ok(ids.some((id) => id.startsWith("routes / ")), ids.join("\n"));
});

Deno.test("writeDocs() replaces only the marked parts, again and again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const benchmarks = `${dir}/B.md`;
    const readme = `${dir}/R.md`;
    const doc = "# B\n\nhand\n\n<!-- bench:summary:start -->\nold\n<!-- bench:summary:end -->\n\n" +
      "text\n\n<!-- bench:results:start -->\nold\n<!-- bench:results:end -->\n";
    await Deno.writeTextFile(benchmarks, doc);
    await Deno.writeTextFile(readme, "# R\n\n<!-- bench:summary:start -->\n<!-- bench:summary:end -->\n\nafter\n");
    const data = { deno: "2.9.6", date: "2026-01-01T00:00:00Z", ...run({ http: 0.9, time: 1.1 }) };
    await writeDocs(data, { benchmarks, readme });
    const once = await Deno.readTextFile(benchmarks);
    await writeDocs(data, { benchmarks, readme });
    assert.equal(await Deno.readTextFile(benchmarks), once);
    assert.match(once, /^# B\n\nhand\n/);
    assert.match(once, /\n\ntext\n\n/);
    assert.doesNotMatch(once, /\nold\n/);
    assert.match(once, /\| HTTP req\/s \(wrk\), 404 +\| +50,000 \|/);
    const r = await Deno.readTextFile(readme);
    assert.match(r, /From the run of 2026-01-01/);
    assert.match(r, /\nafter\n$/);
    // The README gets the short table and the link; BENCHMARKS.md keeps a row per group.
    assert.match(r, /\| headline +\| plugboard +\|/);
    assert.ok(r.replace(/\s+/g, " ").includes(README_LINK), r);
    assert.doesNotMatch(r, /memory retained per reload/);
    assert.match(once, /\| memory retained per reload in-process \(heap \/ RSS\) +\|/);
    assert.doesNotMatch(once, /\| headline /);
    await Deno.writeTextFile(readme, "# R without markers\n");
    await assert.rejects(writeDocs(data, { benchmarks, readme }), /markers <!-- bench:summary:start -->/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderSummary() has one row per in-process group and HTTP case", () => {
  const md = renderSummary({ deno: "2.9.6", date: "2026-01-01T00:00:00Z", ...run({ http: 0.9, time: 1.1 }) });
  assert.match(
    md,
    /\| `host.fetch`, no network: route dispatch \| 550\.00 ns \| hono 500\.00 ns \| 1\.10 \(time\) \|/,
  );
  assert.match(md, /\| HTTP req\/s \(wrk\), 404 \| 50,000 \| bare Hono /);
});

Deno.test("renderSummary() and metricsOf() name the peer of a case measured against another server", () => {
  const data = { deno: "2.9.6", date: "2026-01-01T00:00:00Z", ...run({ http: 0.7, time: 1.1 }) };
  const http = data.results.http as { cases: Record<string, unknown>[] };
  http.cases[0].peerLabel = "bare Hono in a worker";
  assert.match(
    renderSummary(data),
    /\| HTTP req\/s \(wrk\), 404 \| 50,000 \| bare Hono in a worker 60,000 \| 0\.70 \|/,
  );
  const ids = metricsOf(data).map((m) => m.id);
  assert.ok(ids.includes("http / 404 / plugboard ÷ bare Hono in a worker (req/s)"), ids.join("; "));
});

Deno.test("renderSummary() and metricsOf() show the memory per worker reload beside a bare worker's cycle", () => {
  const data = { deno: "2.9.6", date: "2026-01-01T00:00:00Z", ...run({ http: 0.9, time: 1.1 }) };
  const reload = data.results.reload as Record<string, unknown>;
  reload.worker = {
    reloadMs: { median: 40, p99: 50, samples: 30 },
    memory: { method: "w", reloads: 1000, heapBytesPerReload: 2048, rssBytesPerReload: 26 * 1024 },
  };
  reload.bareWorker = { method: "b", cycles: 1000, rssBytesPerCycle: 8 * 1024 };
  assert.match(
    renderSummary(data),
    /\| memory retained per reload in a worker \(host heap \/ RSS\) \| 2\.0 KiB \/ 26\.0 KiB \| bare worker cycle: - \/ 8\.0 KiB \|/,
  );
  const byId = Object.fromEntries(metricsOf(data).map((m) => [m.id, m.value]));
  assert.equal(byId["reload / RSS per bare worker cycle"], 8);
});

Deno.test("renderResults() puts each case's warmed average beside its spread across fresh processes", () => {
  const data = { deno: "2.9.6", date: "2026-01-01T00:00:00Z", ...run({ http: 0.9, time: 1.1 }) };
  const fresh = (median: number) => ({ runs: [median], min: median, median, max: median, unbatched: 0 });
  const results = data.results as Record<string, unknown>;
  results.events = [{
    group: "emit, 10 distinct listeners",
    ours: "plugboard",
    cases: [
      { name: "plugboard", avg: 9.1, p75: 9.2, p99: 9.3, fresh: fresh(8.4) },
      { name: "tseep", avg: 7.3, p75: 7.4, p99: 7.5, fresh: fresh(8.3) },
    ],
  }];
  results.routes_spread = [{
    group: "route dispatch",
    ours: "plugboard",
    cases: [{ name: "plugboard", fresh: fresh(420) }, { name: "hono", fresh: fresh(260) }],
  }];
  const md = renderResults(data);
  assert.match(md, /\| \*\*plugboard\*\* \| 8\.40 ns \| 8\.40 ns \| 8\.40 ns \| 0 \| 9\.10 ns \|/);
  assert.match(md, /\| tseep \| 8\.30 ns \| 8\.30 ns \| 8\.30 ns \| 0 \| 7\.30 ns \|/);
  // The route spread's warmed figures come from the route group of the same name: 550 and 500 ns in `run`.
  assert.match(md, /\| \*\*plugboard\*\* \| 420\.00 ns \| 420\.00 ns \| 420\.00 ns \| 0 \| 550\.00 ns \|/);
  assert.match(md, /\| hono \| 260\.00 ns \| 260\.00 ns \| 260\.00 ns \| 0 \| 500\.00 ns \|/);
});

Deno.test("renderHeadlines() of the committed run: at most 8 rows, the headline ratios, each against its peer", async () => {
  const md = renderHeadlines(await committed());
  const rows = md.split("\n").slice(2);
  assert.ok(rows.length >= 7 && rows.length <= 8, md);
  assert.match(md, /\| event emit, 1 listener \| 766 ps \| tseep 827 ps \| 0\.93 \(time\) \|/);
  assert.match(md, /\| event emit, 10 distinct listeners \| 9\.55 ns \| tseep 6\.49 ns \| 1\.47 \(time\) \|/);
  assert.match(
    md,
    /\| route via `host\.fetch`, 100 plugins × 5 routes, in-process \| 412\.88 ns \| bare Hono app\.fetch 172\.54 ns \| 2\.39 \(time\) \|/,
  );
  assert.match(
    md,
    /\| HTTP req\/s \(wrk\), plugin route, in-process \| 43,073 \| bare Hono 53,625 \| 0\.78 \(req\/s\) \|/,
  );
  assert.match(
    md,
    /\| HTTP req\/s \(wrk\), plugin route, in a worker \(default\) \| 16,373 \| bare Hono 61,758 \| 0\.31 \(req\/s\) \|/,
  );
  assert.match(
    md,
    /\| HTTP req\/s \(wrk\), in a worker, against the worker floor \| 21,296 \| bare Hono in a worker 16,860 \| 1\.25 \(req\/s\) \|/,
  );
  assert.match(md, /\| hot reload, save → served \(median\), in-process \/ in a worker \| 24\.6 ms \/ 30\.1 ms \|/);
  assert.match(md, /\| cold `host\.start\(\)`, 100 plugins, in-process \/ in workers \| 176 ms \/ 4\.26 s \|/);
});

Deno.test("renderHeadlines() leaves out what a run lacks; renderReadmeSummary() ends with the link", () => {
  const data = { deno: "2.9.6", date: "2026-01-01T00:00:00Z", ...run({ http: 0.9, time: 1.1 }) };
  const md = renderHeadlines(data);
  // The fixture's route group and HTTP case are not among the headline ones; its reload has no worker pattern.
  assert.deepEqual(md.split("\n").slice(2), ["| hot reload, save → served (median), in-process | 20.0 ms | - | - |"]);
  assert.equal(renderHeadlines({ deno: "2.9.6", date: "2026-01-01T00:00:00Z", results: {} }), "");
  const summary = renderReadmeSummary(data);
  assert.match(summary, /^From the run of 2026-01-01 /);
  assert.ok(summary.endsWith(README_LINK));
});

Deno.test("renderRun() and the README's sentence mark a quick run", () => {
  const data: BenchData = {
    deno: "2.9.6",
    date: "2026-01-01T00:00:00Z",
    machine: { quick: true, reducedEffort: { BENCH_REPEATS: 1 } },
    results: {},
  };
  assert.match(
    renderRun(data),
    /^> \*\*Provisional figures\*\*: this run was made with a quick run's reduced effort \(`--quick`: BENCH_REPEATS=1\)/,
  );
  assert.match(renderReadmeSummary(data), /\*\*Quick run\*\*: reduced effort, indicative figures only\./);
});

Deno.test("the README's summary block is the one renderReadmeSummary() makes of the committed run", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const block = readme.split("<!-- bench:summary:start -->")[1]?.split("<!-- bench:summary:end -->")[0] ?? "";
  const cells = (md: string) =>
    md.split("\n").filter((l) => l.startsWith("| ") && !/^\| -/.test(l)).map((l) =>
      l.split("|").map((c) => c.trim()).join("|")
    );
  assert.deepEqual(cells(block), cells(renderReadmeSummary(await committed())));
  assert.ok(block.replace(/\s+/g, " ").includes(README_LINK), block);
});
