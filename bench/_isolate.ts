/**
 * Measures one benchmark case in a fresh process, so that JIT feedback
 * gathered while measuring one contender cannot slow another. It runs
 * mitata on that single case and prints one JSON line: mitata's printed
 * table and the statistics.
 *
 * Usage: deno run <flags> bench/_isolate.ts <module-url> <group> <case> [warm|fresh|first]
 *
 * - `warm` (the default): half a second of calls (BENCH_WARMUP_MS) before
 *   mitata measures, the same for every contender, so each is measured at
 *   V8's top tier.
 * - `fresh`: no warm-up at all, as a process that just started; mitata
 *   (`measure`) takes its two warm-up calls before it decides to time in
 *   batches, rather than deciding on its first call alone.
 * - `first`: no mitata; times the very first call alone (`stats.avg` is that
 *   call's duration), the latency a first emit pays.
 *
 * With BENCH_CASE_MS set (as `--quick` does), mitata's `measure` times the
 * case for that many milliseconds, without `run`'s calibration of an empty
 * function (four measurements of ~0.64 s each) and its printed table.
 *
 * @module
 */

import { bench, measure, run } from "mitata";
import { effort } from "./_effort.ts";
import { type BenchModule, formatNs } from "./_runner.ts";

const [module, group, name, mode = "warm"] = Deno.args;
/** With BENCH_CASE_MS set, a case slower than SLOW_NS per call is measured for SLOW_MIN_MS at least. */
const SLOW_NS = 100;
const SLOW_MIN_MS = 300;
/** mitata's measuring time, in ns, when BENCH_CASE_MS is set. */
const caseNs = Deno.env.get("BENCH_CASE_MS") === undefined ? undefined : effort("BENCH_CASE_MS") * 1e6;
/** Calls made by the warm-up, and their average duration (0 before it ran). */
let warmCalls = 0;
let warmNsPerCall = 0;
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
    const started = performance.now();
    const until = started + effort("BENCH_WARMUP_MS");
    while (performance.now() < until) {
      for (let i = 0; i < 1000; i++) {
        const r = fn();
        if (r instanceof Promise) await r;
      }
      warmCalls += 1000;
    }
    warmNsPerCall = (performance.now() - started) * 1e6 / warmCalls;
    await new Promise((r) => setTimeout(r, 50));
  } else if (mode !== "fresh") throw new Error(`Unknown mode "${mode}": expected warm, fresh or first`);
  if (mode === "fresh") {
    // No warm-up of ours. mitata's own decision to time calls in batches rests on its first call: when that one
    // call is slow (compiling, a page fault; over 0.5 ms in some processes here, for every contender alike), it
    // times every later call one by one, clock read included (60-100 ns on this machine), and a 9 ns emit reads
    // as 90 ns. Here it always takes its two warm-up calls before deciding, so a process reads slow only if its
    // calls are slow.
    const stats = await measure(fn, {
      warmup_threshold: Infinity,
      ...(caseNs === undefined ? {} : { min_cpu_time: caseNs }),
    });
    await def.teardown?.();
    console.log(JSON.stringify({
      ok: true,
      printed: "",
      stats: { avg: stats.avg, min: stats.min, max: stats.max, p50: stats.p50, p75: stats.p75, p99: stats.p99 },
      batched: stats.ticks > stats.samples.length,
    }));
    Deno.exit(0);
  }
  if (caseNs !== undefined) {
    // A slow case (a route: ~0.5 µs and up) fills few of mitata's batches of 4,096 calls in a short measurement, and
    // its first batches read several times slower than the rest: 50 ms measured a route at ~2 µs, 300 ms at ~0.3.
    const slow = warmNsPerCall > SLOW_NS;
    const stats = await measure(fn, { min_cpu_time: Math.max(caseNs, slow ? SLOW_MIN_MS * 1e6 : 0) });
    await def.teardown?.();
    const line = `${name.padEnd(32)} ${formatNs(stats.avg).padStart(10)}/iter   p75 ${
      formatNs(stats.p75).padStart(10)
    }   p99 ${formatNs(stats.p99).padStart(10)}   (${formatNs(stats.min)} … ${formatNs(stats.max)})`;
    console.log(JSON.stringify({
      ok: true,
      printed: line,
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
