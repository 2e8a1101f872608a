/**
 * Times one cold `host.start()` over a plugins folder (argument 1) in a fresh
 * process, with the isolation mode of argument 2 (`none`, `worker`, or
 * `sandbox`: every plugin in its own process), and prints the milliseconds,
 * the process's RSS once started and, for sandboxed plugins, the sum of
 * their processes' RSS (read with `ps`). In workers, it also prints the RSS
 * before `host.start()` and once the plugins idle, read as
 * `_empty_workers_child.ts` reads them around its empty workers
 * (`_settled_rss.ts`), so that the growth per plugin compares with an empty
 * worker's.
 *
 * @module
 */

import { createHost } from "../mod.ts";
import { IDLE_MS, settledRss } from "./_settled_rss.ts";

const dataDir = await Deno.makeTempDir({ prefix: "plugboard-startup-bench-" });
const mode = Deno.args[1];
const isolation = mode === "worker" || mode === "sandbox" ? "worker" : "none";
const sandboxed = mode === "sandbox" ? [...Deno.readDirSync(Deno.args[0])].map((e) => e.name) : [];
// Generous timeouts: a busy machine must make the figure slow, not make plugins fail.
const host = createHost({
  pluginsDir: Deno.args[0],
  dataDir,
  isolation,
  sandboxed,
  importTimeout: 300_000,
  setupTimeout: 300_000,
  logger: { level: "silent" },
});
const inWorkers = mode === "worker";
const rssBefore = inWorkers ? await settledRss() : undefined;
const t = performance.now();
const list = await host.start();
const ms = performance.now() - t;
const rss = Deno.memoryUsage().rss;
const rssIdle = inWorkers ? await settledRss(IDLE_MS) : undefined;
const failed = list.filter((p) => p.state !== "active").length;
let childRss = 0;
const pids = list.flatMap((p) => p.sandbox ? [String(p.sandbox.pid)] : []);
if (pids.length) {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", pids.join(",")] }).output();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) childRss += (Number(line.trim()) || 0) * 1024;
}
await host.stop();
await Deno.remove(dataDir, { recursive: true });
console.log(JSON.stringify({ ms, rss, rssBefore, rssIdle, childRss, plugins: list.length, failed }));
