/**
 * Turns `deno task bench --json <file>` output into the Markdown tables of
 * BENCHMARKS.md: `deno run --allow-read bench/report.ts bench/results.json`.
 *
 * @module
 */

import { formatNs, type GroupResult } from "./_runner.ts";

const data = JSON.parse(await Deno.readTextFile(Deno.args[0] ?? "bench/results.json"));
const out: string[] = [];

function groups(list: GroupResult[] | undefined) {
  for (const g of list ?? []) {
    out.push(`\n**${g.group}**\n`);
    out.push("| contender | avg | p75 | p99 | vs plugboard |", "| --- | ---: | ---: | ---: | ---: |");
    const ours = g.cases.find((c) => c.name === g.ours)!;
    for (const c of [...g.cases].sort((a, b) => a.avg - b.avg)) {
      const ratio = c === ours ? "1.00 (baseline)" : `${(c.avg / ours.avg).toFixed(2)}x`;
      out.push(
        `| ${c.name === g.ours ? `**${c.name}**` : c.name} | ${formatNs(c.avg)} | ${formatNs(c.p75)} | ${
          formatNs(c.p99)
        } | ${ratio} |`,
      );
    }
    if (g.fastestPeer) {
      const r = g.ratioToFastestPeer!;
      out.push(
        `\nplugboard / fastest peer (${g.fastestPeer}): **${r.toFixed(2)}** (${
          r <= 1 ? "plugboard leads" : "plugboard trails"
        })`,
      );
    }
  }
}

out.push(`Deno ${data.deno}, ${data.date}`);
out.push("\n### Event dispatch");
groups(data.results.events);
out.push("\n### Route dispatch (in-process)");
groups(data.results.routes);
const http = data.results.http;
if (http) {
  out.push("\n### HTTP throughput\n");
  out.push("| server | req/s | mean latency under load | p50 (sequential) | p99 (sequential) | non-2xx | errors |");
  out.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of http.results) {
    out.push(
      `| ${r.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.loadedLatencyMs.toFixed(3)} ms | ${
        r.latencyP50Ms.toFixed(3)
      } ms | ${r.latencyP99Ms.toFixed(3)} ms | ${r.non2xx} | ${r.errors} |`,
    );
  }
  out.push(`\nplugboard / bare Hono throughput: **${(http.throughputRatio * 100).toFixed(1)}%**`);
}
const startup = data.results.startup;
if (startup) {
  out.push("\n### Cold startup\n", "| plugins | host.start() | per plugin |", "| ---: | ---: | ---: |");
  for (const r of startup.results) {
    out.push(`| ${r.plugins} | ${r.ms.toFixed(1)} ms | ${r.msPerPlugin.toFixed(3)} ms |`);
  }
}
const reload = data.results.reload;
if (reload) {
  out.push("\n### Hot reload\n", "| measure | median | p99 |", "| --- | ---: | ---: |");
  out.push(
    `| save → new version served over HTTP (includes 80 ms debounce) | ${
      reload.saveToServedMs.median.toFixed(1)
    } ms | ${reload.saveToServedMs.p99.toFixed(1)} ms |`,
  );
  out.push(`| host.reload() | ${reload.reloadMs.median.toFixed(2)} ms | ${reload.reloadMs.p99.toFixed(2)} ms |`);
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  out.push(
    `\nMemory over ${reload.memory.reloads} reloads, after GC: heap ${kb(reload.memory.heapBytesPerReload)} and RSS ${
      kb(reload.memory.rssBytesPerReload)
    } retained per reload.`,
  );
}
console.log(out.join("\n"));
