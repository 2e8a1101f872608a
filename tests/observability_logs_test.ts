/**
 * Logs: one access line per plugin request (switchable off), JSON lines
 * with PLUGBOARD_LOG=json, and per-plugin debug from PLUGBOARD_DEBUG, the
 * `observability.debug` setting or at run time.
 */

import assert from "node:assert/strict";
import { createHost, type LogRecord } from "../mod.ts";
import { FLUSH_MS } from "../src/metrics/access_log.ts";
import { denoCommand, LOOPBACK, MOD_URL, quietHost, waitFor } from "./_helpers.ts";

const chatty = (name: string) => ({
  name,
  version: "1.0.0",
  // deno-lint-ignore no-explicit-any
  setup(ctx: any) {
    ctx.routes.get("/hi/:who", (c: { text(t: string): Response }) => {
      ctx.log.debug(`debug from ${name}`);
      return c.text("hi");
    });
  },
});

Deno.test("access log: one info line per plugin request with method, path, status, duration, plugin and request id", async () => {
  const host = quietHost({ pluginsDir: null });
  try {
    await host.load(chatty("hello"));
    for (const path of ["/api/plugins/hello/hi/ada", "/api/plugins/hello/hi/bob", "/api/plugins/hello/nope"]) {
      await (await host.fetch(new Request(`http://127.0.0.1${path}?x=1`), LOOPBACK)).text();
    }
    await (await host.fetch(new Request("http://127.0.0.1/health"), LOOPBACK)).text();
    const lines = host.logs.filter((r) => r.message === "access");
    assert.equal(lines.length, 3, "plugin requests only, not /health");
    const fields = lines.map((r) => r.args[0] as Record<string, unknown>);
    assert.deepEqual(lines.map((r) => [r.level, r.name]), [["info", "hello"], ["info", "hello"], ["info", "hello"]]);
    assert.deepEqual(fields.map((f) => [f.method, f.path, f.status]), [
      ["GET", "/api/plugins/hello/hi/ada", 200],
      ["GET", "/api/plugins/hello/hi/bob", 200],
      ["GET", "/api/plugins/hello/nope", 404],
    ]);
    for (const f of fields) assert.ok(typeof f.durationMs === "number" && f.durationMs >= 0);
    const ids = fields.map((f) => f.requestId);
    assert.equal(new Set(ids).size, 3, `request ids differ: ${ids}`);
  } finally {
    await host.stop();
  }
});

Deno.test("access log: switched off by observability.accessLog=false, metrics still counted", async () => {
  const host = quietHost({ pluginsDir: null, observability: { accessLog: false } });
  try {
    await host.load(chatty("hello"));
    await (await host.fetch(new Request("http://127.0.0.1/api/plugins/hello/hi/ada"), LOOPBACK)).text();
    assert.equal(host.logs.filter((r) => r.message === "access").length, 0);
    assert.match(await host.observability.metrics!.text(), /plugboard_http_requests_total\{plugin="hello"/);
  } finally {
    await host.stop();
  }
});

Deno.test("access log and metrics both off: plugin requests take the unobserved path", async () => {
  const host = quietHost({ pluginsDir: null, observability: { accessLog: false, metrics: false } });
  try {
    assert.equal(host.observability.observer, undefined);
    await host.load(chatty("hello"));
    const res = await host.fetch(new Request("http://127.0.0.1/api/plugins/hello/hi/ada"), LOOPBACK);
    assert.equal(await res.text(), "hi");
  } finally {
    await host.stop();
  }
});

Deno.test("debug per plugin: observability.debug and the run-time switch; other plugins stay quiet", async () => {
  const logs: LogRecord[] = [];
  const dataDir = await Deno.makeTempDir();
  const host = createHost({
    pluginsDir: null,
    isolation: "none",
    dataDir,
    logger: { level: "info", sink: (r) => logs.push(r) },
    observability: { debug: ["alpha"], accessLog: false },
  });
  try {
    await host.load(chatty("alpha"));
    await host.load(chatty("beta"));
    const hit = async (name: string) =>
      await (await host.fetch(new Request(`http://127.0.0.1/api/plugins/${name}/hi/x`), LOOPBACK)).text();
    await hit("alpha");
    await hit("beta");
    const debugLines = () => logs.filter((r) => r.level === "debug").map((r) => `${r.name}: ${r.message}`);
    assert.deepEqual(debugLines(), ["alpha: debug from alpha"]);
    assert.equal((await host.observability.describe(host.get("alpha")!)).debug, true);
    assert.equal((await host.observability.describe(host.get("beta")!)).debug, false);
    host.log.debugSwitch.set("beta", true);
    host.log.debugSwitch.set("alpha", false);
    await hit("alpha");
    await hit("beta");
    assert.deepEqual(debugLines(), ["alpha: debug from alpha", "beta: debug from beta"]);
  } finally {
    await host.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("PLUGBOARD_LOG=json and PLUGBOARD_DEBUG=<names>: JSON lines, debug for the named plugins only", async () => {
  const script = `
import { createHost } from ${JSON.stringify(MOD_URL)};
const dataDir = await Deno.makeTempDir();
const host = createHost({ pluginsDir: null, isolation: "none", dataDir });
const plugin = (name) => ({ name, version: "1.0.0", setup(ctx) {
  ctx.log.debug("debug of " + name);
  ctx.routes.get("/boom", () => { throw new Error("kaboom"); });
} });
await host.load(plugin("tasks"));
await host.load(plugin("quiet"));
await (await host.fetch(new Request("http://127.0.0.1/api/plugins/tasks/boom"))).text();
await host.stop();
await Deno.remove(dataDir, { recursive: true });
`;
  const out = await denoCommand("eval", ["--ext=ts", script], {
    env: { NO_COLOR: "1", PLUGBOARD_LOG: "json", PLUGBOARD_DEBUG: "tasks" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const lines = (stdout + stderr).split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  for (const line of lines) {
    assert.ok(typeof line.time === "string" && !Number.isNaN(Date.parse(line.time)), JSON.stringify(line));
    assert.ok(["debug", "info", "warn", "error"].includes(line.level));
    assert.equal(typeof line.plugin, "string");
    assert.equal(typeof line.msg, "string");
  }
  const debug = lines.filter((l) => l.level === "debug").map((l) => `${l.plugin}: ${l.msg}`);
  assert.deepEqual(debug, ["tasks: debug of tasks"]);
  const access = lines.find((l) => l.msg === "access");
  assert.equal(access.plugin, "tasks");
  assert.equal(access.status, 500);
  assert.equal(access.path, "/api/plugins/tasks/boom");
  const failure = lines.find((l) => l.level === "error" && /kaboom/.test(l.msg));
  assert.ok(failure, stdout);
  assert.equal(failure.error.message, "kaboom");
  assert.match(failure.error.stack, /kaboom\n\s+at /);
});

Deno.test("per-plugin debug reaches an isolated plugin's lines", async () => {
  const logs: LogRecord[] = [];
  const dataDir = await Deno.makeTempDir();
  const { join } = await import("node:path");
  await Deno.mkdir(join(dataDir, "p", "worky"), { recursive: true });
  await Deno.writeTextFile(
    join(dataDir, "p", "worky", "mod.ts"),
    `export default { name: "worky", version: "1.0.0", setup(ctx) {
      ctx.routes.get("/", (c) => { ctx.log.debug("worker debug"); return c.text("ok"); });
    } };`,
  );
  const host = createHost({
    pluginsDir: join(dataDir, "p"),
    dataDir,
    lockFile: join(dataDir, "plugboard.lock"),
    logger: { level: "info", sink: (r) => logs.push(r) },
    observability: { debug: ["worky"], accessLog: false },
  });
  try {
    await host.start();
    assert.equal(host.get("worky")?.state, "active", JSON.stringify(host.get("worky")));
    await (await host.fetch(new Request("http://127.0.0.1/api/plugins/worky/"), LOOPBACK)).text();
    await waitFor(() => logs.some((r) => r.level === "debug" && r.message === "worker debug"), {
      what: "the worker's debug line",
    });
  } finally {
    await host.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("access log: written in batches while the server runs, within the flush window (not only at exit)", async () => {
  // The process is killed with SIGKILL after 4 flush windows: no exit handler runs, so a line in its output was
  // written by the batch timer.
  const script = `
import { createHost } from ${JSON.stringify(MOD_URL)};
const dataDir = await Deno.makeTempDir();
const host = createHost({ pluginsDir: null, isolation: "none", dataDir, logger: { level: "info" } });
await host.load({ name: "hello", version: "1.0.0", setup(ctx) { ctx.routes.get("/x", (c) => c.text("x")); } });
for (let i = 0; i < 400; i++) await (await host.fetch(new Request("http://127.0.0.1/api/plugins/hello/x?é=" + i))).text();
await new Promise((r) => setTimeout(r, ${4 * FLUSH_MS}));
await Deno.remove(dataDir, { recursive: true });
Deno.kill(Deno.pid, "SIGKILL");
`;
  const out = await denoCommand("eval", ["--ext=ts", script], { env: { NO_COLOR: "1" } }).output();
  assert.equal(out.signal, "SIGKILL");
  const stdout = new TextDecoder().decode(out.stdout);
  const lines = stdout.split("\n").filter((l) => l.startsWith("[hello] INFO access"));
  // 400 lines cross the 32 KiB batch at least once: every one whole, in order.
  assert.equal(lines.length, 400, stdout.slice(0, 500));
  for (const line of lines) assert.match(line, /method: "GET", path: "\/api\/plugins\/hello\/x", status: 200, /);
  assert.deepEqual(stdout.split("\n").filter((l) => l !== "" && !l.startsWith("[hello] INFO access")), []);
});
