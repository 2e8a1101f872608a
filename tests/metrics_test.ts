/**
 * `GET /metrics`: Prometheus text through prom-client, read back by a real
 * parser; guarded like the admin API unless public; route patterns, never raw
 * paths; one registry per host.
 */

import assert from "node:assert/strict";
import parsePrometheus from "parse-prometheus-text-format";
import { Registry } from "prom-client";
import { HostMetrics, MAX_ROUTE_SERIES } from "../src/metrics/metrics.ts";
import { MAX_STATUS_KEYS } from "../src/metrics/route_series.ts";
import { folderHost, LOOPBACK, pluginSource, quietHost, tempPlugins, waitFor } from "./_helpers.ts";

const KEY = "metrics-test-key-0123456789abcdef";

interface Family {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string }[];
}

const parse = parsePrometheus as unknown as (text: string) => Family[];

const SHOP = pluginSource("shop", {
  setup: `
    ctx.routes.get("/items/:id", (c) => c.text("item " + c.req.param("id")));
    ctx.routes.get("/fail", () => { throw new Error("nope"); });
    ctx.routes.post("/emit", async (c) => {
      ctx.events.emit("shop.sold", { id: 1 });
      await ctx.events.emitAsync("shop.restocked", { id: 1 });
      return c.text("ok");
    });
    ctx.events.on("shop.sold", () => { throw new Error("handler failed"); });`,
});

async function scrape(host: { fetch: (r: Request, i?: Deno.ServeHandlerInfo) => Response | Promise<Response> }) {
  const res = await host.fetch(new Request("http://127.0.0.1/metrics", { headers: { "x-api-key": KEY } }), LOOPBACK);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, families: new Map(parse(text).map((f) => [f.name, f])) };
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  const family = families.get(name);
  const found = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found?.value === undefined ? undefined : Number(found.value);
}

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`metrics (${isolation}): requests by plugin, route pattern and status, latency, events, failures, reloads`, async () => {
    await using tmp = await tempPlugins({ "plugins/shop/mod.ts": SHOP });
    const host = folderHost(tmp.dir, { isolation, apiKey: KEY });
    try {
      await host.start();
      const call = async (path: string, init?: RequestInit) => {
        const res = await host.fetch(new Request(`http://127.0.0.1${path}`, init), LOOPBACK);
        await res.body?.cancel();
        return res.status;
      };
      assert.equal(await call("/api/plugins/shop/items/41"), 200);
      assert.equal(await call("/api/plugins/shop/items/42"), 200);
      assert.equal(await call("/api/plugins/shop/fail"), 500);
      assert.equal(await call("/api/plugins/shop/no-such-route-12345"), 404);
      assert.equal(await call("/api/plugins/shop/emit", { method: "POST" }), 200);
      await host.reload("shop");
      const { text, families } = await scrape(host);
      const route = "/api/plugins/shop/items/:id";
      assert.equal(
        value(families, "plugboard_http_requests_total", { plugin: "shop", route, method: "GET", status: "200" }),
        2,
      );
      assert.equal(
        value(families, "plugboard_http_requests_total", {
          plugin: "shop",
          route: "/api/plugins/shop/fail",
          status: "500",
        }),
        1,
      );
      // An unmatched path is counted without its path: cardinality stays bounded.
      assert.equal(value(families, "plugboard_http_requests_total", { plugin: "", route: "", status: "404" }), 1);
      assert.ok(!text.includes("items/41") && !text.includes("no-such-route-12345"), "no raw path in the metrics");
      const latency = families.get("plugboard_http_request_duration_seconds")!;
      assert.equal(latency.type, "HISTOGRAM");
      assert.ok(latency.metrics.some((m) => m.buckets?.["+Inf"] !== undefined));
      // (the parser keeps a histogram's buckets but not its labels: the count is read from the text)
      assert.match(
        text,
        /plugboard_http_request_duration_seconds_count\{plugin="shop",route="\/api\/plugins\/shop\/items\/:id"\} 2/,
      );
      // Counted by emitting plugin: the plugin's own emit under its name, the host's under "".
      assert.equal(value(families, "plugboard_events_emitted_total", { event: "shop.sold", plugin: "shop" }), 1);
      assert.equal(value(families, "plugboard_events_emitted_total", { event: "shop.sold", plugin: "" }), undefined);
      assert.equal(value(families, "plugboard_events_emitted_total", { event: "shop.restocked", plugin: "shop" }), 1);
      assert.equal(value(families, "plugboard_events_emitted_total", { event: "plugin.reloaded", plugin: "" }), 1);
      // Buckets are cumulative and end with every request at +Inf.
      assert.match(
        text,
        /plugboard_http_request_duration_seconds_bucket\{plugin="shop",route="\/api\/plugins\/shop\/items\/:id",le="\+Inf"\} 2/,
      );
      assert.match(
        text,
        /plugboard_http_request_duration_seconds_bucket\{plugin="shop",route="\/api\/plugins\/shop\/items\/:id",le="30"\} 2/,
      );
      assert.equal(value(families, "plugboard_event_handler_failures_total", { plugin: "shop" }), 1);
      assert.equal(value(families, "plugboard_plugin_failures_total", { plugin: "shop", origin: "route" }), 1);
      assert.equal(value(families, "plugboard_reloads_total", { plugin: "shop" }), 1);
      assert.equal(value(families, "plugboard_plugins", { state: "active" }), 1);
      assert.ok(value(families, "plugboard_process_memory_bytes", { kind: "rss" })! > 0);
      assert.ok(value(families, "plugboard_event_loop_lag_seconds", {})! >= 0);
      // Unloaded: its request series leave the exposition, and its chart the dashboard.
      assert.ok(host.observability.activity.series("shop").some((b) => b.requests > 0));
      await host.unload("shop");
      const after = await scrape(host);
      assert.equal(value(after.families, "plugboard_http_requests_total", { plugin: "shop" }), undefined);
      assert.ok(!after.text.includes('route="/api/plugins/shop/items/:id"'));
      // Its counters too (what it emitted, its failures, its reloads); the host's own emits stay.
      assert.deepEqual(after.text.split("\n").filter((line) => line.includes('plugin="shop"')), []);
      assert.equal(
        value(after.families, "plugboard_events_emitted_total", { event: "plugin.reloaded", plugin: "" }),
        1,
      );
      assert.ok(host.observability.activity.series("shop").every((b) => b.requests === 0));
    } finally {
      await host.stop();
    }
  });
}

Deno.test("metrics: series are bounded per plugin, statuses per series; past the bounds they fold, by plugin", async () => {
  const metrics = new HostMetrics({ states: () => ({}), memory: () => Promise.resolve({}) });
  for (let i = 0; i < MAX_ROUTE_SERIES; i++) metrics.series("p", `/api/plugins/p/r${i}`).observe("GET", 200, 1);
  metrics.series("p", "/api/plugins/p/late").observe("GET", 200, 1);
  metrics.series("p", "/api/plugins/p/later").observe("BREW", 418, 1);
  // Another plugin is not crowded out by the first one's routes.
  metrics.series("q", "/api/plugins/q/x").observe("PUT", 201, 1);
  // One handler answering every status: exact up to the bound, then by class.
  const wide = metrics.series("w", "/api/plugins/w/any");
  for (let status = 200; status < 600; status++) wide.observe("GET", status, 1);
  const families = new Map(parse(await metrics.text()).map((f) => [f.name, f]));
  const rows = families.get("plugboard_http_requests_total")!.metrics;
  assert.equal(rows.filter((m) => m.labels?.plugin === "p").length, MAX_ROUTE_SERIES + 2);
  assert.equal(value(families, "plugboard_http_requests_total", { route: "/api/plugins/p/r0" }), 1);
  assert.equal(value(families, "plugboard_http_requests_total", { route: "/api/plugins/p/late" }), undefined);
  assert.equal(value(families, "plugboard_http_requests_total", { plugin: "p", route: "other", method: "GET" }), 1);
  assert.equal(
    value(families, "plugboard_http_requests_total", { plugin: "p", route: "other", method: "other", status: "418" }),
    1,
  );
  assert.equal(value(families, "plugboard_http_requests_total", { plugin: "q", method: "PUT", status: "201" }), 1);
  const w = rows.filter((m) => m.labels?.plugin === "w");
  assert.equal(w.length, MAX_STATUS_KEYS + 4, "32 exact statuses, then 2xx, 3xx, 4xx and 5xx by class");
  assert.equal(value(families, "plugboard_http_requests_total", { plugin: "w", status: "231" }), 1);
  assert.equal(value(families, "plugboard_http_requests_total", { plugin: "w", status: "232" }), undefined);
  assert.equal(value(families, "plugboard_http_requests_total", { plugin: "w", status: "2xx" }), 68);
  assert.equal(value(families, "plugboard_http_requests_total", { plugin: "w", status: "5xx" }), 100);
  // Its counters, some still to be collected when it goes.
  metrics.emitted("p.done", "p");
  await metrics.text();
  metrics.emitted("p.late", "p");
  metrics.failure("p", "route");
  metrics.failure("p", "event");
  metrics.reload("p", true);
  metrics.reload("p", false);
  metrics.crash("p", "hang");
  metrics.failure("q", "route");
  assert.ok((await metrics.text()).includes('plugboard_restarts_total{plugin="p",cause="hang"} 1'));
  metrics.emitted("p.after-scrape", "p");
  // Forgotten on unload: its series leave the exposition; another plugin's stay.
  metrics.forget("p");
  const left = await metrics.text();
  assert.deepEqual(left.split("\n").filter((line) => line.includes('plugin="p"')), []);
  assert.match(left, /plugboard_plugin_failures_total\{plugin="q",origin="route"\} 1/);
});

Deno.test("metrics: every usual method keeps its name; OpenMetrics renders counters once suffixed", async () => {
  const metrics = new HostMetrics({ states: () => ({}), memory: () => Promise.resolve({}) });
  const s = metrics.series("p", "/api/plugins/p/x");
  const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
  methods.forEach((m, i) => {
    for (let n = 0; n <= i; n++) s.observe(m, 200, 1);
  });
  const families = new Map(parse(await metrics.text()).map((f) => [f.name, f]));
  for (const [i, method] of methods.entries()) {
    assert.equal(value(families, "plugboard_http_requests_total", { method }), i + 1, method);
  }
  metrics.registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
  const open = await metrics.text();
  assert.match(open, /^plugboard_http_requests_total\{plugin="p"/m);
  assert.ok(!open.includes("_total_total"), open);
  metrics.registry.resetMetrics();
  assert.ok(!(await metrics.text()).includes('route="/api/plugins/p/x"'));
});

Deno.test("metrics: the latency histogram's buckets are cumulative, with its sum and count", async () => {
  const metrics = new HostMetrics({ states: () => ({}), memory: () => Promise.resolve({}) });
  const series = metrics.series("p", "/api/plugins/p/x");
  for (const ms of [3, 40, 5, 40_000]) series.observe("GET", 200, ms);
  const text = await metrics.text();
  const bucket = (le: string) =>
    Number(
      text.match(new RegExp(`_bucket\\{plugin="p",route="/api/plugins/p/x",le="${le.replace("+", "\\+")}"\\} (\\S+)`))
        ?.[1],
    );
  assert.deepEqual(["0.001", "0.005", "0.01", "0.05", "30", "+Inf"].map(bucket), [0, 2, 2, 3, 3, 4]);
  assert.match(text, /_sum\{plugin="p",route="\/api\/plugins\/p\/x"\} 40\.048/);
  assert.match(text, /_count\{plugin="p",route="\/api\/plugins\/p\/x"\} 4/);
});

Deno.test("metrics: a refused reload is counted as a reload failure", async () => {
  await using tmp = await tempPlugins({ "plugins/shop/mod.ts": SHOP });
  const host = folderHost(tmp.dir, { apiKey: KEY });
  try {
    await host.start();
    await tmp.write("plugins/shop/mod.ts", "export default {");
    await assert.rejects(host.reload("shop"));
    const { families } = await scrape(host);
    assert.equal(value(families, "plugboard_reload_failures_total", { plugin: "shop" }), 1);
    assert.equal(value(families, "plugboard_reloads_total", { plugin: "shop" }), undefined);
  } finally {
    await host.stop();
  }
});

Deno.test("metrics: guarded like the admin API unless configured public", async () => {
  const guarded = quietHost({ pluginsDir: null, apiKey: KEY });
  const open = quietHost({ pluginsDir: null, apiKey: KEY, observability: { publicMetrics: true } });
  const off = quietHost({ pluginsDir: null, apiKey: KEY, observability: { metrics: false } });
  try {
    const get = (host: typeof guarded, headers: Record<string, string> = {}) =>
      Promise.resolve(host.fetch(new Request("http://127.0.0.1/metrics", { headers }), LOOPBACK));
    const refused = await get(guarded);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).code, "UNAUTHORIZED");
    const wrong = await get(guarded, { "x-api-key": "wrong-key-0123456789" });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    assert.ok(guarded.logs.some((r) => r.level === "warn" && /GET \/metrics refused with 401/.test(r.message)));
    const allowed = await get(guarded, { authorization: `Bearer ${KEY}` });
    assert.equal(allowed.status, 200);
    await allowed.body?.cancel();
    const pub = await get(open);
    assert.equal(pub.status, 200);
    assert.match(await pub.text(), /plugboard_http_requests_total/);
    const none = await get(off, { "x-api-key": KEY });
    assert.equal(none.status, 404);
    await none.body?.cancel();
  } finally {
    await guarded.stop();
    await open.stop();
    await off.stop();
  }
});

Deno.test("metrics: each host has its own registry", async () => {
  const a = quietHost({ pluginsDir: null, apiKey: KEY });
  const b = quietHost({ pluginsDir: null, apiKey: KEY });
  try {
    const plugin = (name: string) => ({
      name,
      version: "1.0.0",
      setup(ctx: { routes: { get(p: string, h: (c: { text(t: string): Response }) => Response): void } }) {
        ctx.routes.get("/", (c) => c.text("hi"));
      },
    });
    await a.load(plugin("alpha"));
    await b.load(plugin("beta"));
    for (let i = 0; i < 3; i++) await (await a.fetch(new Request("http://127.0.0.1/api/plugins/alpha/"))).text();
    await (await b.fetch(new Request("http://127.0.0.1/api/plugins/beta/"))).text();
    const fa = (await scrape(a)).families;
    const fb = (await scrape(b)).families;
    assert.equal(value(fa, "plugboard_http_requests_total", { plugin: "alpha" }), 3);
    assert.equal(value(fa, "plugboard_http_requests_total", { plugin: "beta" }), undefined);
    assert.equal(value(fb, "plugboard_http_requests_total", { plugin: "beta" }), 1);
  } finally {
    await a.stop();
    await b.stop();
  }
});

Deno.test("metrics: a failed plugin unloaded leaves the exposition too (with plugin.unloaded); a plugin's forged plugin.unloaded does not", async () => {
  await using tmp = await tempPlugins({
    "crasher/mod.ts": pluginSource("crasher", {
      setup:
        `ctx.routes.get("/exit", () => Deno.exit(1)); ctx.routes.get("/fail", () => { throw new Error("nope"); });`,
    }),
    "spoofer/mod.ts": pluginSource("spoofer", {
      setup:
        `ctx.routes.post("/spoof", (c) => { ctx.events.emit("plugin.unloaded", { name: "crasher" }); return c.text("sent"); });`,
    }),
  });
  const host = quietHost({ pluginsDir: tmp.dir, isolation: "worker", trusted: ["spoofer"], apiKey: KEY });
  await host.start();
  try {
    const call = async (path: string, init?: RequestInit) => {
      const res = await host.fetch(new Request(`http://127.0.0.1/api/plugins/${path}`, init), LOOPBACK);
      await res.body?.cancel();
      return res.status;
    };
    assert.equal(await call("crasher/fail"), 500);
    const lines = async () => (await scrape(host)).text.split("\n").filter((l) => l.includes('plugin="crasher"'));
    assert.ok((await lines()).length > 0);
    // A trusted plugin saying crasher was unloaded changes nothing: only the host's word counts.
    assert.equal(await call("spoofer/spoof", { method: "POST" }), 200);
    assert.ok((await lines()).some((l) => l.startsWith("plugboard_plugin_failures_total")), "still counted");
    // Three crashes: failed. Unloading it then is the operator's usual way out of a crash loop.
    for (let crash = 1; crash <= 3; crash++) {
      assert.equal(await call("crasher/exit"), 503);
      if (crash < 3) await waitFor(() => host.get("crasher")!.restarts === crash, { what: `restart ${crash}` });
    }
    await waitFor(() => host.get("crasher")!.state === "failed", { what: "failed after three crashes" });
    assert.ok((await lines()).some((l) => l.startsWith("plugboard_restarts_total")));
    const unloaded: string[] = [];
    host.events.on("plugin.unloaded", (e) => void unloaded.push(e.name));
    await host.unload("crasher");
    assert.deepEqual(unloaded, ["crasher"]);
    assert.deepEqual(await lines(), []);
  } finally {
    await host.stop();
  }
});
