/**
 * Turns the JSON of `deno task bench --json <file>` into the Markdown of
 * BENCHMARKS.md (the run's machine, settings, a summary row per group and
 * every table) and the README's short summary (the headline figures and a
 * link to BENCHMARKS.md).
 *
 * `deno task bench:report [file]` prints it; `deno task bench:report [file]
 * --write` replaces the generated parts of BENCHMARKS.md and README.md (the
 * text between `<!-- bench:results:start -->` / `end` and
 * `<!-- bench:summary:start -->` / `end` markers) and formats both files.
 * `deno task bench --docs` does the same after a full run. A quick run's
 * results (`--quick`) are refused: the docs come from a full run.
 *
 * @module
 */

import { type CaseResult, formatNs, type GroupResult } from "./_runner.ts";
import type { HttpResults } from "./http_bench.ts";
import type { ReloadResults } from "./reload_bench.ts";
import { type Spread, spreadTable } from "./_fresh.ts";
import type { IsolationCase } from "./isolation_bench.ts";
import type { StartupResult } from "./startup_bench.ts";
import type { EmptyWorkersRatio, EmptyWorkersResult } from "./_empty_workers.ts";
import type { RouteSpread } from "./routes_spread_bench.ts";

/** A results file, as written by `deno task bench --json`. */
export interface BenchData {
  /** Deno's version. */
  deno: string;
  /** When the run ended (ISO 8601). */
  date: string;
  /** CPU, cores, memory, OS, load averages, `quick` and reduced effort, minutes taken. */
  machine?: Record<string, unknown>;
  /** Per module (events, routes, startup, reload, http): its results. */
  results: Record<string, unknown>;
}

/** A 1-minute load average above this, before the run started, marks the run's figures provisional. */
export const BUSY_LOAD = 1;

/** What the startup group writes (a run before issue 25 has no empty workers). */
interface StartupData {
  results: StartupResult[];
  workers?: StartupResult[];
  emptyWorkers?: EmptyWorkersResult[];
  vsEmptyWorkers?: EmptyWorkersRatio[];
  sandboxes?: StartupResult[];
}

/** The isolation cases measured against a bare `postMessage` round trip (none in a run before issue 25). */
function againstRoundTrip(value: unknown): (IsolationCase & { floorUs: number; floorRatio: number })[] {
  return Array.isArray(value)
    ? value.filter((c): c is IsolationCase & { floorUs: number; floorRatio: number } =>
      typeof c?.floorRatio === "number" && typeof c?.floorUs === "number"
    )
    : [];
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const secsOrMs = (x: number) => x >= 1000 ? `${(x / 1000).toFixed(2)} s` : ms(x, 0);

const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const ms = (x: number, digits = 2) => `${x.toFixed(digits)} ms`;
const int = (x: number) => Math.round(x).toLocaleString("en-US");

function groupList(x: unknown): GroupResult[] {
  return Array.isArray(x) ? x.filter((g) => g && typeof g === "object" && "cases" in g) : [];
}

function groupTables(list: GroupResult[], out: string[]): void {
  for (const g of list) {
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
      const spread = g.spread === undefined ? "" : `, ±${(g.spread * 100).toFixed(0)}% between repeats`;
      out.push(
        `\nplugboard / fastest peer (${g.fastestPeer}): **${r.toFixed(2)}** (${
          r <= 1 ? "plugboard leads" : "plugboard trails"
        }${spread})`,
      );
    }
  }
}

/**
 * The machine and settings of a run, as a Markdown list.
 *
 * @param data a results file
 * @returns Markdown
 */
export function renderRun(data: BenchData): string {
  const m = data.machine ?? {};
  const out = [`- **Run**: ${data.date}, Deno ${data.deno}${m.minutes ? `, ${m.minutes} minutes` : ""}.`];
  const parts = [m.cpu, m.cores && `${m.cores} cores`, m.memoryGiB && `${m.memoryGiB} GiB`, m.os].filter(Boolean);
  if (parts.length) out.push(`- **Machine**: ${parts.join(", ")}.`);
  const la = (x: unknown) => Array.isArray(x) ? x.map((n: number) => n.toFixed(2)).join(" / ") : "?";
  if (m.loadAverageAtStart) {
    out.push(
      `- **Load average** (1 / 5 / 15 min): ${la(m.loadAverageAtStart)} at the start, ${
        la(m.loadAverageAtEnd)
      } at the end (the run's own processes included).`,
    );
  }
  const start = (m.loadAverageAtStart as number[] | undefined)?.[0];
  const busy = start !== undefined && start > BUSY_LOAD;
  if (m.quick || m.reducedEffort || busy) {
    const effort = m.reducedEffort && Object.entries(m.reducedEffort).map(([k, v]) => `${k}=${v}`).join(", ");
    const why = [
      m.quick ? `a quick run's reduced effort (\`--quick\`${effort ? `: ${effort}` : ""})` : effort &&
        `reduced effort (${effort})`,
      busy && `a busy machine (load average ${start!.toFixed(2)} before it started)`,
    ].filter(Boolean).join(" on ");
    out.unshift(
      `> **Provisional figures**: this run was made with ${why}. Regenerate them from a full run on a quiet ` +
        "machine with `deno task bench --docs` before relying on them.\n",
    );
  }
  const http = data.results.http as HttpResults | undefined;
  if (http && "tool" in http) {
    const s = http.settings;
    out.push(
      `- **Load generator**: ${http.tool}, \`-t${s.threads} -c${s.connections} -d${s.seconds}s --latency\`, in its ` +
        `own process; each server in its own \`deno run\` process on 127.0.0.1; ${s.warmupSeconds} s of warm-up ` +
        `before each measurement; ${s.rounds} rounds, fresh servers each round, plugboard and bare Hono alternating ` +
        `(the order flips every round); the median round is reported. Generator and server share the machine's cores.`,
    );
  } else if (http && "skipped" in http) {
    out.push(`- **Load generator**: none: the HTTP group was skipped (${http.skipped}).`);
  }
  return out.join("\n");
}

/**
 * One sentence on a run, for the README.
 *
 * @param data a results file
 * @returns Markdown
 */
export function renderRunShort(data: BenchData): string {
  const m = data.machine ?? {};
  const http = data.results.http as HttpResults | undefined;
  const machine = [m.cpu, m.cores && `${m.cores} cores`].filter(Boolean).join(", ");
  const wrk = http && "tool" in http
    ? `; HTTP with wrk \`-t${http.settings.threads} -c${http.settings.connections}\` in its own process, median of ${http.settings.rounds} rounds`
    : "";
  const provisional = m.quick
    ? " **Quick run**: reduced effort, indicative figures only."
    : m.reducedEffort || ((m.loadAverageAtStart as number[] | undefined)?.[0] ?? 0) > BUSY_LOAD
    ? " **Provisional figures** (a short run or a busy machine: see BENCHMARKS.md)."
    : "";
  return `From the run of ${data.date.slice(0, 10)} in [BENCHMARKS.md](BENCHMARKS.md) (${
    machine || "machine not recorded"
  }, Deno ${data.deno}${wrk}). Ratios are plugboard ÷ peer: for times below 1 means plugboard is faster, for requests per second below 1 means it serves fewer.${provisional}`;
}

/**
 * Every table of a run.
 *
 * @param data a results file
 * @returns Markdown
 */
export function renderResults(data: BenchData): string {
  const out: string[] = [renderRun(data)];
  const events = groupList(data.results.events);
  if (events.length) {
    out.push("\n### Event dispatch");
    groupTables(events, out);
  }
  const routes = groupList(data.results.routes);
  if (routes.length) {
    out.push("\n### Route dispatch (in-process: `host.fetch` against `app.fetch`)");
    groupTables(routes, out);
  }
  const http = data.results.http as HttpResults | undefined;
  if (http && "cases" in http) {
    out.push("\n### HTTP (wrk, out of process)\n");
    out.push(
      "| case | server | req/s | p50 | p99 | plugboard / peer | ratio per round |",
      "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    );
    for (const c of http.cases) {
      const rounds = c.roundRatios.map((r) => r.toFixed(2)).join(", ");
      out.push(
        `| ${c.case} | **${c.ours.server}** | ${int(c.ours.requestsPerSecond)} | ${ms(c.ours.p50Ms)} | ${
          ms(c.ours.p99Ms)
        } | **${c.ratio.toFixed(2)}** | ${rounds} |`,
        `| | ${c.peer.server} | ${int(c.peer.requestsPerSecond)} | ${ms(c.peer.p50Ms)} | ${ms(c.peer.p99Ms)} | | |`,
      );
    }
    out.push(
      "\nreq/s, p50 and p99 are each side's median round; plugboard / peer is the median of the rounds' ratios (the " +
        "two sides of a round are measured back to back). p50 and p99 are wrk's latency percentiles under load (50 " +
        "connections). Paths: the plugin route is " +
        `\`${http.cases[0]?.path}\`; the 404 is a path under \`/api/plugins/hello/\` that the plugin does not ` +
        "serve, answered on both servers with the same problem+json body.",
    );
  }
  const startup = data.results.startup as StartupData | undefined;
  if (startup?.results) {
    out.push(
      "\n### Cold startup\n",
      "| plugins | where they run | host.start() | per plugin | RSS once started (with plugins' processes) | RSS per plugin |",
      "| ---: | --- | ---: | ---: | ---: | ---: |",
    );
    const tiers = [
      ["in-process", startup.results],
      ["in workers (default)", startup.workers ?? []],
      ["sandboxed (own processes)", startup.sandboxes ?? []],
    ];
    for (const [where, list] of tiers) {
      for (const r of list as StartupData["results"]) {
        const total = (r.rss ?? 0) + (r.childRss ?? 0);
        const rss = total ? `${(total / 2 ** 20).toFixed(0)} MiB` : "-";
        const per = r.rssPerPlugin ? `${(r.rssPerPlugin / 2 ** 20).toFixed(1)} MiB` : "-";
        const failed = r.failed ? ` (${r.failed} failed to load)` : "";
        out.push(`| ${r.plugins} | ${where} | ${ms(r.ms, 1)}${failed} | ${ms(r.msPerPlugin, 3)} | ${rss} | ${per} |`);
      }
    }
    const floor = startup.vsEmptyWorkers ?? [];
    if (floor.length) {
      out.push(
        "\nIn workers against as many empty workers (the floor: a one-line module that posts one message when " +
          "ready, with plugboard's worker options), each cold start of plugboard's followed by one of theirs. " +
          "Time: until every worker has answered. RSS: the process's growth from before the start to once the " +
          "workers idle, per worker, each side in a process of its own read the same way. A start of few " +
          "plugins carries the host's own start (its lock file, settings, discovery), which empty workers do not.\n",
        "| plugins | in workers | empty workers | time ratio (goal ≤ 1.2 for 100) | RSS per plugin | per empty worker | RSS ratio (goal ≤ 1.3) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      );
      for (const r of floor) {
        const ours = startup.workers?.find((w) => w.plugins === r.plugins);
        const empty = startup.emptyWorkers?.find((e) => e.workers === r.plugins);
        const spread = (x: number) => x ? ` (±${(x * 100).toFixed(0)}%)` : "";
        out.push(
          `| ${r.plugins} | ${ours ? ms(ours.ms, 1) : "-"} | ${empty ? ms(empty.ms, 1) : "-"} | **${
            r.startRatio.toFixed(2)
          }**${spread(r.startSpread)} | ${ours?.rssGrowthPerPlugin ? mib(ours.rssGrowthPerPlugin) : "-"} | ${
            empty ? mib(empty.rssPerWorker) : "-"
          } | **${r.rssRatio.toFixed(2)}**${spread(r.rssSpread)} |`,
        );
      }
    }
  }
  const spreads = [
    ...eventSpreads(data.results.events),
    ...((data.results.routes_spread as RouteSpread[] | undefined) ?? []).map((g) => ({
      title: `${g.group} (\`host.fetch\` against bare Hono)`,
      ours: g.ours,
      cases: g.cases,
      warmed: warmedOf(data.results.routes, g.group),
    })),
  ];
  if (spreads.length) {
    out.push(
      "\n### Across fresh processes\n",
      "Each contender started in its own fresh process again and again, with no warm-up of the harness's: the figure " +
        "a process ends up with, not the best one. mitata decides to time calls in batches after its two warm-up " +
        "calls (`warmup_threshold: Infinity`), not on its first call alone: a first call slowed by compiling or a page " +
        "fault (over 0.5 ms, in a few processes of every contender) would otherwise make it time each call with a " +
        "clock read, ~90 ns for a 9 ns emit. An *unbatched* run is one where it still timed calls one by one.\n",
    );
    for (const s of spreads) {
      out.push(spreadTable(s.title, new Map(s.cases.map((c) => [c.name, c.fresh])), s.ours, s.warmed), "");
    }
  }
  const isolation = data.results.isolation as IsolationCase[] | undefined;
  if (Array.isArray(isolation) && isolation.length) {
    out.push(
      "\n### The cost of isolation\n",
      "The same plugin in-process, in a worker and sandboxed (its own process), in one run, median µs per " +
        "sequential call (the hand-off each call pays; the HTTP group shows throughput under concurrent load):\n",
      "| case | in-process | in a worker | added | ratio | sandboxed | ratio |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const c of isolation) {
      const sandbox = c.sandboxUs === undefined
        ? "- | -"
        : `${c.sandboxUs.toFixed(1)} µs | ${c.sandboxRatio!.toFixed(1)}x`;
      out.push(
        `| ${c.name} | ${c.inProcessUs.toFixed(1)} µs | ${c.workerUs.toFixed(1)} µs | +${c.addedUs.toFixed(1)} µs | ${
          c.ratio.toFixed(1)
        }x | ${sandbox} |`,
      );
    }
    const floor = againstRoundTrip(isolation);
    if (floor.length) {
      const oneCore = floor.some((c) => c.sameCore);
      const where = floor[0].pinned
        ? "the main thread and the workers pinned to separate cores"
        : "the threads where the scheduler put them";
      out.push(
        `\nIn a worker, against a bare \`postMessage\` round trip to a worker that echoes it (nothing of plugboard's; ` +
          `${floor[0].floorUs.toFixed(1)} µs), measured in the same process, its batches in turn with the plugin's, ` +
          `${where}${oneCore ? "; then again with all of them pinned to one core" : ""}. Each ratio is the median ` +
          `of the ratios of batches taken in the same turn; beside it, the ratio of the two medians (the figure ` +
          `before 2026-12-06), which can set one side's quiet batches against the other's busy ones:\n`,
        `| case | in a worker | bare round trip | ratio (goal ≤ 1.5) | ratio of the medians |${
          oneCore ? " one core: in a worker | bare | ratio | ratio of the medians |" : ""
        }`,
        `| --- | ---: | ---: | ---: | ---: |${oneCore ? " ---: | ---: | ---: | ---: |" : ""}`,
      );
      for (const c of floor) {
        const spread = c.floorSpread ? ` (±${(c.floorSpread * 100).toFixed(0)}%)` : "";
        const one = c.sameCore
          ? ` ${c.sameCore.workerUs.toFixed(1)} µs | ${c.sameCore.floorUs.toFixed(1)} µs | ${
            c.sameCore.floorRatio.toFixed(2)
          } | ${(c.sameCore.workerUs / c.sameCore.floorUs).toFixed(2)} |`
          : oneCore
          ? " - | - | - | - |"
          : "";
        out.push(
          `| ${c.name} | ${c.workerUs.toFixed(1)} µs | ${c.floorUs.toFixed(1)} µs | **${
            c.floorRatio.toFixed(2)
          }**${spread} | ${(c.workerUs / c.floorUs).toFixed(2)} |${one}`,
        );
      }
    }
  }
  const remote = (data.results.remote as { results?: Record<string, number> } | undefined)?.results;
  if (remote) {
    out.push(
      "\n### URL plugins: a 20-module graph\n",
      "Fresh processes, median ms: plugboard fetches, checks and snapshots the graph itself; Deno's `import()` of the " +
        "same URL for comparison (its warm case reads Deno's cache and checks nothing).\n",
      "| case | median |",
      "| --- | ---: |",
    );
    for (const [name, value] of Object.entries(remote)) {
      if (typeof value === "number") out.push(`| ${name} | ${value.toFixed(1)} ms |`);
    }
  }
  const reload = data.results.reload as ReloadResults | undefined;
  if (reload?.saveToServed) {
    out.push(
      "\n### Hot reload\n",
      `Save → new version served over HTTP, through the watcher (settle window ${reload.saveToServed.settleMs} ms), ` +
        `${reload.saveToServed.patterns[0]?.saves} saves per pattern; reloads per save counts successful and ` +
        `failed reloads within ${reload.saveToServed.afterSaveMs} ms of the new version being served. With ` +
        `${reload.saveToServed.patterns[0]?.saves} saves the p99 is close to the slowest save.\n`,
      "| save pattern | median | p99 | reloads per save |",
      "| --- | ---: | ---: | ---: |",
    );
    for (const p of reload.saveToServed.patterns) {
      out.push(`| ${p.pattern} | ${ms(p.medianMs, 1)} | ${ms(p.p99Ms, 1)} | ${p.reloadsPerSave.toFixed(2)} |`);
    }
    out.push(
      "\n`host.reload()` of the shipped `hello` plugin, called directly, and the memory each admin reload retains:\n",
      "| hello runs | host.reload() median | p99 | heap per reload | RSS per reload | reloads measured |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const [where, m] of [["in-process", reload], ["in a worker (default)", reload.worker]] as const) {
      if (!m) continue;
      out.push(
        `| ${where} | ${ms(m.reloadMs.median)} | ${ms(m.reloadMs.p99)} | ${kib(m.memory.heapBytesPerReload)} | ${
          kib(m.memory.rssBytesPerReload)
        } | ${m.memory.reloads} |`,
      );
    }
    if (reload.bareWorker) {
      out.push(
        `| a bare worker, created and terminated (the floor) | - | - | - | ${
          kib(reload.bareWorker.rssBytesPerCycle)
        } | ${reload.bareWorker.cycles} cycles |`,
      );
    }
    out.push(
      `\nMethod: ${reload.memory.method}.${reload.worker ? ` In a worker: ${reload.worker.memory.method}.` : ""}${
        reload.bareWorker ? ` The floor: ${reload.bareWorker.method}.` : ""
      }`,
    );
  }
  return out.join("\n");
}

/**
 * The summary table of BENCHMARKS.md: one row per group or case, plugboard
 * against its best peer.
 *
 * @param data a results file
 * @returns Markdown
 */
export function renderSummary(data: BenchData): string {
  const out = ["| measure | plugboard | best peer | ratio |", "| --- | ---: | ---: | ---: |"];
  for (const [title, list] of [["", data.results.events], ["`host.fetch`, no network: ", data.results.routes]]) {
    for (const g of groupList(list)) {
      const ours = g.cases.find((c) => c.name === g.ours);
      const peer = g.cases.find((c) => c.name === g.fastestPeer);
      if (!ours || !peer) continue;
      out.push(
        `| ${title}${g.group} | ${formatNs(ours.avg)} | ${peer.name} ${formatNs(peer.avg)} | ${
          g.ratioToFastestPeer!.toFixed(2)
        } (time) |`,
      );
    }
  }
  const http = data.results.http as HttpResults | undefined;
  if (http && "cases" in http) {
    for (const c of http.cases) {
      out.push(
        `| HTTP req/s (wrk), ${c.case} | ${int(c.ours.requestsPerSecond)} | ${c.peerLabel ?? "bare Hono"} ${
          int(c.peer.requestsPerSecond)
        } | ${c.ratio.toFixed(2)} |`,
      );
    }
  }
  const startup = data.results.startup as StartupData | undefined;
  const at = (n: number) => startup?.results?.find((r) => r.plugins === n)?.ms;
  if (at(100) && at(1000)) {
    out.push(
      `| cold \`host.start()\` in-process, 100 / 1,000 plugins | ${ms(at(100)!, 0)} / ${
        (at(1000)! / 1000).toFixed(2)
      } s | - | ${(at(1000)! / at(100)!).toFixed(1)}x for 10x plugins |`,
    );
  }
  const w100 = startup?.workers?.find((r) => r.plugins === 100);
  if (w100) {
    out.push(
      `| cold \`host.start()\` in workers, 100 plugins (RSS) | ${(w100.ms / 1000).toFixed(2)} s (${
        w100.rss ? `${(w100.rss / 2 ** 20).toFixed(0)} MiB` : "?"
      }) | in-process ${at(100) ? ms(at(100)!, 0) : "?"} | ${at(100) ? (w100.ms / at(100)!).toFixed(0) : "?"}x |`,
    );
  }
  const floor = startup?.vsEmptyWorkers?.at(-1);
  const floorOurs = startup?.workers?.find((r) => r.plugins === floor?.plugins);
  const floorEmpty = startup?.emptyWorkers?.find((r) => r.workers === floor?.plugins);
  if (floor && floorOurs && floorEmpty) {
    const n = floor.plugins;
    out.push(
      `| cold \`host.start()\` in workers, ${n} plugins, against ${n} empty workers (goal ≤ 1.2) | ${
        secsOrMs(floorOurs.ms)
      } | ${n} empty workers ${secsOrMs(floorEmpty.ms)} | ${floor.startRatio.toFixed(2)} (time) |`,
    );
    if (floorOurs.rssGrowthPerPlugin) {
      out.push(
        `| RSS per isolated plugin, ${n} plugins, against an empty worker's (goal ≤ 1.3) | ${
          mib(floorOurs.rssGrowthPerPlugin)
        } | empty worker ${mib(floorEmpty.rssPerWorker)} | ${floor.rssRatio.toFixed(2)} (RSS) |`,
      );
    }
  }
  for (const c of againstRoundTrip(data.results.isolation)) {
    const cores = c.pinned ? ", threads on separate cores" : "";
    out.push(
      `| ${c.name} in a worker, against a bare \`postMessage\` round trip${cores} (goal ≤ 1.5) | ${
        c.workerUs.toFixed(1)
      } µs | bare round trip ${c.floorUs.toFixed(1)} µs | ${c.floorRatio.toFixed(2)} (time) |`,
    );
    if (c.sameCore) {
      out.push(
        `| the same, all threads on one core | ${c.sameCore.workerUs.toFixed(1)} µs | bare round trip ${
          c.sameCore.floorUs.toFixed(1)
        } µs | ${c.sameCore.floorRatio.toFixed(2)} (time) |`,
      );
    }
  }
  const reload = data.results.reload as ReloadResults | undefined;
  if (reload?.saveToServed) {
    const inProcess = reload.saveToServed.patterns.filter((p) => p.isolation !== "worker");
    const first = inProcess[0];
    const inWorker = reload.saveToServed.patterns.find((p) => p.isolation === "worker");
    const worst = Math.max(...reload.saveToServed.patterns.map((p) => p.reloadsPerSave));
    out.push(
      `| hot reload: save → served, one file in-process (median / p99) | ${ms(first.medianMs, 1)} / ${
        ms(first.p99Ms, 1)
      } | - | ${worst.toFixed(2)} reloads per save at most |`,
    );
    if (inWorker) {
      out.push(
        `| hot reload: save → served, one file in a worker (median / p99) | ${ms(inWorker.medianMs, 1)} / ${
          ms(inWorker.p99Ms, 1)
        } | - | - |`,
      );
    }
    out.push(
      `| \`host.reload()\` median, in-process / in a worker | ${ms(reload.reloadMs.median)}${
        reload.worker ? ` / ${ms(reload.worker.reloadMs.median)}` : ""
      } | - | - |`,
      `| memory retained per reload in-process (heap / RSS) | ${kib(reload.memory.heapBytesPerReload)} / ${
        kib(reload.memory.rssBytesPerReload)
      } | - | - |`,
    );
    if (reload.worker) {
      out.push(
        `| memory retained per reload in a worker (host heap / RSS) | ${
          kib(reload.worker.memory.heapBytesPerReload)
        } / ${kib(reload.worker.memory.rssBytesPerReload)} | ${
          reload.bareWorker ? `bare worker cycle: - / ${kib(reload.bareWorker.rssBytesPerCycle)}` : "-"
        } | - |`,
      );
    }
  }
  return out.join("\n");
}

/** The event groups the README quotes, against tseep. */
export const HEADLINE_EVENTS = ["emit, 1 listener", "emit, 10 distinct listeners"];
/** The route group the README quotes, against bare Hono. */
export const HEADLINE_ROUTE = "route dispatch, 100 plugins with 5 routes each";
/** The HTTP cases the README quotes, and how it names them. */
export const HEADLINE_HTTP: [string, string][] = [
  ["plugin route, hello only, in-process", "HTTP req/s (wrk), plugin route, in-process"],
  ["plugin route, hello only, in a worker (default)", "HTTP req/s (wrk), plugin route, in a worker (default)"],
  [
    "plugin route, hello only, in a worker, against Hono in a worker (the floor)",
    "HTTP req/s (wrk), in a worker, against the worker floor",
  ],
];

/**
 * The README's short table: a few headline figures, each plugboard against
 * its peer (tseep for events, bare Hono for routes and HTTP, bare Hono in a
 * worker for the floor), then hot reload and startup. A row whose figures
 * the run lacks is left out.
 *
 * @param data a results file
 * @returns Markdown, empty when the run has none of them
 */
export function renderHeadlines(data: BenchData): string {
  const rows: string[] = [];
  const vs = (ours: CaseResult, peer: CaseResult) =>
    `${formatNs(ours.avg)} | ${peer.name} ${formatNs(peer.avg)} | ${(ours.avg / peer.avg).toFixed(2)} (time) |`;
  for (const title of HEADLINE_EVENTS) {
    const g = groupList(data.results.events).find((g) => g.group === title);
    const ours = g?.cases.find((c) => c.name === g.ours && Number.isFinite(c.avg));
    const peer = g?.cases.find((c) => c.name === "tseep" && Number.isFinite(c.avg));
    if (ours && peer) rows.push(`| event ${title} | ${vs(ours, peer)}`);
  }
  const route = groupList(data.results.routes).find((g) => g.group === HEADLINE_ROUTE);
  const routeOurs = route?.cases.find((c) => c.name === route.ours);
  const routePeer = route?.cases.find((c) => c.name === route.fastestPeer);
  if (routeOurs && routePeer) {
    rows.push(`| route via \`host.fetch\`, 100 plugins × 5 routes, in-process | ${vs(routeOurs, routePeer)}`);
  }
  const http = data.results.http as HttpResults | undefined;
  if (http && "cases" in http) {
    for (const [name, label] of HEADLINE_HTTP) {
      const c = http.cases.find((c) => c.case === name);
      if (!c) continue;
      rows.push(
        `| ${label} | ${int(c.ours.requestsPerSecond)} | ${c.peerLabel ?? "bare Hono"} ${
          int(c.peer.requestsPerSecond)
        } | ${c.ratio.toFixed(2)} (req/s) |`,
      );
    }
  }
  const reload = data.results.reload as ReloadResults | undefined;
  const patterns = reload?.saveToServed?.patterns ?? [];
  const saveInProcess = patterns.find((p) => p.isolation !== "worker");
  const saveInWorker = patterns.find((p) => p.isolation === "worker");
  if (saveInProcess) {
    rows.push(
      `| hot reload, save → served (median), in-process${saveInWorker ? " / in a worker" : ""} | ${
        ms(saveInProcess.medianMs, 1)
      }${saveInWorker ? ` / ${ms(saveInWorker.medianMs, 1)}` : ""} | - | - |`,
    );
  }
  const startup = data.results.startup as StartupData | undefined;
  const inProcess = startup?.results?.find((r) => r.plugins === 100);
  const inWorkers = startup?.workers?.find((r) => r.plugins === 100);
  if (inProcess) {
    rows.push(
      `| cold \`host.start()\`, 100 plugins, in-process${inWorkers ? " / in workers" : ""} | ${secsOrMs(inProcess.ms)}${
        inWorkers ? ` / ${secsOrMs(inWorkers.ms)}` : ""
      } | - | - |`,
    );
  }
  if (!rows.length) return "";
  return ["| headline | plugboard | peer | plugboard ÷ peer |", "| --- | ---: | ---: | ---: |", ...rows].join("\n");
}

/** The line under the README's table. */
export const README_LINK =
  "Every group, the spreads across fresh processes, the method and where plugboard trails, and why: " +
  "[BENCHMARKS.md](BENCHMARKS.md).";

/**
 * The README's summary: one sentence on the run, the headline table, the link to BENCHMARKS.md.
 *
 * @param data a results file
 * @returns Markdown
 */
export function renderReadmeSummary(data: BenchData): string {
  return [renderRunShort(data), renderHeadlines(data), README_LINK].filter(Boolean).join("\n\n");
}

/** Replaces the text between `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`. */
function replaceBetween(text: string, name: string, body: string, file: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`Cannot regenerate ${file}: the markers ${start} and ${end} are missing`);
  return `${text.slice(0, i + start.length)}\n\n${body}\n\n${text.slice(j)}`;
}

/**
 * Rewrites the generated parts of BENCHMARKS.md (the summary row of every
 * group, every table) and README.md (the short summary) from a run, then
 * formats them with `deno fmt`.
 *
 * @param data a results file
 * @param files where the documents are
 * @returns the files written
 * @throws {Error} when a file lacks its markers, or the run was a quick one
 */
export async function writeDocs(
  data: BenchData,
  files: { benchmarks?: string; readme?: string } = {},
): Promise<string[]> {
  if (data.machine?.quick) {
    throw new Error("These results come from a quick run (--quick): the docs come from a full run");
  }
  const root = new URL("..", import.meta.url).pathname;
  const benchmarks = files.benchmarks ?? `${root}BENCHMARKS.md`;
  const readme = files.readme ?? `${root}README.md`;
  const summary = renderSummary(data);
  let b = await Deno.readTextFile(benchmarks);
  b = replaceBetween(b, "summary", summary, benchmarks);
  b = replaceBetween(b, "results", renderResults(data), benchmarks);
  await Deno.writeTextFile(benchmarks, b);
  let r = await Deno.readTextFile(readme);
  r = replaceBetween(r, "summary", renderReadmeSummary(data), readme);
  await Deno.writeTextFile(readme, r);
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", benchmarks, readme] }).output();
  return [benchmarks, readme];
}

const USAGE = "Usage: deno task bench:report [results.json] [--write]   (default bench/results.json; --write " +
  "regenerates the tables of BENCHMARKS.md and README.md)";

if (import.meta.main) {
  if (Deno.args.includes("--help")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const unknown = Deno.args.find((a) => a.startsWith("-") && a !== "--write");
  const files = Deno.args.filter((a) => !a.startsWith("-"));
  if (unknown || files.length > 1) {
    console.error(`bench:report: ${unknown ? `unknown option ${unknown}` : "one results file at most"}. ${USAGE}`);
    Deno.exit(2);
  }
  const file = files[0] ?? "bench/results.json";
  let data: BenchData;
  try {
    data = JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    console.error(`bench:report: cannot read ${file}: ${(error as Error).message}`);
    Deno.exit(2);
  }
  if (Deno.args.includes("--write")) {
    try {
      for (const written of await writeDocs(data)) console.log(`Regenerated the tables of ${written}`);
    } catch (error) {
      console.error(`bench:report: ${(error as Error).message}`);
      Deno.exit(1);
    }
  } else {
    console.log(
      `## README summary\n\n${renderReadmeSummary(data)}\n\n## Summary\n\n${renderSummary(data)}\n\n## Results\n\n${
        renderResults(data)
      }`,
    );
  }
}

/** A group's spreads across fresh processes, with each case's warmed average from the same run when there is one. */
interface SpreadGroup {
  title: string;
  ours: string;
  cases: { name: string; fresh: Spread }[];
  warmed: Map<string, number>;
}

/** The event groups that were also measured across fresh processes. */
function eventSpreads(value: unknown): SpreadGroup[] {
  return groupList(value).flatMap((g) => {
    const cases = (g.cases as (CaseResult & { fresh?: Spread })[]).filter((c): c is CaseResult & { fresh: Spread } =>
      c.fresh !== undefined
    );
    const warmed = new Map(cases.filter((c) => Number.isFinite(c.avg)).map((c) => [c.name, c.avg]));
    return cases.length ? [{ title: g.group, ours: g.ours ?? cases[0].name, cases, warmed }] : [];
  });
}

/** The warmed average of each case of the group titled `group` in a run's results, if it ran. */
function warmedOf(value: unknown, group: string): Map<string, number> {
  const found = groupList(value).find((g) => g.group === group);
  return new Map(found ? found.cases.map((c) => [c.name, c.avg]) : []);
}
