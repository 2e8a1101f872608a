/**
 * The floor under a cold start of isolated plugins, in a fresh process:
 * creates N empty workers together (a one-line module that posts one
 * message when ready, with plugboard's worker options: `_empty_worker.ts`)
 * and prints the milliseconds until every one has answered, and the
 * process's RSS before they start and once they idle (`_settled_rss.ts`),
 * as `_startup_child.ts` does for plugboard.
 *
 * Usage: deno run --v8-flags=--expose-gc --unstable-worker-options --allow-read --allow-write bench/_empty_workers_child.ts <count>
 *
 * @module
 */

import { READY_SOURCE, startFloorWorker, writeFloorModule } from "./_empty_worker.ts";
import { IDLE_MS, settledRss } from "./_settled_rss.ts";

const count = Number(Deno.args[0]);
const module = await writeFloorModule(READY_SOURCE);
const workers: Worker[] = [];
try {
  const rssBefore = await settledRss();
  const t = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) =>
    new Promise<void>((resolve, reject) => {
      const worker = startFloorWorker(module, `empty:${i}`);
      worker.onmessage = () => resolve();
      worker.onerror = (e) => (e.preventDefault(), reject(new Error(`worker ${i}: ${e.message}`)));
      workers.push(worker);
    })));
  const ms = performance.now() - t;
  const rssIdle = await settledRss(IDLE_MS);
  console.log(JSON.stringify({ ms, rssBefore, rssIdle, workers: count }));
} finally {
  for (const worker of workers) worker.terminate();
  await module.remove();
}
