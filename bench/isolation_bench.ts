/**
 * The cost of isolation, side by side on the same plugin: a route called
 * through `host.fetch` (no network), `emitAsync` to one listener, and a
 * service call round trip, each with the plugin in-process, in a worker and
 * sandboxed (in its own process).
 * Each case runs in one process, after a warm-up; the figure is the median of
 * batches of sequential calls (a worker's cost is the thread hand-off, which
 * a concurrent load hides; see the HTTP group for throughput).
 *
 * @module
 */

import { createHost } from "../mod.ts";

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
}

const PLUGIN = `export default {
  name: "probe",
  version: "1.0.0",
  setup(ctx) {
    let seen = 0;
    ctx.events.on("probe.ping", () => { seen++; });
    ctx.services.provide("probe", { add: (a, b) => a + b });
    ctx.routes.get("/r", (c) => c.text("pong"));
  },
};
`;

async function measure(fn: () => Promise<unknown>, batches = 15, per = 200): Promise<number> {
  for (let i = 0; i < per * 2; i++) await fn();
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t = performance.now();
    for (let i = 0; i < per; i++) await fn();
    samples.push(((performance.now() - t) * 1000) / per);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
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
  const figures: Record<string, Record<string, number>> = {};
  for (const isolation of ["none", "worker", "sandbox"] as const) {
    const { host, dir } = await probeHost(isolation);
    const service = host.services.resolve<{ add(a: number, b: number): number | Promise<number> }>("probe");
    const request = () => Promise.resolve(host.fetch(new Request("http://localhost/api/plugins/probe/r")));
    const key = isolation === "none" ? "inProcess" : isolation;
    figures["route through host.fetch"] ??= {};
    figures["route through host.fetch"][key] = await measure(async () => await (await request()).text());
    figures["emitAsync to one listener"] ??= {};
    figures["emitAsync to one listener"][key] = await measure(() =>
      host.events.emitAsync("probe.ping" as never, {} as never)
    );
    figures["service call round trip"] ??= {};
    figures["service call round trip"][key] = await measure(async () => await service.add(1, 2));
    await host.stop();
    await Deno.remove(dir, { recursive: true });
  }
  const cases = Object.entries(figures).map(([name, f]) => ({
    name,
    inProcessUs: f.inProcess,
    workerUs: f.worker,
    ratio: f.worker / f.inProcess,
    addedUs: f.worker - f.inProcess,
    sandboxUs: f.sandbox,
    sandboxRatio: f.sandbox / f.inProcess,
  }));
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
  return cases;
}

if (import.meta.main) await runStandalone();
