/**
 * The host's own counting of plugin requests: a route's series found once
 * and kept, found again once its plugin is forgotten or the registry reset;
 * the activity chart's buckets across their edges; a route series' counts
 * by method and status however they interleave.
 */

import assert from "node:assert/strict";
import { Activity } from "../src/metrics/activity.ts";
import { RouteSeries } from "../src/metrics/route_series.ts";
import { LOOPBACK, quietHost } from "./_helpers.ts";

const SHOP = {
  name: "shop",
  version: "1.0.0",
  // deno-lint-ignore no-explicit-any
  setup(ctx: any) {
    ctx.routes.get("/items/:id", (c: { text(t: string): Response }) => c.text("item"));
  },
};

const ROUTE = 'route="/api/plugins/shop/items/:id"';

Deno.test("host metrics: a route counted again after its plugin is unloaded and loaded, and after a reset", async () => {
  const host = quietHost({ pluginsDir: null });
  const get = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await (await host.fetch(new Request(`http://127.0.0.1/api/plugins/shop/items/${i}`), LOOPBACK)).text();
    }
  };
  const count = async () => {
    const text = await host.observability.metrics!.text();
    const line = text.split("\n").find((l) => l.startsWith("plugboard_http_requests_total{") && l.includes(ROUTE));
    return line === undefined ? 0 : Number(line.split(" ").pop());
  };
  const charted = () => host.observability.activity.series("shop").reduce((n, b) => n + b.requests, 0);
  try {
    await host.load(SHOP);
    await get(3);
    assert.equal(await count(), 3);
    assert.equal(charted(), 3);
    await host.unload("shop");
    assert.equal(await count(), 0, "forgotten with its plugin");
    assert.equal(charted(), 0);
    await host.load(SHOP);
    await get(2);
    assert.equal(await count(), 2, "counted afresh, not into the forgotten series");
    assert.equal(charted(), 2);
    host.observability.metrics!.registry.resetMetrics();
    assert.equal(await count(), 0);
    await get(1);
    assert.equal(await count(), 1, "counted again after a reset");
  } finally {
    await host.stop();
  }
});

Deno.test("activity: one bucket per width of time, from the first request in it to its end; a clock going back", () => {
  let now = 100_000;
  const activity = new Activity({ bucketMs: 1000, buckets: 4, now: () => now });
  for (const at of [100_000, 100_500, 100_999]) activity.record("p", 200, 1, at);
  for (const at of [101_000, 101_999]) activity.record("p", 500, 7, at);
  activity.record("q", 200, 2, 101_500);
  activity.record("p", 200, 3, 103_250);
  activity.record("p", 200, 4, 102_000); // the clock stepped back: a bucket of its own
  now = 103_999;
  const p = activity.series("p");
  assert.deepEqual(p.map((b) => [b.start, b.requests, b.errors, b.totalMs, b.maxMs]), [
    [100_000, 3, 0, 3, 1],
    [101_000, 2, 2, 14, 7],
    [102_000, 1, 0, 4, 4],
    [103_000, 1, 0, 3, 3],
  ]);
  assert.deepEqual(activity.series("q").map((b) => b.requests), [0, 1, 0, 0]);
  // Forgotten, then recorded again: a fresh ring, not the forgotten one.
  activity.forget("p");
  activity.record("p", 200, 9, 103_500);
  assert.deepEqual(activity.series("p").map((b) => b.requests), [0, 0, 0, 1]);
});

Deno.test("route series: counts by method and status, in the order first seen, however they interleave", () => {
  const series = new RouteSeries("p", "/api/plugins/p/x");
  const keys: [string, number][] = [["GET", 200], ["GET", 404], ["POST", 200], ["GET", 200], ["GET", 200], [
    "BREW",
    418,
  ]];
  for (let round = 0; round < 3; round++) for (const [method, status] of keys) series.observe(method, status, 1);
  assert.deepEqual(series.counts(), [
    { method: "GET", status: "200", n: 9 },
    { method: "GET", status: "404", n: 3 },
    { method: "POST", status: "200", n: 3 },
    { method: "other", status: "418", n: 3 },
  ]);
  assert.equal(series.count, 18);
});
