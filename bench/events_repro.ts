/**
 * Issue 15's reproduction, as written there: one contender per fresh
 * process, mitata with no warm-up of its own, 10 distinct arrow functions on
 * `task.created` that each add `payload.taskId.length + i` to a module-level
 * counter (left unmasked, as in the issue). Prints mitata's average and
 * whether it timed calls in batches (see `bench/_fresh.ts`).
 *
 * Usage, started 10 times: `for i in $(seq 10); do deno run -A bench/events_repro.ts plugboard; done`
 * (or `tseep`).
 *
 * @module
 */

import { bench, do_not_optimize, run } from "mitata";
import { EventEmitter as Tseep } from "tseep";
import { EventBus } from "../mod.ts";

let counter = 0;
const payload = { taskId: "t1", agentId: "a1" };
type P = typeof payload;
const handlers = [
  (p: P) => void (counter += p.taskId.length + 0),
  (p: P) => void (counter += p.taskId.length + 1),
  (p: P) => void (counter += p.taskId.length + 2),
  (p: P) => void (counter += p.taskId.length + 3),
  (p: P) => void (counter += p.taskId.length + 4),
  (p: P) => void (counter += p.taskId.length + 5),
  (p: P) => void (counter += p.taskId.length + 6),
  (p: P) => void (counter += p.taskId.length + 7),
  (p: P) => void (counter += p.taskId.length + 8),
  (p: P) => void (counter += p.taskId.length + 9),
];

if (import.meta.main) {
  const which = Deno.args[0] ?? "plugboard";
  let emit: () => unknown;
  if (which === "plugboard") {
    const bus = new EventBus<{ "task.created": P }>();
    for (const h of handlers) bus.on("task.created", h);
    emit = () => bus.emit("task.created", payload);
  } else if (which === "tseep") {
    const ee = new Tseep<{ "task.created": (p: P) => void }>();
    for (const h of handlers) ee.on("task.created", h);
    emit = () => ee.emit("task.created", payload);
  } else throw new Error(`Unknown contender "${which}": expected plugboard or tseep`);
  bench(which, () => do_not_optimize(emit()));
  const result = await run({ print: () => {}, colors: false });
  const stats = result.benchmarks[0].runs[0].stats!;
  console.log(`${which} ${stats.avg.toFixed(1)} ns ${stats.ticks > stats.samples.length ? "batched" : "unbatched"}`);
  do_not_optimize(counter);
}
