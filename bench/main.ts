/**
 * `deno task bench`: every benchmark, side by side with the peers, in one
 * run. `deno task bench --help` lists the options and the effort variables.
 *
 * - `--quick` runs every group with reduced effort (see `_effort.ts`), in
 *   under a minute on two cores; its figures are marked as such;
 * - `--json <file>` also writes the results;
 * - `--docs` writes them to bench/results.json (or `--json`'s file) and
 *   regenerates the tables of BENCHMARKS.md and the README's summary: the
 *   full run behind the docs is `deno task bench --docs`;
 * - `--compare <file>` then compares the run with those results and flags
 *   the ratios that got worse beyond their noise band (exit code 1 if any);
 *   with `--against <file>` it compares two files without running;
 * - `--filter <regex>` picks groups, `--only events,http` picks modules.
 *
 * A wrong option prints one line and exits with code 2.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runModule } from "./_runner.ts";
import { compare, printComparison } from "./compare.ts";
import { type BenchData, BUSY_LOAD, renderHeadlines, writeDocs } from "./report.ts";
import { EFFORT, effortHelp, effortSet, quickEnv, reducedEffort } from "./_effort.ts";

/** The benchmark modules, in the order they run (`bench/<name>_bench.ts`). */
export const MODULES = [
  "events",
  "routes",
  "routes_spread",
  "isolation",
  "startup",
  "reload",
  "http",
  "remote",
  "mcp",
  "observability",
];

/** What the command line asked for. */
export interface BenchOptions {
  json?: string;
  filter?: string;
  only?: string;
  compare?: string;
  against?: string;
  docs?: boolean;
  quick?: boolean;
  help?: boolean;
}

/** A wrong command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** What `--help` prints. */
export const HELP = `Usage: deno task bench [options]

Runs every benchmark against its peers and prints a summary per group, then the headline
figures: event dispatch and in-process route dispatch (mitata, each case in fresh processes),
the cost of isolation, cold startup, hot reload, HTTP under load (wrk) and URL plugins.
A full run takes about 40 minutes on 2 cores; --quick takes under a minute.

Options:
  --quick             every group with reduced effort (the "quick" column below): one short
                      measurement per case, plugboard against tseep, 1 s HTTP rounds, few
                      reloads; indicative figures, marked "quick" in the output and the JSON
  --only <modules>    only these modules, comma-separated:
                      ${MODULES.join(", ")}
  --filter <regex>    only the groups whose title matches
  --json <file>       also write the results to <file>
  --docs              the full run behind the docs: writes bench/results.json (or --json's
                      file), regenerates BENCHMARKS.md and the README's summary
  --compare <file>    compare the run with a results file; ratios worse than their noise band
                      are flagged (exit code 1)
  --against <file>    with --compare <file>: compare two results files, without running
  -h, --help          print this help

Effort: environment variables; a full run uses the "full" values, --quick sets the "quick"
ones unless the variable is set already. A run with less than full effort is marked provisional.
${effortHelp()}

The HTTP group needs wrk: when it is missing it is installed with apt-get (as root), else the
group is skipped with the reason.

Examples:
  deno task bench --quick
  deno task bench --only events --filter "distinct"
  BENCH_REPEATS=5 deno task bench --only routes --json routes.json
  deno task bench --compare bench/results.json
  deno task bench:report          print the tables of bench/results.json, without running`;

/** parseArgs's errors, as one short sentence. */
function usageMessage(error: unknown): string {
  const message = String((error as Error)?.message ?? error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const positional = /Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `unexpected argument '${positional[1]}' (options start with --)`;
  const missing = /Option '([^ ']+)[^']*' argument missing/.exec(message);
  if (missing) return `${missing[1]} needs a value`;
  return message.split(". ")[0];
}

/**
 * Reads the command line.
 *
 * @param args the arguments
 * @returns the options
 * @throws {UsageError} when they are wrong or do not go together
 */
export function parseOptions(args: string[]): BenchOptions {
  let values: BenchOptions;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: "string" },
        filter: { type: "string" },
        only: { type: "string" },
        compare: { type: "string" },
        against: { type: "string" },
        docs: { type: "boolean" },
        quick: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError(usageMessage(error));
  }
  if (values.help) return { help: true };
  if (values.against && !values.compare) throw new UsageError("--against <file> needs --compare <file>: the baseline");
  if (values.docs && (values.only || values.filter)) {
    throw new UsageError("--docs regenerates the docs from one full run: drop --only and --filter");
  }
  if (values.quick && values.docs) {
    throw new UsageError("--quick cannot write the docs, which come from a full run: drop --quick (or use --json)");
  }
  if (values.quick && values.compare) {
    throw new UsageError(
      "--compare judges a run against the baseline's noise band, which a quick run's is not: drop --quick",
    );
  }
  if (values.only !== undefined) {
    const unknown = values.only.split(",").map((s) => s.trim()).filter((m) => !MODULES.includes(m));
    if (unknown.length) throw new UsageError(`--only: no module '${unknown[0]}' (modules: ${MODULES.join(", ")})`);
  }
  if (values.filter !== undefined) {
    try {
      new RegExp(values.filter);
    } catch {
      throw new UsageError(`--filter: '${values.filter}' is not a regular expression`);
    }
  }
  return values;
}

/** What the machine is and how busy it was, and the run's effort. */
async function machine(quick: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { cores: navigator.hardwareConcurrency, deno: Deno.version };
  if (quick) out.quick = true;
  const env = Deno.env.toObject();
  const reduced = reducedEffort(env);
  if (Object.keys(reduced).length) out.reducedEffort = reduced;
  const set = effortSet(env);
  if (Object.keys(set).length) out.effort = set;
  try {
    // Deno reads /proc only with --allow-all: ask cat.
    const text = new TextDecoder().decode((await new Deno.Command("cat", { args: ["/proc/cpuinfo"] }).output()).stdout);
    const cpu = text.match(/^model name\s*:\s*(.+)$/m);
    if (cpu) out.cpu = cpu[1].trim();
  } catch { /* not Linux */ }
  try {
    out.os = `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`;
    out.memoryGiB = Math.round(Deno.systemMemoryInfo().total / 2 ** 30);
    out.loadAverageAtStart = Deno.loadavg();
  } catch { /* no --allow-sys */ }
  return out;
}

/** Reads a results file named on the command line. */
async function readResults(file: string, option: string): Promise<BenchData> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new UsageError(`${option}: cannot read '${file}' (${(error as Error).name})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${option}: '${file}' is not JSON`);
  }
}

/** The run. */
async function main(values: BenchOptions): Promise<number> {
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.against) {
    const rows = compare(
      await readResults(values.compare!, "--compare"),
      await readResults(values.against, "--against"),
    );
    return printComparison(rows, { before: values.compare!, after: values.against }) ? 1 : 0;
  }
  const baseline = values.compare ? await readResults(values.compare, "--compare") : undefined;
  const quick = values.quick === true;
  if (quick) {
    const set = quickEnv(Deno.env.toObject());
    for (const [name, value] of Object.entries(set)) Deno.env.set(name, value);
    const effort = Object.keys(EFFORT).map((name) => `${name}=${Deno.env.get(name)}`).join(" ");
    console.log(
      `QUICK RUN (--quick): every group with reduced effort, plugboard against ${
        Deno.env.get("BENCH_PEERS") ?? "every peer"
      } where it has a choice; indicative figures only (the full run is \`deno task bench\`).\n${effort}`,
    );
  }
  const info = await machine(quick);
  const load = (info.loadAverageAtStart as number[] | undefined)?.[0];
  if (load !== undefined && load > BUSY_LOAD) {
    console.log(
      `warning: the 1-minute load average is ${load.toFixed(2)}: other work is running, figures will be noisy`,
    );
  }
  const filter = values.filter ? new RegExp(values.filter) : undefined;
  const only = values.only?.split(",").map((s) => s.trim());
  const modules = MODULES.filter((m) => !only || only.includes(m));
  const started = performance.now();
  const results: Record<string, unknown> = {};
  for (const name of modules) {
    const url = new URL(`./${name}_bench.ts`, import.meta.url).href;
    const mod = await import(url);
    const moduleStarted = performance.now();
    try {
      results[name] = typeof mod.runStandalone === "function"
        ? await mod.runStandalone(filter)
        : await runModule(url, filter);
    } catch (error) {
      // One failing module must not lose the others' figures: record it and go on.
      console.log(`\n${name} failed: ${(error as Error)?.stack ?? error}`);
      results[name] = { error: String((error as Error)?.message ?? error) };
    }
    console.log(`(${name}: ${((performance.now() - moduleStarted) / 1000).toFixed(1)} s)`);
  }
  try {
    info.loadAverageAtEnd = Deno.loadavg();
  } catch { /* no --allow-sys */ }
  info.minutes = Number(((performance.now() - started) / 60_000).toFixed(1));
  const data: BenchData = { deno: Deno.version.deno, date: new Date().toISOString(), machine: info, results };
  const headlines = renderHeadlines(data);
  if (headlines) {
    console.log(`\nHeadline figures${quick ? " (QUICK RUN: reduced effort, indicative only)" : ""}\n\n${headlines}`);
  }
  console.log(`\n${quick ? "Quick run" : "Run"} took ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  const jsonPath = values.json ?? (values.docs ? "bench/results.json" : undefined);
  if (jsonPath) {
    await Deno.writeTextFile(jsonPath, JSON.stringify(data, null, 2) + "\n");
    console.log(`Wrote ${jsonPath}${quick ? " (marked quick)" : ""}`);
  }
  const failed = Object.entries(results).filter(([, r]) => r && typeof r === "object" && "error" in r);
  if (failed.length) console.log(`\nThese modules failed: ${failed.map(([name]) => name).join(", ")}`);
  if (values.docs && failed.length) {
    console.log("The docs were not regenerated: --docs needs every module's figures");
  } else if (values.docs) {
    for (const file of await writeDocs(data)) console.log(`Regenerated the tables of ${file}`);
  }
  if (baseline) {
    const worse = printComparison(compare(baseline, data, { filtered: values.filter !== undefined }), {
      before: values.compare!,
      after: "this run",
    });
    if (worse) return 1;
  }
  return failed.length ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(parseOptions(Deno.args)));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`deno task bench: ${error.message} (deno task bench --help lists the options)`);
    Deno.exit(2);
  }
}
