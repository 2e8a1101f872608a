/**
 * The reload measurements, in one process started with --expose-gc. Prints
 * one JSON line.
 *
 * 1. Save → served: a host watching a temporary plugins folder with the
 *    watcher's defaults, served over HTTP on 127.0.0.1, plugins in-process
 *    (every pattern) and in a worker (the first pattern). Each save writes a
 *    new version the way an editor does (see PATTERNS) and the route is
 *    polled over HTTP every millisecond until the new version answers. After
 *    each save the process waits 150 ms (well past the settle window) and
 *    counts the reloads the save caused, failed ones included.
 * 1b. Requests dropped per reload under load, in-process and in a worker:
 *    LOAD_CLIENTS clients call the plugin's route over HTTP, one request
 *    after another each, while `host.reload()` runs N times one after
 *    another; any answer but a 2xx (or a failed fetch) is a drop.
 * 2. `host.reload()` alone, called directly, in-process.
 * 3. Memory per reload, in-process: the shipped `plugins/hello` served over HTTP; after
 *    20 warm-up reloads, GC twice, read `Deno.memoryUsage()`; then N admin
 *    reloads (`POST /api/plugins/hello:reload`, one after another); GC twice,
 *    read again. Heap used and RSS growth divided by N.
 *
 * With `worker-memory` as the mode, only 2. and 3. with `hello` in a worker,
 * in a process of its own; with `bare-worker`, only the memory per
 * cycle of a bare worker (the floor under it).
 *
 * Usage: deno run --v8-flags=--expose-gc --unstable-worker-options <flags> bench/_reload_child.ts <all|worker-memory|bare-worker> <saves per pattern> <reloads> [<reloads under load>]
 *
 * @module
 */

import { join } from "node:path";
import { createHost, type Host, serve } from "../mod.ts";
import { DEFAULT_SETTLE_MS } from "../src/watcher.ts";

const MODE = Deno.args[0];
const SAVES = Number(Deno.args[1] ?? 30);
const RELOADS = Number(Deno.args[2] ?? 500);
const LOAD_RELOADS = Number(Deno.args[3] ?? 100);
/** Concurrent clients while the plugin reloads under load. */
const LOAD_CLIENTS = 8;
/** Saves before those measured, per pattern: 3, or 1 for a short run (fewer than 10 saves measured, as `--quick`). */
const WARMUP_SAVES = SAVES < 10 ? 1 : 3;
/** Cycles before the first memory reading: 20, or as many as measured when fewer. */
const WARMUP_CYCLES = Math.min(20, RELOADS);
/** `host.reload()` calls timed: 30, or as many as the memory reloads when fewer. */
const DIRECT_RELOADS = Math.min(30, RELOADS);
const AFTER_SAVE_MS = 150;
const ROOT = new URL("..", import.meta.url).pathname;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Run with --v8-flags=--expose-gc");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)];
const p99 = (xs: number[]) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];

const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "plugboard-reload-bench-" }));
const dir = join(root, "plugins");
const one = (v: number) =>
  `export default { name: "one", version: "1.0.0", setup(ctx) { ctx.routes.get("/v", (c) => c.text("${v}")); } };\n`;
const multiMod = (v: number) =>
  `import { A } from "./lib/a.ts";
import { B } from "./lib/b.ts";
export default { name: "multi", version: "1.0.0", setup(ctx) { ctx.routes.get("/v", (c) => c.text(\`\${A}-\${B}-${v}\`)); } };\n`;
await Deno.mkdir(join(dir, "one"), { recursive: true });
await Deno.mkdir(join(dir, "multi", "lib"), { recursive: true });
await Deno.writeTextFile(join(dir, "one", "mod.ts"), one(0));
await Deno.writeTextFile(join(dir, "multi", "lib", "a.ts"), `export const A = 0;\n`);
await Deno.writeTextFile(join(dir, "multi", "lib", "b.ts"), `export const B = 0;\n`);
await Deno.writeTextFile(join(dir, "multi", "mod.ts"), multiMod(0));

/** The last version written, across patterns. */
let version = 0;

/** One way an editor saves, and what the route answers afterwards. */
interface Pattern {
  name: string;
  plugin: string;
  save(v: number): Promise<void>;
  expect(v: number): string;
}

const oneFile = join(dir, "one", "mod.ts");
const PATTERNS: Pattern[] = [
  {
    name: "one file: write in place",
    plugin: "one",
    save: (v) => Deno.writeTextFile(oneFile, one(v)),
    expect: String,
  },
  {
    name: "one file: truncate, then write",
    plugin: "one",
    save: async (v) => {
      await Deno.truncate(oneFile);
      await Deno.writeTextFile(oneFile, one(v));
    },
    expect: String,
  },
  {
    name: "one file: temp file renamed over it",
    plugin: "one",
    save: async (v) => {
      await Deno.writeTextFile(`${oneFile}.tmp-${v}`, one(v));
      await Deno.rename(`${oneFile}.tmp-${v}`, oneFile);
    },
    expect: String,
  },
  {
    name: "three files within 5 ms",
    plugin: "multi",
    save: async (v) => {
      await Deno.writeTextFile(join(dir, "multi", "lib", "a.ts"), `export const A = ${v};\n`);
      await sleep(1);
      await Deno.writeTextFile(join(dir, "multi", "lib", "b.ts"), `export const B = ${v};\n`);
      await sleep(1);
      await Deno.writeTextFile(join(dir, "multi", "mod.ts"), multiMod(v));
    },
    expect: (v) => `${v}-${v}-${v}`,
  },
];

const dataDir = join(root, "data");
/** Generous: a busy machine must make the figures slow, not make loads fail. */
const TIMEOUTS = { importTimeout: 300_000, setupTimeout: 300_000 };

/** Saves with every pattern (or the first only) against a watching host in one isolation mode. */
async function savesToServed(isolation: "none" | "worker", patterns: Pattern[]) {
  const host: Host = createHost({ pluginsDir: dir, dataDir, isolation, ...TIMEOUTS, logger: { level: "silent" } });
  await host.start();
  const server = serve(host, { port: 0 });
  const base = `http://127.0.0.1:${server.addr.port}/api/plugins`;
  let reloads = 0;
  let failedReloads = 0;
  host.events.on("plugin.reloaded", () => void reloads++);
  host.events.on("plugin.reload_failed", () => void failedReloads++);
  host.watch();
  await sleep(100);
  const results = [];
  for (const pattern of patterns) {
    const times: number[] = [];
    let counted = 0;
    let failed = 0;
    let timeouts = 0;
    for (let i = 0; i < WARMUP_SAVES + SAVES; i++) {
      const v = ++version;
      const [r0, f0] = [reloads, failedReloads];
      const t = performance.now();
      await pattern.save(v);
      const want = pattern.expect(v);
      const deadline = t + 5000;
      let served = false;
      while (performance.now() < deadline) {
        if (await (await fetch(`${base}/${pattern.plugin}/v`)).text() === want) {
          served = true;
          break;
        }
        await sleep(1);
      }
      const elapsed = performance.now() - t;
      await sleep(AFTER_SAVE_MS);
      if (i < WARMUP_SAVES) continue;
      if (served) times.push(elapsed);
      else timeouts++;
      counted += reloads - r0 + failedReloads - f0;
      failed += failedReloads - f0;
    }
    results.push({
      pattern: `${pattern.name}${isolation === "worker" ? ", in a worker (default)" : ""}`,
      isolation,
      saves: SAVES,
      medianMs: median(times),
      p99Ms: p99(times),
      reloadsPerSave: counted / SAVES,
      failedReloads: failed,
      notServedWithin5s: timeouts,
    });
  }
  await server.shutdown();
  return results;
}

/** Requests dropped per reload: LOAD_CLIENTS clients over HTTP while `one` is reloaded `count` times. */
async function dropsUnderLoad(isolation: "none" | "worker", count: number) {
  const host = createHost({ pluginsDir: dir, dataDir, isolation, ...TIMEOUTS, logger: { level: "silent" } });
  await host.start();
  const server = serve(host, { port: 0 });
  const url = `http://127.0.0.1:${server.addr.port}/api/plugins/one/v`;
  const statuses: Record<string, number> = {};
  let requests = 0;
  let dropped = 0;
  let running = true;
  const client = async () => {
    while (running) {
      let status: string;
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        status = String(res.status);
      } catch {
        status = "network error";
      }
      requests++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (!status.startsWith("2")) dropped++;
    }
  };
  const clients = Array.from({ length: LOAD_CLIENTS }, client);
  await sleep(100);
  const t = performance.now();
  for (let i = 0; i < count; i++) await host.reload("one");
  const seconds = (performance.now() - t) / 1000;
  running = false;
  await Promise.all(clients);
  await server.shutdown();
  return {
    isolation,
    reloads: count,
    requests,
    dropped,
    droppedPerReload: dropped / count,
    statuses,
    reloadsPerSecond: count / seconds,
  };
}

/** Runs `gc()` twice, 50 ms apart, so that a memory reading sees what is retained. */
async function settle(): Promise<void> {
  gc!();
  await sleep(50);
  gc!();
}

/**
 * Memory around `count` cycles, after WARMUP_CYCLES warm-up ones (20 in a full run): readings before and after, RSS after every eighth of the
 * cycles (it moves in steps: the allocator keeps freed pages, then gives them back, so where it stands matters as
 * much as the average) and the RSS growth per cycle over the second half alone.
 */
async function memoryOver(count: number, cycle: () => Promise<void>) {
  for (let i = 0; i < WARMUP_CYCLES; i++) await cycle();
  await settle();
  const before = Deno.memoryUsage();
  const step = Math.max(1, Math.floor(count / 8));
  const half = Math.floor(count / 2);
  const rssTrajectory: { reloads: number; rss: number }[] = [];
  let middleRss = before.rss;
  for (let i = 1; i <= count; i++) {
    await cycle();
    if (i % step === 0 || i === half || i === count) {
      await settle();
      const rss = Deno.memoryUsage().rss;
      rssTrajectory.push({ reloads: i, rss });
      if (i === half) middleRss = rss;
    }
  }
  const after = Deno.memoryUsage();
  return { before, after, rssTrajectory, rssPerCycleSecondHalf: (after.rss - middleRss) / (count - half) };
}

/** `host.reload()` alone, then memory per admin reload, of the shipped hello plugin in one isolation mode. */
async function reloadAndMemory(isolation: "none" | "worker", count: number) {
  const host = createHost({
    cwd: ROOT,
    pluginsDir: null,
    plugins: [`${ROOT}plugins/hello/mod.ts`],
    allowRead: [`${ROOT}plugins`],
    dataDir,
    isolation,
    ...TIMEOUTS,
    logger: { level: "silent" },
  });
  await host.start();
  if (host.get("hello")?.state !== "active") throw new Error(`hello did not load: ${host.get("hello")?.error}`);
  const server = serve(host, { port: 0 });
  const reloadUrl = `http://127.0.0.1:${server.addr.port}/api/plugins/hello:reload`;
  const adminReload = async () => {
    const res = await fetch(reloadUrl, { method: "POST", headers: { "x-api-key": host.adminKey } });
    await res.body?.cancel();
    if (res.status !== 200) throw new Error(`POST ${reloadUrl} answered ${res.status}`);
  };
  const reloadMs: number[] = [];
  for (let i = 0; i < DIRECT_RELOADS; i++) {
    const t = performance.now();
    await host.reload("hello");
    reloadMs.push(performance.now() - t);
  }
  const m = await memoryOver(count, adminReload);
  await server.shutdown();
  return {
    reloadMs: { median: median(reloadMs), p99: p99(reloadMs), samples: reloadMs.length },
    memory: {
      method:
        `${count} admin reloads of plugins/hello ${
          isolation === "worker" ? "isolated in a worker" : "in-process"
        } (POST /api/plugins/hello:reload, one after another) after ${WARMUP_CYCLES} warm-up ones; gc() twice around each ` +
        "reading (--expose-gc); growth of the host's Deno.memoryUsage() heapUsed and of the process's rss divided " +
        "by the count; read again halfway, for the growth over the second half alone, and after every eighth",
      reloads: count,
      heapBytesPerReload: (m.after.heapUsed - m.before.heapUsed) / count,
      rssBytesPerReload: (m.after.rss - m.before.rss) / count,
      rssBytesPerReloadSecondHalf: m.rssPerCycleSecondHalf,
      rssTrajectory: m.rssTrajectory,
      heapBefore: m.before.heapUsed,
      heapAfter: m.after.heapUsed,
      rssBefore: m.before.rss,
      rssAfter: m.after.rss,
    },
  };
}

/** Memory per cycle of a bare worker: created, answers one message, terminated; the floor under a worker reload. */
async function bareWorkerCycles(count: number) {
  const src = URL.createObjectURL(new Blob(["postMessage(0);"], { type: "text/javascript" }));
  const cycle = async () => {
    const worker = new Worker(src, { type: "module" });
    await new Promise((resolve) => worker.onmessage = resolve);
    worker.terminate();
  };
  const m = await memoryOver(count, cycle);
  return {
    method: `${count} cycles of a bare worker (new Worker of a one-line module that posts one message, terminate()) ` +
      `after ${WARMUP_CYCLES} warm-up ones, in a process of its own; gc() twice around each reading; growth of rss divided by the count`,
    cycles: count,
    rssBytesPerCycle: (m.after.rss - m.before.rss) / count,
    rssBytesPerCycleSecondHalf: m.rssPerCycleSecondHalf,
  };
}

if (MODE === "worker-memory") {
  // Memory per reload in a worker, in a process of its own so that the in-process reloads' retained modules do not
  // shape it.
  const isolated = await reloadAndMemory("worker", RELOADS);
  await Deno.remove(root, { recursive: true });
  console.log(JSON.stringify(isolated));
} else if (MODE === "bare-worker") {
  await Deno.remove(root, { recursive: true });
  console.log(JSON.stringify(await bareWorkerCycles(RELOADS)));
} else if (MODE === "all") {
  // 1. Save → served through the watcher: every pattern in-process, the first in a worker.
  const saveResults = [
    ...await savesToServed("none", PATTERNS),
    ...await savesToServed("worker", PATTERNS.slice(0, 1)),
  ];
  // 1b. Requests dropped per reload under concurrent load, in both modes.
  const droppedUnderLoad = {
    clients: LOAD_CLIENTS,
    method:
      `${LOAD_CLIENTS} clients fetch the plugin's route over HTTP on 127.0.0.1, one request after another each, ` +
      `while host.reload() runs ${LOAD_RELOADS} times in a row; an answer other than 2xx, or a failed fetch, is a drop`,
    modes: [await dropsUnderLoad("none", LOAD_RELOADS), await dropsUnderLoad("worker", LOAD_RELOADS)],
  };
  // 2. and 3.: host.reload() alone and memory per admin reload, in-process.
  const inProcess = await reloadAndMemory("none", RELOADS);
  await Deno.remove(root, { recursive: true });
  console.log(JSON.stringify({
    saveToServed: { settleMs: DEFAULT_SETTLE_MS, afterSaveMs: AFTER_SAVE_MS, patterns: saveResults },
    droppedUnderLoad,
    reloadMs: inProcess.reloadMs,
    memory: inProcess.memory,
  }));
} else {
  await Deno.remove(root, { recursive: true });
  throw new TypeError(`Unknown mode '${MODE}': use all, worker-memory or bare-worker`);
}
