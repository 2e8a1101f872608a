/**
 * `deno task bench`: every benchmark, side by side with the peers, in one
 * run. `--json <file>` also writes the results; `--filter <regex>` picks groups.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runModule } from "./_runner.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { json: { type: "string" }, filter: { type: "string" }, only: { type: "string" } },
});
const filter = values.filter ? new RegExp(values.filter) : undefined;
const modules = ["events", "routes", "startup", "reload", "http"].filter((m) =>
  !values.only || values.only.split(",").includes(m)
);
const results: Record<string, unknown> = {};
for (const name of modules) {
  const url = new URL(`./${name}_bench.ts`, import.meta.url).href;
  const mod = await import(url);
  results[name] = typeof mod.runStandalone === "function"
    ? await mod.runStandalone(filter)
    : await runModule(url, filter);
}
if (values.json) {
  await Deno.writeTextFile(
    values.json,
    JSON.stringify({ deno: Deno.version.deno, date: new Date().toISOString(), results }, null, 2),
  );
  console.log(`\nWrote ${values.json}`);
}
