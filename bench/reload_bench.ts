/**
 * Hot reload, in a fresh process with --expose-gc (see `_reload_child.ts`):
 * save → new version served over HTTP through the watcher for four editor
 * save patterns, with the reloads each save caused; the requests dropped per
 * reload under concurrent HTTP load, in-process and in a worker (the goal is
 * 0); `host.reload()` alone; and the memory each admin reload retains (ES
 * modules cannot be unloaded).
 *
 * Effort: BENCH_SAVES (default 30 per pattern), BENCH_LOAD_RELOADS (default
 * 100 per mode, under load), BENCH_RELOADS (default 500, in-process),
 * BENCH_WORKER_RELOADS (default 1000, in a worker, and as many bare worker
 * cycles).
 *
 * @module
 */

import { runChild } from "./_child.ts";
import { effort } from "./_effort.ts";

/** One save pattern's figures. */
export interface SavePattern {
  /** How the editor saves. */
  pattern: string;
  /** Where the plugin ran. */
  isolation?: "none" | "worker";
  /** Saves measured (after 3 warm-up saves; 1 when fewer than 10 are measured). */
  saves: number;
  /** Median save → new version served, in ms. */
  medianMs: number;
  /** 99th percentile save → served, in ms. */
  p99Ms: number;
  /** Reloads (successful or failed) per save: 1 is the goal. */
  reloadsPerSave: number;
  /** Reloads that failed (a half-written file would cause one). */
  failedReloads: number;
  /** Saves whose version was not served within 5 s (left out of the times). */
  notServedWithin5s: number;
}

/** Requests dropped while a plugin reloads under concurrent load, in one mode. */
export interface DropsUnderLoad {
  /** Where the plugin ran. */
  isolation: "none" | "worker";
  /** Reloads, one after another. */
  reloads: number;
  /** Requests answered (or failed) meanwhile. */
  requests: number;
  /** Answers other than 2xx, and failed fetches. */
  dropped: number;
  /** `dropped / reloads`: 0 is the goal. */
  droppedPerReload: number;
  /** Requests by status (`"network error"` for a failed fetch). */
  statuses: Record<string, number>;
  /** Reloads per second under that load. */
  reloadsPerSecond: number;
}

/** The reload group's figures. */
export interface ReloadResults {
  /** Save → served: the watcher's settle window, the wait after each save, each pattern. */
  saveToServed: { settleMs: number; afterSaveMs: number; patterns: SavePattern[] };
  /** Requests dropped per reload under concurrent HTTP load, in each mode. */
  droppedUnderLoad?: { clients: number; method: string; modes: DropsUnderLoad[] };
  /** `host.reload()` of hello called directly, in ms. */
  reloadMs: { median: number; p99: number; samples: number };
  /** Memory retained per admin reload, and how it was measured (in-process). */
  memory: MemoryPerReload;
  /** The same two measures with the plugin isolated in a worker (the default). */
  worker?: { reloadMs: { median: number; p99: number; samples: number }; memory: MemoryPerReload };
  /** RSS retained per cycle of a bare worker (create, one message, terminate): the floor under a worker reload. */
  bareWorker?: { method: string; cycles: number; rssBytesPerCycle: number; rssBytesPerCycleSecondHalf?: number };
}

/** Memory retained per reload. */
export interface MemoryPerReload {
  /** How it was measured. */
  method: string;
  /** Reloads measured. */
  reloads: number;
  /** Growth of the host's heapUsed per reload, in bytes. */
  heapBytesPerReload: number;
  /** Growth of the process's RSS per reload, in bytes. */
  rssBytesPerReload: number;
  /** The same over the second half of the reloads alone: near 0 once RSS has reached its plateau. */
  rssBytesPerReloadSecondHalf?: number;
  /** The process's RSS after every eighth of the reloads. */
  rssTrajectory?: { reloads: number; rss: number }[];
}

/**
 * Runs the reload benchmark.
 *
 * @param filter only when "reload" matches
 * @returns the figures
 */
export async function runStandalone(filter?: RegExp): Promise<ReloadResults | undefined> {
  if (filter && !filter.test("reload")) return undefined;
  const saves = Math.max(1, effort("BENCH_SAVES"));
  const reloads = Math.max(1, effort("BENCH_RELOADS"));
  const workerReloads = Math.max(1, effort("BENCH_WORKER_RELOADS"));
  const loadReloads = Math.max(1, effort("BENCH_LOAD_RELOADS"));
  console.log(
    `\n• hot reload (${saves} saves per pattern; ${loadReloads} reloads under load per mode; ${reloads} admin reloads ` +
      `in-process and ${workerReloads} in a worker for memory)`,
  );
  const r: ReloadResults = await child("all", saves, reloads, loadReloads);
  r.worker = await child("worker-memory", 0, workerReloads);
  r.bareWorker = await child("bare-worker", 0, workerReloads);
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  const secondHalf = (b: number | undefined) => b === undefined ? "-" : kib(b);
  console.log(`save → new version served (watcher settle window ${r.saveToServed.settleMs} ms):`);
  for (const p of r.saveToServed.patterns) {
    console.log(
      `  ${p.pattern.padEnd(50)} median ${p.medianMs.toFixed(1).padStart(6)} ms   p99 ${
        p.p99Ms.toFixed(1).padStart(6)
      } ms   reloads per save ${p.reloadsPerSave.toFixed(2)}${
        p.notServedWithin5s ? `   not served within 5 s: ${p.notServedWithin5s}` : ""
      }`,
    );
  }
  const load = r.droppedUnderLoad;
  if (load) {
    console.log(`requests dropped per reload under load (${load.clients} clients over HTTP, goal 0):`);
    for (const m of load.modes) {
      const where = m.isolation === "worker" ? "in a worker" : "in-process";
      console.log(
        `  ${where.padEnd(11)} ${
          m.droppedPerReload.toFixed(2).padStart(6)
        } per reload   ${m.dropped} of ${m.requests} ` +
          `requests over ${m.reloads} reloads (${m.reloadsPerSecond.toFixed(1)} reloads/s)`,
      );
    }
  }
  const modes = [["in-process", r], ["in a worker", r.worker]] as const;
  for (const [mode, m] of modes) {
    if (!m) continue;
    console.log(
      `host.reload() of hello, ${mode.padEnd(11)}       median ${m.reloadMs.median.toFixed(2)} ms   p99 ${
        m.reloadMs.p99.toFixed(2)
      } ms`,
    );
  }
  for (const [mode, m] of modes) {
    if (!m) continue;
    console.log(
      `retained per admin reload, ${mode.padEnd(11)}   heap ${kib(m.memory.heapBytesPerReload)}   RSS ${
        kib(m.memory.rssBytesPerReload)
      } (second half ${secondHalf(m.memory.rssBytesPerReloadSecondHalf)})   (${m.memory.reloads} reloads)`,
    );
  }
  const trajectory = r.worker?.memory.rssTrajectory;
  if (trajectory?.length) {
    console.log(
      `RSS in a worker after N reloads: ${
        trajectory.map((t) => `${t.reloads}: ${(t.rss / 2 ** 20).toFixed(0)} MiB`).join(", ")
      }`,
    );
  }
  if (r.bareWorker) {
    console.log(
      `retained per bare worker cycle (the floor)   RSS ${kib(r.bareWorker.rssBytesPerCycle)} (second half ${
        secondHalf(r.bareWorker.rssBytesPerCycleSecondHalf)
      })   (${r.bareWorker.cycles} cycles)`,
    );
  }
  return r;
}

/** Runs `_reload_child.ts` in one mode, in a fresh process, and reads its JSON line. */
function child<T>(mode: string, saves: number, reloads: number, loadReloads = 0): Promise<T> {
  return runChild(
    [
      "run",
      "--v8-flags=--expose-gc",
      "--unstable-worker-options",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1",
      new URL("./_reload_child.ts", import.meta.url).pathname,
      mode,
      String(saves),
      String(reloads),
      String(loadReloads),
    ],
    `The reload benchmark (${mode})`,
  );
}

if (import.meta.main) await runStandalone();
