/**
 * Measures one benchmark case in a fresh process, so that JIT feedback
 * gathered while measuring one contender cannot slow another. Each case is
 * warmed up the same way before mitata measures it. It runs mitata
 * on that single case and prints one JSON line: mitata's printed table and
 * the statistics.
 *
 * Usage: deno run <flags> bench/_isolate.ts <module-url> <group> <case>
 *
 * @module
 */

import { bench, run } from "mitata";
import type { BenchModule } from "./_runner.ts";

const [module, group, name] = Deno.args;
try {
  const mod: BenchModule = await import(module);
  const def = mod.groups[group];
  const fn = await def.cases[name]();
  // The same warm-up for every contender: half a second of calls, so that each
  // is measured at V8's top tier rather than mid tier-up.
  const until = performance.now() + 500;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
  }
  await new Promise((r) => setTimeout(r, 50));
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
  }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: String((err as Error)?.stack ?? err) }));
}
Deno.exit(0);
