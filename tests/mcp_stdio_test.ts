/**
 * `deno task mcp`: the stdio entry, spawned and driven by the SDK's
 * `StdioClientTransport`, as a desktop client would.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CHILD_LOCK, ROOT_DIR, tempPlugins } from "./_helpers.ts";
import { probePlugin, textOf } from "./mcp_client.ts";

/** `deno run` of the stdio entry over `<dir>/plugins`, pinned to the lock, with the flags of `deno task mcp`. */
function stdioArgs(dir: string, ...extra: string[]): string[] {
  return [
    "run",
    `--lock=${CHILD_LOCK}`,
    "--frozen",
    `--config=${join(ROOT_DIR, "deno.json")}`,
    "--allow-read",
    `--allow-write=${dir}`,
    "--allow-env",
    "--allow-net=127.0.0.1,localhost",
    join(ROOT_DIR, "src/mcp/stdio_main.ts"),
    "--plugins-dir",
    join(dir, "plugins"),
    "--data-dir",
    join(dir, "data"),
    ...extra,
  ];
}

Deno.test("deno task mcp serves the plugins' tools over stdio, logs only to stderr, and exits when the client goes", async () => {
  await using dir = await tempPlugins({
    "plugins/probe/mod.ts": probePlugin(`ctx.log.info("probe is up"); console.log("printed by the plugin");`),
  });
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: stdioArgs(dir.dir),
    cwd: dir.dir,
    env,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => stderr += new TextDecoder().decode(chunk));
  const client = new Client({ name: "desktop", version: "1.0.0" });
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((t: { name: string }) => t.name);
  assert.deepEqual(tools, ["probe__boom", "probe__echo", "probe__hang", "probe__slow"]);
  assert.equal(textOf(await client.callTool({ name: "probe__echo", arguments: { text: "over stdio" } })), "over stdio");
  const boom = await client.callTool({ name: "probe__boom", arguments: {} });
  assert.equal(boom.isError, true);
  const pid = transport.pid;
  await client.close();
  assert.ok(pid);
  // The process ends (its plugins unloaded) once the client closed its stdin.
  for (let i = 0; i < 100; i++) {
    try {
      Deno.kill(pid!, "SIGCONT");
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.throws(() => Deno.kill(pid!, "SIGCONT"), "the stdio server is still running");
  assert.match(stderr, /serving 4 tool\(s\) over stdio/);
  assert.match(stderr, /probe is up/);
  assert.match(stderr, /printed by the plugin/);
});

Deno.test("deno task mcp: what a trusted plugin prints with any console method goes to stderr, never among the frames", async () => {
  const printing = `console.log("log"); console.info("info"); console.debug("debug"); console.dir({ dir: 1 });
    console.dirxml("dirxml"); console.table([{ table: 1 }]); console.count("counted"); console.time("timed");
    console.timeLog("timed"); console.timeEnd("timed"); console.group("grouped"); console.groupEnd(); console.clear();
    console.warn("warn"); console.trace("trace");`;
  await using dir = await tempPlugins({ "plugins/chatty/mod.ts": probePlugin(printing).replaceAll("probe", "chatty") });
  const child = new Deno.Command(Deno.execPath(), {
    args: stdioArgs(dir.dir, "--trust", "chatty"),
    cwd: dir.dir,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  // Once it serves, the client goes: no frame was asked for, so none may be on stdout.
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  while (!/serving \d+ tool\(s\) over stdio/.test(stderr)) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += value;
  }
  await child.stdin.close();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += value;
  }
  assert.ok((await child.status).success, stderr);
  assert.equal(await stdout, "", "nothing but frames on stdout");
  for (const printed of ["log", "info", "debug", "dir: 1", "dirxml", "table: 1", "counted: 1", "timed: ", "grouped"]) {
    assert.ok(stderr.includes(printed), `${printed} on stderr:\n${stderr}`);
  }
});
