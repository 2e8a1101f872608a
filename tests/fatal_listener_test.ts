/**
 * The server never lives on without its listener: when Deno's accept loop
 * ends on a fatal error (here, the process out of file descriptors, as a
 * plugin opening files in a loop would leave it), main.ts exits non-zero
 * with the cause, so a supervisor restarts it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { CHILD_LOCK, pluginSource, ROOT_DIR, tempPlugins, waitFor } from "./_helpers.ts";

const bash = await new Deno.Command("bash", { args: ["-c", "true"] }).output().then((o) => o.success, () => false);

Deno.test({
  name: "main.ts exits with code 1 and the cause when the listener dies (file descriptors exhausted)",
  ignore: !bash,
}, async () => {
  await using tmp = await tempPlugins({ "plugins/hello/mod.ts": pluginSource("hello") });
  const deno = [
    Deno.execPath(),
    "run",
    `--lock=${CHILD_LOCK}`,
    "--frozen",
    `--config=${join(ROOT_DIR, "deno.json")}`,
    "-A",
    join(ROOT_DIR, "main.ts"),
    "--port",
    "0",
    "--plugins-dir",
    join(tmp.dir, "plugins"),
    "--data-dir",
    join(tmp.dir, "data"),
  ];
  const child = new Deno.Command("bash", {
    // A small descriptor budget for the server alone.
    args: ["-c", 'ulimit -n 64 && exec "$@"', "bash", ...deno],
    cwd: tmp.dir,
    env: { NO_COLOR: "1", PLUGBOARD_API_KEY: "a-key-long-enough-for-the-test" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { stdout: "", stderr: "" };
  const pumped = Promise.all(
    (["stdout", "stderr"] as const).map(async (key) => {
      for await (const chunk of child[key].pipeThrough(new TextDecoderStream())) out[key] += chunk;
    }),
  );
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    await waitFor(() => /listening on http:\/\/[^:]+:(\d+)/.test(out.stdout), { timeoutMs: 30_000, what: "listening" });
    const port = Number(/listening on http:\/\/[^:]+:(\d+)/.exec(out.stdout)![1]);
    const conns: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 200; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    } catch { /* refused once the server is down */ }
    // Give the server time to hit the limit on accept, then let go.
    await new Promise((r) => setTimeout(r, 500));
    for (const c of conns) c.close();
    const status = await child.status;
    await pumped;
    assert.equal(status.code, 1, JSON.stringify(out));
    assert.match(out.stderr, /plugboard: the server stopped accepting connections \(.*Too many open files.*\)/);
  } finally {
    clearTimeout(killer);
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }
});
