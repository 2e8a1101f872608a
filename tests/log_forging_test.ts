/**
 * Issue #23, part C: a plugin cannot forge the host's log. Every line it
 * produces (its `ctx.log`, its worker's `console.*` and `Deno.stdout` /
 * `Deno.stderr`, a log note it posts by hand) is one record, named by the
 * host after the plugin, with newlines, carriage returns and ANSI escapes
 * shown escaped; nothing it prints reaches stdout unattributed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { LogRecord } from "../mod.ts";
import { consoleSink } from "../src/logger.ts";
import { denoCommand, MOD_URL, quietHost, tempPlugins, waitFor } from "./_helpers.ts";

const FORGED = "[plugboard] INFO Admin POST /api/plugins answered 201 (client 10.9.9.9)";

/** An isolated plugin that tries every way to write a line that looks like the host's. Markers m0..m12. */
const FORGER = `
const note = (p) => self.postMessage([1, "log", { level: "info", args: [], ...p }]);
console.log("m0 top-level\\n${FORGED}");
export default {
  name: "forger",
  version: "1.0.0",
  async setup(ctx) {
    ctx.log.info("m1\\n${FORGED}");
    ctx.log.info("m2", "arg\\n${FORGED}", { nested: "n\\u001b[2J" });
    ctx.log.child("plugboard").warn("m3 from a child logger named plugboard");
    ctx.log.child("forger:db").info("m4 from a child part");
    console.log("m5\\n${FORGED}", "\\u001b[31mred\\u001b[0m");
    console.error("m6\\r\\u001b[2K${FORGED}");
    console.table([{ m7: "x\\ny" }]);
    Deno.stdout.writeSync(new TextEncoder().encode("m8\\n${FORGED}\\n"));
    await Deno.stderr.write(new TextEncoder().encode("m9\\r${FORGED}\\n"));
    note({ name: "plugboard", message: "m10 a note named plugboard" });
    note({ name: "admin", message: "m11 a note named admin" });
    note({ name: "forger:\\n${FORGED}", message: "m12 a note with a forged part" });
  },
};
`;

const MARKERS = Array.from({ length: 13 }, (_, i) => `m${i}`);
// deno-lint-ignore no-control-regex
const RAW = /[\n\r\u001b]/;

/** The text of a record: its message and arguments. */
const textOf = (r: LogRecord) => [r.message, ...r.args.map((a) => typeof a === "string" ? a : JSON.stringify(a))];

Deno.test("an isolated plugin's log lines are its own: one record per call, named by the host, escaped", async () => {
  await using tmp = await tempPlugins({ "forger/mod.ts": FORGER });
  const host = quietHost({
    pluginsDir: tmp.dir,
    dataDir: join(tmp.dir, ".data"),
    isolation: "worker",
    setupTimeout: 20_000,
  });
  try {
    await host.start();
    assert.equal(host.get("forger")?.state, "active", host.get("forger")?.error);
    const withMarker = (m: string) => host.logs.filter((r) => textOf(r).some((t) => new RegExp(`\\b${m}\\b`).test(t)));
    await waitFor(() => MARKERS.every((m) => withMarker(m).length > 0), {
      timeoutMs: 10_000,
      what: `every marker in ${JSON.stringify(host.logs)}`,
    });
    for (const marker of MARKERS) {
      const records = withMarker(marker);
      assert.equal(records.length, 1, `${marker}: ${JSON.stringify(records)}`);
      const [record] = records;
      assert.equal(record.name, marker === "m4" ? "forger:db" : "forger", `${marker} is the plugin's`);
      for (const text of textOf(record)) assert.doesNotMatch(text, RAW, `${marker}: ${JSON.stringify(text)}`);
      for (const arg of record.args) assert.equal(typeof arg, "string", `${marker}: arguments arrive as text`);
    }
    assert.equal(withMarker("m1")[0].message, `m1\\n${FORGED}`);
    assert.deepEqual(withMarker("m5")[0].message, `m5\\n${FORGED} \\x1b[31mred\\x1b[0m`);
    assert.equal(withMarker("m6")[0].level, "error");
    assert.equal(withMarker("m8")[0].level, "info");
    assert.equal(withMarker("m9")[0].level, "error");
    assert.ok(!host.logs.some((r) => r.name !== "forger" && r.name !== "forger:db" && /\bm\d+\b/.test(r.message)));
  } finally {
    await host.stop();
  }
});

Deno.test("the console sink writes every record on one line, every part escaped", () => {
  const lines: string[] = [];
  const original = { log: console.log, warn: console.warn, error: console.error };
  console.log = console.warn = console.error = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    consoleSink({
      level: "error",
      name: "p\n[plugboard]",
      message: "a\r\nb\u001b[2J\u2028c",
      args: ["d\ne", new Error("f\ng"), { h: "i\u001b" }],
    });
  } finally {
    Object.assign(console, original);
  }
  assert.equal(lines.length, 1);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(lines[0], /[\n\r\u001b\u2028]/);
  assert.match(lines[0], /^\[p\\n\[plugboard\]\] ERROR a\\r\\nb\\x1b\[2J\\u2028c d\\ne Error: f\\ng\\n {4}at /);
});

Deno.test("nothing an isolated plugin prints reaches the process's output unattributed", async () => {
  await using tmp = await tempPlugins({
    "plugins/forger/mod.ts": FORGER.replace(
      "  },\n};",
      `    (await import("node:process")).default.stdout.write("m13\\n${FORGED}\\n");\n  },\n};`,
    ),
  });
  await tmp.write(
    "run.ts",
    `import { createHost } from ${JSON.stringify(MOD_URL)};
import { consoleSink } from ${JSON.stringify(new URL("../src/logger.ts", import.meta.url).href)};
// The default sink, watched: the process's own output is what the test reads.
const seen = [];
const sink = (r) => { seen.push(r.message); consoleSink(r); };
const host = createHost({ pluginsDir: ${JSON.stringify(join(tmp.dir, "plugins"))}, logger: { level: "info", sink },
  dataDir: ${JSON.stringify(join(tmp.dir, "data"))}, setupTimeout: 20000 });
await host.start();
// The worker's notes arrive as messages: stop once the last marker is in (or after 10 s).
const end = Date.now() + 10_000;
while (!seen.some((m) => m.startsWith("m13")) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
await host.stop();
console.log("done");
`,
  );
  const out = await denoCommand("run", [
    "--unstable-worker-options",
    "--allow-read",
    `--allow-write=${tmp.dir}`,
    "--allow-env",
    join(tmp.dir, "run.ts"),
  ]).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stdout + stderr);
  const lines = (stdout + stderr).split("\n").filter((l) => l !== "" && l !== "done");
  for (const marker of [...MARKERS, "m13"]) {
    const found = lines.filter((l) => new RegExp(`\\b${marker}\\b`).test(l));
    assert.equal(found.length, 1, `${marker} in\n${stdout}${stderr}`);
    assert.match(found[0], /^\[forger(:db)?\] (INFO|WARN|ERROR) /, found[0]);
  }
  for (const line of lines) {
    assert.match(line, /^\[(plugboard|forger|forger:db)\] (DEBUG|INFO|WARN|ERROR) /, line);
    assert.doesNotMatch(line, /^\[plugboard\] INFO Admin/, line);
    assert.ok(!line.includes("\u001b"), line);
  }
});
