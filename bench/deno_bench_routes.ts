/**
 * `deno bench` version of the route case: a request to a plugin route
 * through `host.fetch` (100 plugins of 5 routes, in-process) against the same
 * handler on a bare Hono app. `deno task bench` (mitata, one fresh process
 * per case) is the reference run.
 *
 * In a file of its own: `deno bench` gives each file a fresh isolate, and a
 * started host in the isolate of the event cases slowed plugboard's emit
 * there (see `deno_bench.ts`).
 *
 * It writes its generated plugins and data under the project's `.plugboard/`
 * and reads them back: `--allow-read=./.plugboard --allow-write=./.plugboard`,
 * what deno.json's `bench` permissions give with `deno bench -P`. Without
 * those its cases are ignored, with a note.
 *
 * @module
 */

import { Hono } from "hono";
import { createHost } from "../mod.ts";
import { generatePlugins, PONG } from "./_fixtures.ts";

/** Where the route cases write: the project's scratch folder (ignored by git, excluded from fmt and lint). */
const SCRATCH = new URL("../.plugboard/", import.meta.url);
const granted = async (descriptor: Deno.PermissionDescriptor) =>
  (await Deno.permissions.query(descriptor)).state === "granted";
const routes = await granted({ name: "write", path: SCRATCH }) && await granted({ name: "read", path: SCRATCH });

const ROUTE_CASES = {
  ours: "plugboard host.fetch (100 plugins x 5 routes)",
  bare: "bare Hono app.fetch (500 routes)",
};
if (routes) {
  await Deno.mkdir(SCRATCH, { recursive: true });
  const dir = await generatePlugins(100, 5, SCRATCH.pathname);
  const dataDir = await Deno.makeTempDir({ prefix: "plugboard-deno-bench-", dir: SCRATCH.pathname });
  // In-process, as the mitata route groups: 100 workers would measure worker round trips and need ~2 GB.
  const host = createHost({ pluginsDir: dir, dataDir, isolation: "none", logger: { level: "silent" } });
  await host.start();
  const bare = new Hono();
  for (let p = 0; p < 100; p++) for (let r = 0; r < 5; r++) bare.get(`/api/plugins/p${p}/r${r}`, (c) => c.text(PONG));
  const request = new Request("http://localhost/api/plugins/p99/r4");
  Deno.bench({
    name: ROUTE_CASES.ours,
    group: "route",
    baseline: true,
    fn: async () => void await host.fetch(request),
  });
  Deno.bench({ name: ROUTE_CASES.bare, group: "route", fn: async () => void await bare.fetch(request) });
  globalThis.addEventListener("unload", () => {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(dataDir, { recursive: true });
  });
} else {
  console.log(
    "The route cases are ignored: they write generated plugins under .plugboard/. Run `deno bench -P` " +
      "(deno.json's bench permissions) or `deno bench --allow-read=./.plugboard --allow-write=./.plugboard bench/deno_bench_routes.ts`.",
  );
  for (const name of Object.values(ROUTE_CASES)) Deno.bench({ name, group: "route", ignore: true, fn: () => {} });
}
