/**
 * The cost of isolation, side by side on the same plugin: a route called
 * through `host.fetch` (no network), a POST with a small JSON body (its
 * length told, as HTTP clients send it), `emitAsync` to one listener, and a
 * service call round trip, each with the plugin in-process, in a worker and
 * sandboxed (in its own process).
 * Each case runs in one process, after a warm-up; the figure is the median of
 * batches of sequential calls (a worker's cost is the thread hand-off, which
 * a concurrent load hides; see the HTTP group for throughput). The cases of a
 * mode take their batches in turn, each batch starting from the next case, so
 * that a moment of load on the machine falls on all of them and none always
 * follows the same one.
 *
 * In a worker, the threads are pinned (`_pin_threads.ts`): the main thread on
 * one core and the workers on the other, the placement a server with cores to
 * spare gives; then, for the round trips compared with the floor, all of them
 * on one core. Left to the scheduler, a worker's round trip here took either
 * of two times depending on where its thread had landed, and plugboard's
 * worker and the floor's did not always land alike.
 *
 * The floor, in the same run and the same way: a bare `postMessage` round
 * trip to a worker that echoes it (`_empty_worker.ts`: nothing of
 * plugboard's, plugboard's worker options), measured beside the plugin in a
 * worker. `emitAsync` and the service call in a worker are reported as a
 * ratio to it (issue 25's goal: ≤ 1.5): the median of the ratios of batches
 * taken in the same turn (`pairedRatio`).
 *
 * @module
 */

import { median } from "./_child.ts";
import { createHost } from "../mod.ts";
import { ECHO_SOURCE, startFloorWorker, writeFloorModule } from "./_empty_worker.ts";
import { pinThreads, unpinThreads } from "./_pin_threads.ts";

/** One case: median and p90 per call, in microseconds. */
export interface IsolationCase {
  name: string;
  inProcessUs: number;
  workerUs: number;
  /** workerUs / inProcessUs. */
  ratio: number;
  /** workerUs - inProcessUs. */
  addedUs: number;
  /** The same, sandboxed (its own process). */
  sandboxUs?: number;
  /** sandboxUs / inProcessUs. */
  sandboxRatio?: number;
  /** The bare `postMessage` round trip measured beside it (the floor), in µs. */
  floorUs?: number;
  /** The worker's time over the floor's, batch by batch: the median of the ratios (issue 25's goal: ≤ 1.5). */
  floorRatio?: number;
  /** The batches behind floorRatio, µs per call in the order taken: the case's in a worker, and the floor's. */
  floorBatches?: { worker: number[]; floor: number[] };
  /** How much floorRatio moves between the even and the odd batches: half the range, relative to it. */
  floorSpread?: number;
  /** Whether the worker's figures were measured with the threads pinned (false: where the scheduler put them). */
  pinned?: boolean;
  /** The round trip again with the main thread and the workers on one core (pinned runs only). */
  sameCore?: { workerUs: number; floorUs: number; floorRatio: number; batches?: { worker: number[]; floor: number[] } };
}

/** The cases reported as a ratio to the floor. */
export const FLOOR_CASES = ["emitAsync to one listener", "service call round trip"];
/** The floor's name in the printed table. */
export const FLOOR = "bare postMessage round trip";

const PLUGIN = `export default {
  name: "probe",
  version: "1.0.0",
  setup(ctx) {
    let seen = 0;
    ctx.events.on("probe.ping", () => { seen++; });
    ctx.services.provide("probe", { add: (a, b) => a + b });
    ctx.routes.get("/r", (c) => c.text("pong"));
    ctx.routes.post("/r", async (c) => c.json({ id: (await c.req.json()).n }));
  },
};
`;

/** The body of the POST case. */
const POSTED = JSON.stringify({ n: 1, title: "a task", tags: ["a", "b"] });

/** A case's median µs per call, and each batch's, in the order they ran. */
interface Measured {
  us: number;
  batches: number[];
}

/**
 * Times sequential calls: each case is warmed up, then the cases take their
 * batches in turn, and each case's median batch is kept.
 */
async function measure(
  cases: Record<string, () => Promise<unknown>>,
  batches = 15,
  per = 200,
): Promise<Record<string, Measured>> {
  for (const fn of Object.values(cases)) for (let i = 0; i < per * 2; i++) await fn();
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  const entries = Object.entries(cases);
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < entries.length; i++) {
      const [name, fn] = entries[(b + i) % entries.length];
      const t = performance.now();
      for (let n = 0; n < per; n++) await fn();
      samples[name].push(((performance.now() - t) * 1000) / per);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, xs]) => [name, { us: median(xs), batches: xs }]));
}

/**
 * A case's time over the floor's, batch by batch: the median of the ratios of
 * the batches taken in the same turn (a moment of load on the machine falls
 * on both of a pair, where a ratio of two medians lets it fall on one).
 *
 * @param ours a case's batches
 * @param floor the floor's batches, taken in turn with them
 * @returns the median of `ours[i] / floor[i]`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedRatio } from "./isolation_bench.ts";
 * // The third pair ran in a busy moment for both: its ratio is 2 like the others'.
 * assert.equal(pairedRatio([20, 22, 60], [10, 11, 30]), 2);
 * ```
 */
export function pairedRatio(ours: number[], floor: number[]): number {
  const n = Math.min(ours.length, floor.length);
  return median(Array.from({ length: n }, (_, i) => ours[i] / floor[i]));
}

/**
 * How much a paired ratio moves between two halves of the batches (the even
 * pairs and the odd ones, each a measurement of its own): half their range,
 * relative to the ratio, as the other groups' spread between repeats.
 *
 * @param ours a case's batches
 * @param floor the floor's batches, taken in turn with them
 * @param ratio the paired ratio of all batches
 * @returns the spread, relative to the ratio
 */
export function halvesSpread(ours: number[], floor: number[], ratio: number): number {
  const half = (xs: number[], parity: number) => xs.filter((_, i) => i % 2 === parity);
  const ratios = [0, 1].map((p) => pairedRatio(half(ours, p), half(floor, p)));
  return Math.abs(ratios[0] - ratios[1]) / 2 / ratio;
}

/** One round trip at a time to a worker that echoes: the floor. */
async function echoWorker(): Promise<{ call: () => Promise<unknown>; close: () => Promise<void> }> {
  const module = await writeFloorModule(ECHO_SOURCE);
  let worker: Worker;
  try {
    worker = startFloorWorker(module, "echo");
  } catch (error) {
    await module.remove();
    throw error;
  }
  let resolve: (value: unknown) => void = () => {};
  worker.onmessage = (e) => resolve(e.data);
  // The service call's arguments, as a bare message.
  const message = [1, 2];
  return {
    call: () => new Promise((r) => (resolve = r, worker.postMessage(message))),
    close: async () => {
      worker.terminate();
      await module.remove();
    },
  };
}

async function probeHost(mode: "worker" | "none" | "sandbox") {
  const dir = await Deno.makeTempDir({ prefix: "plugboard-isolation-bench-" });
  await Deno.mkdir(`${dir}/plugins/probe`, { recursive: true });
  await Deno.writeTextFile(`${dir}/plugins/probe/mod.ts`, PLUGIN);
  const host = createHost({
    pluginsDir: `${dir}/plugins`,
    dataDir: `${dir}/data`,
    lockFile: `${dir}/plugboard.lock`,
    isolation: mode === "none" ? "none" : "worker",
    sandboxed: mode === "sandbox" ? ["probe"] : [],
    logger: { level: "silent" },
  });
  await host.start();
  return { host, dir };
}

/**
 * Runs the cases and prints a table.
 *
 * @param filter runs only when it matches "isolation"
 * @returns the cases
 */
export async function runStandalone(filter?: RegExp): Promise<IsolationCase[] | undefined> {
  if (filter && !filter.test("isolation")) return undefined;
  const figures: Record<string, Record<string, Measured>> = {};
  let pinned = false;
  let sameCore: Record<string, Measured> | undefined;
  for (const isolation of ["none", "worker", "sandbox"] as const) {
    const { host, dir } = await probeHost(isolation);
    const service = host.services.resolve<{ add(a: number, b: number): number | Promise<number> }>("probe");
    const request = () => Promise.resolve(host.fetch(new Request("http://localhost/api/plugins/probe/r")));
    // A small JSON body with its length told, as an HTTP client sends it.
    const headers = { "content-type": "application/json", "content-length": String(POSTED.length) };
    const post = () =>
      Promise.resolve(
        host.fetch(new Request("http://localhost/api/plugins/probe/r", { method: "POST", body: POSTED, headers })),
      );
    const key = isolation === "none" ? "inProcess" : isolation;
    const echo = isolation === "worker" ? await echoWorker() : undefined;
    const roundTrips: Record<string, () => Promise<unknown>> = {
      "emitAsync to one listener": () => host.events.emitAsync("probe.ping" as never, {} as never),
      "service call round trip": async () => await service.add(1, 2),
      ...(echo ? { [FLOOR]: echo.call } : {}),
    };
    let pin = false;
    try {
      pin = echo ? await pinThreads("cross") : false;
      if (echo) pinned = pin;
      const measured = await measure({
        "route through host.fetch": async () => await (await request()).text(),
        "POST JSON through host.fetch": async () => await (await post()).text(),
        ...roundTrips,
      });
      for (const [name, m] of Object.entries(measured)) (figures[name] ??= {})[key] = m;
      if (pin && await pinThreads("same")) sameCore = await measure(roundTrips);
    } finally {
      if (pin) await unpinThreads();
      await echo?.close();
      await host.stop();
      await Deno.remove(dir, { recursive: true });
    }
  }
  const floor = figures[FLOOR]?.worker;
  const cases: IsolationCase[] = Object.entries(figures).filter(([name]) => name !== FLOOR).map(([name, f]) => {
    const c: IsolationCase = {
      name,
      inProcessUs: f.inProcess.us,
      workerUs: f.worker.us,
      ratio: f.worker.us / f.inProcess.us,
      addedUs: f.worker.us - f.inProcess.us,
      sandboxUs: f.sandbox.us,
      sandboxRatio: f.sandbox.us / f.inProcess.us,
      pinned,
    };
    if (floor && FLOOR_CASES.includes(name)) {
      c.floorUs = floor.us;
      c.floorRatio = pairedRatio(f.worker.batches, floor.batches);
      c.floorBatches = { worker: f.worker.batches, floor: floor.batches };
      c.floorSpread = halvesSpread(f.worker.batches, floor.batches, c.floorRatio);
      const one = sameCore?.[name];
      if (one && sameCore?.[FLOOR]) {
        const floorOne = sameCore[FLOOR];
        c.sameCore = {
          workerUs: one.us,
          floorUs: floorOne.us,
          floorRatio: pairedRatio(one.batches, floorOne.batches),
          batches: { worker: one.batches, floor: floorOne.batches },
        };
      }
    }
    return c;
  });
  console.log("\n• isolation: the same plugin in-process, in a worker and sandboxed (median µs per sequential call)");
  for (const c of cases) {
    console.log(
      `  ${c.name.padEnd(28)} in-process ${c.inProcessUs.toFixed(1).padStart(8)} µs   worker ${
        c.workerUs.toFixed(1).padStart(8)
      } µs   +${c.addedUs.toFixed(1)} µs (${c.ratio.toFixed(1)}x)   sandboxed ${
        c.sandboxUs!.toFixed(1).padStart(8)
      } µs (${c.sandboxRatio!.toFixed(1)}x)`,
    );
  }
  if (floor) {
    const where = pinned ? "main thread and workers on separate cores" : "threads where the scheduler put them";
    console.log(`  ${FLOOR.padEnd(28)} to an echo worker ${floor.us.toFixed(1).padStart(8)} µs (the floor; ${where})`);
    console.log("summary");
    for (const c of cases.filter((c) => c.floorRatio !== undefined)) {
      const one = c.sameCore ? `; on one core ${c.sameCore.floorRatio.toFixed(2)}x` : "";
      console.log(
        `  ${c.name} in a worker: ${c.floorRatio!.toFixed(2)}x a bare postMessage round trip (goal ≤ 1.5, ±${
          (c.floorSpread! * 100).toFixed(0)
        }% between halves of the batches${one})`,
      );
    }
  }
  return cases;
}

if (import.meta.main) await runStandalone();
