import assert from "node:assert/strict";
import { join } from "node:path";
import { scaffoldPlugin } from "../scripts/new_plugin.ts";
import { denoCommand, quietHost, ROOT_DIR, tempPlugins } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url);

Deno.test("deno task new scaffolds a plugin that loads and whose test passes", async () => {
  await using tmp = await tempPlugins();
  const files = await scaffoldPlugin(tmp.dir, "my-plugin", { base: ROOT.href });
  assert.deepEqual(files.map((f) => f.slice(tmp.dir.length + 1)).sort(), [
    "my-plugin/README.md",
    "my-plugin/config.json.example",
    "my-plugin/mod.ts",
    "my-plugin/mod_test.ts",
  ]);
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  assert.equal(host.get("my-plugin")?.state, "active");
  await host.stop();
  const out = await denoCommand("test", [
    "--allow-read",
    "--allow-write",
    "--allow-env",
    join(tmp.dir, "my-plugin/mod_test.ts"),
  ])
    .output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
  assert.match(text, /ok \| 1 passed \| 0 failed/);
});

Deno.test("deno task new refuses a bad name or an existing folder", async () => {
  await using tmp = await tempPlugins({ "taken/mod.ts": "" });
  await assert.rejects(scaffoldPlugin(tmp.dir, "Bad Name"), /must be lowercase kebab-case/);
  await assert.rejects(scaffoldPlugin(tmp.dir, "taken"), /already exists/);
});

Deno.test("the tooling scripts answer --help, and refuse a stray argument in one line with exit code 2", async () => {
  const run = async (script: string, ...args: string[]) => {
    const out = await denoCommand(
      "run",
      ["--no-check", "--allow-read", "--allow-write=/nonexistent", "--allow-run", script, ...args],
      { cwd: ROOT_DIR },
    ).output();
    const text = new TextDecoder().decode(out.code === 0 ? out.stdout : out.stderr).trim();
    return { code: out.code, text };
  };
  for (
    const [script, args, code, pattern] of [
      ["scripts/new_plugin.ts", ["--help"], 0, /^Usage: deno task new <name>/],
      ["scripts/new_plugin.ts", ["--bogus"], 2, /^new: one plugin name, not --bogus\. Usage: /],
      ["scripts/new_plugin.ts", ["a", "b"], 2, /^new: one plugin name, not a b\. Usage: /],
      ["scripts/bundle_worker.ts", ["--help"], 0, /^Usage: deno task bundle:worker \[--check\]/],
      ["scripts/bundle_worker.ts", ["--bogus"], 2, /^bundle:worker: unknown argument --bogus\. Usage: /],
      ["bench/report.ts", ["--help"], 0, /^Usage: deno task bench:report/],
      ["bench/report.ts", ["--bogus"], 2, /^bench:report: unknown option --bogus\. Usage: /],
      ["bench/report.ts", ["missing.json"], 2, /^bench:report: cannot read missing\.json: /],
    ] as const
  ) {
    const { code: got, text } = await run(script, ...args);
    assert.equal(got, code, `${script} ${args.join(" ")}: ${text}`);
    assert.match(text, pattern, `${script} ${args.join(" ")}`);
    assert.equal(text.split("\n").length, 1, `${script} ${args.join(" ")}: one line`);
  }
  // deno task mcp: its help on stderr (stdout is the client's), with deno task start's options.
  const mcp = await denoCommand(
    "run",
    ["--no-check", "--allow-read", "--allow-env", "src/mcp/stdio_main.ts", "--help"],
    {
      cwd: ROOT_DIR,
    },
  ).output();
  assert.equal(mcp.code, 0);
  assert.equal(new TextDecoder().decode(mcp.stdout), "");
  assert.match(new TextDecoder().decode(mcp.stderr), /deno task mcp \[options\][\s\S]*--plugins-dir <dir>/);
});
