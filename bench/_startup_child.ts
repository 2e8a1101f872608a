/**
 * Times one cold `host.start()` over a plugins folder (argument 1) in a fresh
 * process, with the isolation mode of argument 2 (`none` or `worker`), and
 * prints the milliseconds and the process's RSS once started.
 *
 * @module
 */

import { createHost } from "../mod.ts";

const dataDir = await Deno.makeTempDir({ prefix: "plugboard-startup-bench-" });
const isolation = Deno.args[1] === "worker" ? "worker" : "none";
// Generous timeouts: a busy machine must make the figure slow, not make plugins fail.
const host = createHost({
  pluginsDir: Deno.args[0],
  dataDir,
  isolation,
  importTimeout: 300_000,
  setupTimeout: 300_000,
  logger: { level: "silent" },
});
const t = performance.now();
const list = await host.start();
const ms = performance.now() - t;
const rss = Deno.memoryUsage().rss;
const failed = list.filter((p) => p.state !== "active").length;
await host.stop();
await Deno.remove(dataDir, { recursive: true });
console.log(JSON.stringify({ ms, rss, plugins: list.length, failed }));
