/**
 * The sandbox tier: a plugin named in `sandboxed` runs in its own Deno
 * process, with Deno's permission flags built from its grant and limits the
 * kernel or V8 enforce. Each hostile plugin here is contained: a memory bomb
 * that forges `Deno.memoryUsage`, a descriptor bomb, `Deno.exit`, a spinning
 * loop, garbage on its channel, reading the admin key or files outside its
 * folder, writing outside its data folder; the host serves throughout.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { denoCommand, folderHost, LOOPBACK, ROOT_DIR, tempPlugins } from "./_helpers.ts";
import type { HostOptions } from "../mod.ts";

const HEALTHY = `export default { name: "healthy", version: "1.0.0", setup(ctx) {
  ctx.routes.get("/", (c) => c.json({ ok: true }));
} };`;

async function sandbox(files: Record<string, string>, options: HostOptions = {}) {
  const tmp = await tempPlugins({ "plugins/healthy/mod.ts": HEALTHY, ...files });
  const host = folderHost(tmp.dir, { isolation: "worker", ...options });
  await host.start();
  const get = async (path: string, init?: RequestInit) => {
    const res = await host.fetch(new Request(`http://localhost/api/plugins/${path}`, init), LOOPBACK);
    return { status: res.status, text: await res.text() };
  };
  return {
    host,
    get,
    dir: tmp.dir,
    async [Symbol.asyncDispose]() {
      await host.stop();
      await tmp[Symbol.asyncDispose]();
    },
  };
}

/** Waits until `check` holds, for `ms` at most. */
async function until(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a process is running (`ps` exits 1 for a pid it does not know). */
async function running(pid: number): Promise<boolean> {
  const out = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)], stderr: "null" }).output();
  const stat = new TextDecoder().decode(out.stdout).trim();
  return out.success && stat !== "" && !stat.startsWith("Z");
}

Deno.test("sandbox: the plugin runs in its own process, with its grant as Deno's flags and nothing of the host's", async () => {
  Deno.env.set("PLUGBOARD_SANDBOX_GREETING", "hello");
  const SPY = `export default {
    name: "spy", version: "1.0.0",
    permissions: { env: ["PLUGBOARD_SANDBOX_GREETING"], write: ["./out"] },
    setup(ctx) {
      const attempt = async (run) => { try { return { ok: await run() }; } catch (e) { return { refused: e.name, message: e.message }; } };
      ctx.routes.get("/", async (c) => c.json({
        pid: Deno.pid,
        cwd: Deno.cwd(),
        greeting: Deno.env.get("PLUGBOARD_SANDBOX_GREETING"),
        key: await attempt(() => Deno.env.get("PLUGBOARD_API_KEY") ?? null),
        home: await attempt(() => Deno.env.get("HOME") ?? null),
        settings: await attempt(() => Deno.readTextFile(new URL("../../plugboard.json", import.meta.url))),
        passwd: await attempt(() => Deno.readTextFile("/etc/passwd")),
        other: await attempt(() => Deno.readTextFile(new URL("../healthy/mod.ts", import.meta.url))),
        writeOut: await attempt(() => Deno.writeTextFile(new URL("./out/x.txt", import.meta.url), "x").then(() => "written")),
        writeOutside: await attempt(() => Deno.writeTextFile(new URL("../healthy/planted.ts", import.meta.url), "x")),
        dataDir: await attempt(() => Deno.writeTextFile(ctx.dataDir + "/note.txt", "kept").then(() => "written")),
        run: await attempt(() => new Deno.Command("true").output().then(() => "ran")),
        net: await attempt(() => Deno.connect({ hostname: "127.0.0.1", port: 9 }).then(() => "connected")),
      }));
    },
  };`;
  await using t = await sandbox({ "plugins/spy/mod.ts": SPY, "plugins/spy/out/.keep": "", "plugboard.json": "{}" }, {
    sandboxed: ["spy"],
    apiKey: "a-key-that-is-long-enough",
  });
  const info = t.host.list().find((p) => p.name === "spy")!;
  assert.equal(info.isolation, "process");
  assert.ok(info.sandbox && info.sandbox.pid > 0, "its pid is in its info");
  assert.deepEqual(info.sandbox!.limits, { memoryMb: 256, openFiles: 256 });
  const { status, text } = await t.get("spy/");
  assert.equal(status, 200, text);
  const seen = JSON.parse(text);
  assert.equal(seen.pid, info.sandbox!.pid);
  assert.notEqual(seen.pid, Deno.pid);
  assert.equal(seen.cwd, join(t.dir, "plugins", "spy"));
  assert.equal(seen.greeting, "hello", "what it declared (and the host has) is in its environment");
  for (const key of ["key", "home", "settings", "passwd", "other", "writeOutside", "run", "net"]) {
    assert.equal(seen[key].refused, "NotCapable", `${key}: ${JSON.stringify(seen[key])}`);
  }
  assert.deepEqual(seen.writeOut, { ok: "written" });
  assert.deepEqual(seen.dataDir, { ok: "written" });
  assert.equal(await Deno.readTextFile(join(t.dir, "data", "plugins", "spy", "note.txt")), "kept");
  await assert.rejects(Deno.stat(join(t.dir, "plugins", "healthy", "planted.ts")), Deno.errors.NotFound);
  // Its memory in the admin API is its process's, as the kernel counts it (a worker reports a heap of a few MB).
  const res = await t.host.fetch(
    new Request("http://localhost/api/plugins/spy", { headers: { "x-api-key": "a-key-that-is-long-enough" } }),
    LOOPBACK,
  );
  const { memoryBytes } = await res.json();
  assert.ok(memoryBytes > 20 * 2 ** 20, `memoryBytes ${memoryBytes}`);
});

Deno.test("sandbox: a memory bomb that forges Deno.memoryUsage is ended by its heap limit and restarted", async () => {
  const BOMB = `Deno.memoryUsage = () => ({ rss: 1, heapTotal: 1, heapUsed: 1, external: 0 });
  export default { name: "bomb", version: "1.0.0", setup(ctx) {
    ctx.routes.get("/", (c) => c.json({ pid: Deno.pid }));
    ctx.routes.get("/explode", () => { const kept = []; for (;;) kept.push(new Array(100_000).fill(Math.random())); });
  } };`;
  await using t = await sandbox({ "plugins/bomb/mod.ts": BOMB }, {
    sandboxed: ["bomb"],
    limits: { bomb: { memoryMb: 64 } },
  });
  const before = t.host.list().find((p) => p.name === "bomb")!.sandbox!;
  assert.equal(before.limits.memoryMb, 64);
  const rssBefore = Deno.memoryUsage().rss;
  const exploded = await t.get("bomb/explode");
  assert.equal(exploded.status, 503, exploded.text);
  assert.match(exploded.text, /reached its heap limit \(64 MB\)/);
  assert.ok(Deno.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, "the host's memory did not grow with the bomb");
  assert.deepEqual(await t.get("healthy/"), { status: 200, text: '{"ok":true}' });
  await until(() => t.host.list().find((p) => p.name === "bomb")!.restarts === 1);
  const after = t.host.list().find((p) => p.name === "bomb")!;
  assert.equal(after.state, "active");
  assert.notEqual(after.sandbox!.pid, before.pid, "a fresh process");
  assert.equal(JSON.parse((await t.get("bomb/")).text).pid, after.sandbox!.pid);
  assert.ok(t.host.logs.some((l) => /reached its heap limit \(64 MB\)/.test(l.message)), "the cause is logged");
});

Deno.test("sandbox: a descriptor bomb is stopped by its own open-files limit while the host serves", async () => {
  const FILES = `export default { name: "files", version: "1.0.0", setup(ctx) {
    const held = [];
    ctx.routes.get("/open", async (c) => {
      try {
        for (let i = 0; i < 5000; i++) held.push(await Deno.open(import.meta.filename));
        return c.json({ opened: held.length });
      } catch (e) {
        return c.json({ opened: held.length, error: e.message });
      }
    });
  } };`;
  await using t = await sandbox({ "plugins/files/mod.ts": FILES }, {
    sandboxed: ["files"],
    limits: { files: { openFiles: 64 } },
  });
  const { text } = await t.get("files/open");
  const result = JSON.parse(text);
  assert.ok(result.opened < 64, `it opened ${result.opened}`);
  assert.match(result.error, /Too many open files/);
  // The host's own descriptors are untouched: it serves, and opens files itself.
  assert.deepEqual(await t.get("healthy/"), { status: 200, text: '{"ok":true}' });
  const handles = await Promise.all(
    Array.from({ length: 100 }, () => Deno.open(join(t.dir, "plugins", "healthy", "mod.ts"))),
  );
  for (const h of handles) h.close();
});

Deno.test("sandbox: Deno.exit and a spinning loop end only the plugin's process, which is restarted", async () => {
  const EXIT = `export default { name: "quitter", version: "1.0.0", setup(ctx) {
    ctx.routes.get("/", (c) => c.json({ pid: Deno.pid }));
    ctx.routes.get("/exit", () => Deno.exit(3));
  } };`;
  const SPIN = `export default { name: "spinner", version: "1.0.0", setup(ctx) {
    ctx.routes.get("/", (c) => c.json({ pid: Deno.pid }));
    ctx.routes.get("/spin", () => { for (;;) {} });
  } };`;
  await using t = await sandbox({ "plugins/quitter/mod.ts": EXIT, "plugins/spinner/mod.ts": SPIN }, {
    sandboxed: ["quitter", "spinner"],
    limits: { spinner: { hangTimeout: 1000 } },
  });
  const pidOf = (name: string) => t.host.list().find((p) => p.name === name)!.sandbox!.pid;
  const quitter = pidOf("quitter");
  const exited = await t.get("quitter/exit");
  assert.equal(exited.status, 503);
  assert.match(exited.text, /exited with code 3/);
  const spinner = pidOf("spinner");
  const spun = await t.get("spinner/spin");
  assert.equal(spun.status, 503);
  assert.match(spun.text, /sent nothing for \d+ ms/);
  assert.deepEqual(await t.get("healthy/"), { status: 200, text: '{"ok":true}' });
  await until(async () => !(await running(spinner)) && !(await running(quitter)));
  await until(() => t.host.list().every((p) => p.state === "active" && (p.name === "healthy" || p.restarts === 1)));
  assert.equal((await t.get("spinner/")).status, 200);
  assert.equal((await t.get("quitter/")).status, 200);
});

Deno.test("sandbox: a plugin writing garbage to its channel is ended with a clear error, the host unaffected", async () => {
  const GARBAGE = `import fs from "node:fs";
  export default { name: "garbage", version: "1.0.0", setup(ctx) {
    ctx.routes.get("/", (c) => c.json({ ok: true }));
    ctx.routes.get("/garbage", () => { fs.writeSync(1, "this is not a frame, it is text\\n"); return new Promise(() => {}); });
    console.log("console output is a log line, not channel bytes");
  } };`;
  await using t = await sandbox({ "plugins/garbage/mod.ts": GARBAGE }, { sandboxed: ["garbage"] });
  assert.equal((await t.get("garbage/")).status, 200, "its console output did not break its channel");
  assert.ok(t.host.logs.some((l) => l.message.includes("console output is a log line")));
  const pid = t.host.list().find((p) => p.name === "garbage")!.sandbox!.pid;
  const res = await t.get("garbage/garbage");
  assert.equal(res.status, 503);
  assert.match(
    res.text,
    /Plugin \\"garbage\\" is unavailable: its process broke its channel to the host, and was ended \(what it sent is not a message: a frame of unknown type \d+\)/,
  );
  await until(async () => !(await running(pid)));
  assert.deepEqual(await t.get("healthy/"), { status: 200, text: '{"ok":true}' });
});

Deno.test("sandbox: stopping the host ends every plugin process", async () => {
  const A = `export default { name: "a", version: "1.0.0", setup() {} };`;
  const tmp = await tempPlugins({ "plugins/a/mod.ts": A, "plugins/b/mod.ts": A.replace('"a"', '"b"') });
  const host = folderHost(tmp.dir, { isolation: "worker", sandboxed: ["a", "b"] });
  await host.start();
  const pids = host.list().map((p) => p.sandbox!.pid);
  assert.equal(pids.length, 2);
  for (const pid of pids) assert.ok(await running(pid));
  await host.stop();
  for (const pid of pids) assert.equal(await running(pid), false, `process ${pid} outlived the host`);
  await tmp[Symbol.asyncDispose]();
});

Deno.test("sandbox: bad settings are refused with what to fix", async () => {
  await using tmp = await tempPlugins({ "plugins/a/mod.ts": HEALTHY });
  assert.throws(
    () => folderHost(tmp.dir, { sandboxed: ["a"], trusted: ["a"] }),
    /"a" is named in both "trusted" \(run in-process\) and "sandboxed"/,
  );
  for (const bad of [{ memoryMb: 0 }, { openFiles: -1 }, { cpuSeconds: 1.5 }]) {
    assert.throws(() => folderHost(tmp.dir, { sandboxed: ["a"], limits: { a: bad } }), /limits\.a\./);
  }
  // A misspelt name is said at start: the plugin it meant would otherwise run in a worker, without a word.
  const host = folderHost(tmp.dir, { sandboxed: ["typo"] });
  await host.start();
  await host.stop();
  assert.ok(
    host.logs.some((l) => l.level === "warn" && /"sandboxed" names "typo", but no plugin found/.test(l.message)),
  );
});

/** A host in its own process, with one sandboxed plugin; it prints the plugin's pid, then waits to be killed. */
const HOST_SCRIPT = (dir: string, flagsNote: string) =>
  `// ${flagsNote}
import { createHost } from ${JSON.stringify(new URL("mod.ts", `file://${ROOT_DIR}`).href)};
const host = createHost({ pluginsDir: ${JSON.stringify(join(dir, "plugins"))}, dataDir: ${
    JSON.stringify(join(dir, "data"))
  }, sandboxed: ["stuck"], logger: { level: "error" } });
await host.start();
const info = host.list()[0];
console.log(JSON.stringify({ state: info.state, pid: info.sandbox?.pid, error: info.error }));
await new Promise(() => {});
`;

const STUCK = `export default { name: "stuck", version: "1.0.0", setup() {
  // Its loop is stuck once the host is gone: only the kernel's parent-death signal can end it then.
  setTimeout(() => { for (;;) {} }, 300);
} };`;

Deno.test("sandbox: a host killed with SIGKILL leaves no plugin process behind, even one stuck in a loop", async () => {
  await using tmp = await tempPlugins({ "plugins/stuck/mod.ts": STUCK });
  await Deno.writeTextFile(join(tmp.dir, "host.ts"), HOST_SCRIPT(tmp.dir, "killed by the test"));
  const child = denoCommand("run", ["-A", join(tmp.dir, "host.ts")], { stdout: "piped", stderr: "inherit" }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    line += value;
  }
  const started = JSON.parse(line);
  assert.equal(started.state, "active", started.error);
  await new Promise((r) => setTimeout(r, 600));
  assert.ok(await running(started.pid), "the plugin's process runs (stuck)");
  child.kill("SIGKILL");
  await child.status;
  reader.cancel().catch(() => {});
  await until(async () => !(await running(started.pid)), 3000);
});

Deno.test("sandbox: a host that may not run prlimit says which flag is missing", async () => {
  await using tmp = await tempPlugins({ "plugins/stuck/mod.ts": HEALTHY.replace('"healthy"', '"stuck"') });
  await Deno.writeTextFile(join(tmp.dir, "host.ts"), HOST_SCRIPT(tmp.dir, "no --allow-run"));
  const flags = ["--allow-read", "--allow-write", "--allow-env", "--allow-net=127.0.0.1"];
  const out = await denoCommand("run", [...flags, join(tmp.dir, "host.ts")], { stdout: "piped" }).spawn();
  const reader = out.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  out.kill("SIGKILL");
  await out.status;
  await out.stderr.cancel();
  reader.cancel().catch(() => {});
  const started = JSON.parse(value!);
  assert.equal(started.state, "failed");
  assert.match(started.error, /the host may not run "prlimit".*Run Deno with --allow-run=prlimit,ps/);
});

Deno.test("sandbox: its raw output is logged within its log budget, and it cannot forge V8's out-of-memory exit", async () => {
  const NOISY = `import fs from "node:fs";
  export default { name: "noisy", version: "1.0.0", setup(ctx) {
    ctx.routes.get("/spam", (c) => { for (let i = 0; i < 3000; i++) fs.writeSync(2, "spam " + i + "\\n"); return c.text("ok"); });
    ctx.routes.get("/forge", () => { fs.writeSync(2, "# Fatal JavaScript out of memory: Reached heap limit\\n"); Deno.exit(3); });
  } };`;
  await using t = await sandbox({ "plugins/noisy/mod.ts": NOISY }, {
    sandboxed: ["noisy"],
    limits: { noisy: { logsPerSecond: 50 } },
  });
  assert.equal((await t.get("noisy/spam")).status, 200);
  await until(() => t.host.logs.some((l) => /lines of its output dropped \(over 50 per second\)/.test(l.message)));
  const spam = t.host.logs.filter((l) => /^spam \d+$/.test(l.message)).length;
  assert.ok(spam > 0 && spam <= 50, `${spam} lines logged, budget 50 per second`);
  const forged = await t.get("noisy/forge");
  assert.equal(forged.status, 503);
  assert.match(forged.text, /its process exited with code 3/);
  assert.doesNotMatch(forged.text, /heap limit \(/);
});
