/**
 * Measures one benchmark case in a fresh process, so that JIT feedback
 * gathered while measuring one contender cannot slow another. It runs
 * mitata on that single case and prints one JSON line: mitata's printed
 * table and the statistics.
 *
 * Usage: deno run <flags> bench/_isolate.ts <module-url> <group> <case> [warm|fresh|first]
 *
 * - `warm` (the default): half a second of calls before mitata measures, the
 *   same for every contender, so each is measured at V8's top tier.
 * - `fresh`: no warm-up at all, as a process that just started; mitata
 *   (`measure`) takes its two warm-up calls before it decides to time in
 *   batches, rather than deciding on its first call alone.
 * - `first`: no mitata; times the very first call alone (`stats.avg` is that
 *   call's duration), the latency a first emit pays.
 *
 * @module
 */

import { bench, measure, run } from "mitata";
import type { BenchModule } from "./_runner.ts";

const [module, group, name, mode = "warm"] = Deno.args;
try {
  const mod: BenchModule = await import(module);
  const def = mod.groups[group];
  if (!def) throw new Error(`No group "${group}" in ${module}`);
  const make = def.cases[name];
  if (!make) throw new Error(`No case "${name}" in group "${group}"`);
  const fn = await make();
  if (mode === "first") {
    const t0 = performance.now();
    const r = fn();
    if (r instanceof Promise) await r;
    const ns = (performance.now() - t0) * 1e6;
    await def.teardown?.();
    console.log(
      JSON.stringify({ ok: true, printed: "", stats: { avg: ns, min: ns, max: ns, p50: ns, p75: ns, p99: ns } }),
    );
    Deno.exit(0);
  }
  if (mode === "warm") {
    // Half a second of calls, so that each contender is measured at V8's top tier rather than mid tier-up.
    const until = performance.now() + 500;
    while (performance.now() < until) {
      for (let i = 0; i < 1000; i++) {
        const r = fn();
        if (r instanceof Promise) await r;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  } else if (mode !== "fresh") throw new Error(`Unknown mode "${mode}": expected warm, fresh or first`);
  if (mode === "fresh") {
    // No warm-up of ours. mitata's own decision to time calls in batches rests on its first call: when that one
    // call is slow (compiling, a page fault; over 0.5 ms in some processes here, for every contender alike), it
    // times every later call one by one, clock read included (60-100 ns on this machine), and a 9 ns emit reads
    // as 90 ns. Here it always takes its two warm-up calls before deciding, so a process reads slow only if its
    // calls are slow.
    const stats = await measure(fn, { warmup_threshold: Infinity });
    await def.teardown?.();
    console.log(JSON.stringify({
      ok: true,
      printed: "",
      stats: { avg: stats.avg, min: stats.min, max: stats.max, p50: stats.p50, p75: stats.p75, p99: stats.p99 },
      batched: stats.ticks > stats.samples.length,
    }));
    Deno.exit(0);
  }
  bench(name, fn);
  const printed: string[] = [];
  const result = await run({ colors: false, print: (s) => printed.push(s) });
  const stats = result.benchmarks[0].runs[0].stats;
  if (!stats) throw result.benchmarks[0].runs[0].error;
  await def.teardown?.();
  console.log(JSON.stringify({
    ok: true,
    printed: printed.join("\n"),
    stats: { avg: stats.avg, min: stats.min, max: stats.max, p50: stats.p50, p75: stats.p75, p99: stats.p99 },
    // mitata times calls in batches of 4,096 when its first calls were fast, one by one (timer included) otherwise.
    batched: stats.ticks > stats.samples.length,
  }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: String((err as Error)?.stack ?? err) }));
}
Deno.exit(0);
