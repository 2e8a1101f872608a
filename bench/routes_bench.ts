/**
 * Route dispatch in-process (no network): a request to a plugin route through
 * `host.fetch`, against the same handler registered on a bare Hono app; then
 * the same with 100 plugins of 5 routes each mounted, to show the cost does
 * not grow with the number of plugins. These run the plugins in-process
 * (`isolation: "none"`) with the host's defaults: metrics on (each request
 * timed and counted; the access log is on too, but the logger is silent). One
 * group has the access log and the metrics off, which takes the clock reads
 * and the counting out of the request's path; one more runs the plugin in a
 * worker (the default), where each request is a round trip to the worker.
 * The group with metrics on also has the Hono app with Hono's Prometheus
 * middleware, which times and counts each request as plugboard's metrics do.
 *
 * @module
 */

import { Hono } from "hono";
import { prometheus } from "@hono/prometheus";
import { createHost, type Host } from "../mod.ts";
import { generatePlugins, PONG } from "./_fixtures.ts";
import type { BenchFn, BenchGroup } from "./_runner.ts";

let cleanup: (() => Promise<void>) | undefined;

/** The access log and the metrics both off: requests to plugin routes are not timed, counted or logged. */
const UNOBSERVED = { accessLog: false, metrics: false };

async function viaHost(
  plugins: number,
  routes: number,
  isolation: "none" | "worker" = "none",
  observability?: typeof UNOBSERVED,
): Promise<BenchFn> {
  const dir = await generatePlugins(plugins, routes);
  const dataDir = await Deno.makeTempDir({ prefix: "plugboard-routes-bench-" });
  const host: Host = createHost({ pluginsDir: dir, dataDir, isolation, logger: { level: "silent" }, observability });
  await host.start();
  cleanup = async () => {
    await host.stop();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(dataDir, { recursive: true });
  };
  const last = plugins - 1;
  const request = new Request(`http://localhost/api/plugins/p${last}/r${routes - 1}`);
  const failed = host.list().filter((p) => p.state !== "active");
  if (failed.length) throw new Error(`Generated plugins did not load: ${failed[0].error}`);
  return () => host.fetch(request);
}

function viaHono(plugins: number, routes: number): BenchFn {
  const app = new Hono();
  for (let p = 0; p < plugins; p++) {
    for (let r = 0; r < routes; r++) app.get(`/api/plugins/p${p}/r${r}`, (c) => c.text(PONG));
  }
  const request = new Request(`http://localhost/api/plugins/p${plugins - 1}/r${routes - 1}`);
  return () => app.fetch(request);
}

/**
 * The same Hono app measured by Hono's Prometheus middleware (`@hono/prometheus`, on prom-client), as a Hono
 * application records what plugboard's metrics record: each request timed and counted by route, method and status.
 */
function viaHonoMeasured(): BenchFn {
  const { registerMetrics } = prometheus();
  const app = new Hono();
  app.use("*", registerMetrics);
  app.get("/api/plugins/p0/r0", (c) => c.text(PONG));
  const request = new Request("http://localhost/api/plugins/p0/r0");
  return () => app.fetch(request);
}

/** The route groups. */
export const groups: Record<string, BenchGroup> = {
  "route dispatch, 1 plugin with 1 route": {
    ours: "plugboard host.fetch",
    cases: {
      "plugboard host.fetch": () => viaHost(1, 1),
      "bare Hono app.fetch": () => viaHono(1, 1),
      "Hono app.fetch with @hono/prometheus": () => viaHonoMeasured(),
    },
    teardown: () => cleanup?.(),
  },
  "route dispatch, 100 plugins with 5 routes each": {
    ours: "plugboard host.fetch",
    cases: { "plugboard host.fetch": () => viaHost(100, 5), "bare Hono app.fetch": () => viaHono(100, 5) },
    teardown: () => cleanup?.(),
  },
  "route dispatch, 1 plugin with 1 route, observability off": {
    ours: "plugboard host.fetch",
    cases: {
      "plugboard host.fetch": () => viaHost(1, 1, "none", UNOBSERVED),
      "bare Hono app.fetch": () => viaHono(1, 1),
    },
    teardown: () => cleanup?.(),
  },
  "route dispatch, 1 plugin in a worker (default isolation)": {
    ours: "plugboard host.fetch",
    cases: { "plugboard host.fetch": () => viaHost(1, 1, "worker"), "bare Hono app.fetch": () => viaHono(1, 1) },
    teardown: () => cleanup?.(),
  },
};
