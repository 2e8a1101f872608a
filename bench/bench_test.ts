/**
 * Tests of the benchmark tooling: reading wrk's output, the regression
 * check's verdicts and bands, and the regeneration of the docs.
 * `deno test --allow-read --allow-write --allow-env --allow-run bench/`
 *
 * @module
 */

import assert from "node:assert/strict";
import { compare, metricsOf } from "./compare.ts";
import { parseWrk } from "./http_bench.ts";
import { renderResults, renderSummary, writeDocs } from "./report.ts";

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

Deno.test("compare() lists figures found on one side only as new or gone", () => {
  const before = run({ http: 0.9, time: 1 });
  const after = { results: { ...before.results, http: { cases: [] } } };
  const v = verdicts(compare(before, after));
  assert.equal(v["http / 404 / plugboard ÷ bare Hono (req/s)"], "gone");
  assert.equal(verdicts(compare(after, before))["http / 404 / plugboard ÷ bare Hono (req/s)"], "new");
});

Deno.test("compare() leaves out the modules the new run did not include", () => {
  const before = run({ http: 0.9, time: 1 });
  const rows = compare(before, { results: { http: before.results.http } });
  assert.ok(rows.length > 0);
  assert.deepEqual(rows.filter((r) => !r.id.startsWith("http / ")), []);
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
