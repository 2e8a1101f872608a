/**
 * The reload measurements, in one process started with --expose-gc:
 * 1. save → served: write a new version of a watched plugin and poll its route
 *    over HTTP until the new version answers;
 * 2. host.reload() alone;
 * 3. memory: heap and RSS growth per reload over many reloads (after GC).
 * Prints one JSON line.
 *
 * @module
 */

import { join } from "node:path";
import { createHost, serve } from "../mod.ts";

const SAVES = Number(Deno.args[0] ?? 30);
const RELOADS = Number(Deno.args[1] ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Run with --v8-flags=--expose-gc");

const root = await Deno.makeTempDir({ prefix: "plugboard-reload-bench-" });
const dir = join(root, "plugins");
await Deno.mkdir(join(dir, "live", "lib"), { recursive: true });
const write = (v: number) =>
  Promise.all([
    Deno.writeTextFile(join(dir, "live", "lib", "answer.ts"), `export const answer = "v${v}";\n`),
    Deno.writeTextFile(
      join(dir, "live", "mod.ts"),
      `import { answer } from "./lib/answer.ts";
export default { name: "live", version: "1.0.0", setup(ctx) { ctx.routes.get("/v", (c) => c.text(answer)); } };\n`,
    ),
  ]);
await write(0);
const host = createHost({ pluginsDir: dir, logger: { level: "silent" } });
await host.start();
const server = serve(host, { port: 0 });
const url = `http://127.0.0.1:${server.addr.port}/api/plugins/live/v`;
host.watch();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)];

// 1. Save to served, through the watcher (includes its 80 ms debounce).
const saveMs: number[] = [];
for (let v = 1; v <= SAVES; v++) {
  const t = performance.now();
  await Deno.writeTextFile(join(dir, "live", "lib", "answer.ts"), `export const answer = "v${v}";\n`);
  for (;;) {
    const body = await (await fetch(url)).text();
    if (body === `v${v}`) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  saveMs.push(performance.now() - t);
  await new Promise((r) => setTimeout(r, 150));
}
await server.shutdown();

// 2. host.reload() alone, and 3. memory per reload.
const host2 = createHost({ pluginsDir: dir, logger: { level: "silent" } });
await host2.start();
const reloadMs: number[] = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  await host2.reload("live");
  reloadMs.push(performance.now() - t);
}
gc();
await new Promise((r) => setTimeout(r, 50));
gc();
const before = Deno.memoryUsage();
for (let i = 0; i < RELOADS; i++) await host2.reload("live");
gc();
await new Promise((r) => setTimeout(r, 50));
gc();
const after = Deno.memoryUsage();
await host2.stop();
await Deno.remove(root, { recursive: true });

console.log(JSON.stringify({
  saveToServedMs: { median: median(saveMs), p99: p99(saveMs), samples: SAVES },
  reloadMs: { median: median(reloadMs), p99: p99(reloadMs), samples: reloadMs.length },
  memory: {
    reloads: RELOADS,
    heapBytesPerReload: (after.heapUsed - before.heapUsed) / RELOADS,
    rssBytesPerReload: (after.rss - before.rss) / RELOADS,
    heapBefore: before.heapUsed,
    heapAfter: after.heapUsed,
    rssBefore: before.rss,
    rssAfter: after.rss,
  },
}));
