/**
 * Isolated plugins, tried as an attacker would: each runs in its own worker
 * with only the permissions it declares; a hostile, crashing or spinning
 * plugin cannot touch the host or the other plugins.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { SystemErrorEvent } from "../mod.ts";
import type {} from "../plugins/tasks/events.ts";
import { LOOPBACK, pluginSource, quietHost, SPIN, tempPlugins, timerTurns, waitFor } from "./_helpers.ts";

const KEY = "an-admin-key-long-enough-1234";

/** A host that isolates every plugin, with generous budgets for a busy machine. */
async function isolatedHost(dir: string, options: Parameters<typeof quietHost>[0] = {}) {
  const host = quietHost({
    isolation: "worker",
    pluginsDir: join(dir, "plugins"),
    dataDir: join(dir, "data"),
    // Generous: a shared CI machine can be slow to start workers. The watchdog keeps its default budget (10 s); the
    // tests of a hanging or exiting plugin ask for a short one themselves.
    setupTimeout: 20_000,
    apiKey: KEY,
    ...options,
  });
  const errors: SystemErrorEvent[] = [];
  host.events.on("system.error", (e) => void errors.push(e));
  await host.start();
  const call = (path: string, init?: RequestInit) =>
    Promise.resolve(host.fetch(new Request(`http://127.0.0.1${path}`, init), LOOPBACK));
  return Object.assign(host, { errors, call, [Symbol.asyncDispose]: () => host.stop() });
}

const HOSTILE = (dir: string, dependencies: Record<string, string> = {}) => `
const attempts = {};
const attempt = async (name, fn) => {
  try { await fn(); attempts[name] = "allowed"; } catch (e) { attempts[name] = String(e?.message ?? e); }
};
const stringify = JSON.stringify;
export default {
  name: "hostile",
  version: "1.0.0",
  dependencies: ${JSON.stringify(dependencies)},
  async setup(ctx) {
    await attempt("env", () => Deno.env.get("PLUGBOARD_API_KEY"));
    await attempt("envAll", () => Deno.env.toObject());
    await attempt("plant", async () => {
      await Deno.mkdir(${JSON.stringify(join(dir, "plugins", "backdoor"))}, { recursive: true });
      await Deno.writeTextFile(${JSON.stringify(join(dir, "plugins", "backdoor", "mod.ts"))}, "export default {}");
    });
    await attempt("readOtherData", () => Deno.readFile(${
  JSON.stringify(join(dir, "data", "plugins", "victim", "storage.db"))
}));
    await attempt("sqliteOtherData", async () => {
      const { DatabaseSync } = await import("node:sqlite");
      new DatabaseSync(${JSON.stringify(join(dir, "data", "plugins", "victim", "storage.db"))}).exec("SELECT 1");
    });
    await attempt("forgeTaskFailed", () => ctx.events.emit("task.failed", { taskId: "t1", error: "forged" }));
    await attempt("forgeSystemError", () => ctx.events.emit("system.error", { origin: "route", message: "x" }));
    await attempt("rawForge", () => self.postMessage([1, "emit", { event: "task.failed", payload: { taskId: "t2", error: "raw" } }]));
    // Calls sent as notes: nobody waits for their failure, which must not end the host's process.
    await attempt("callsAsNotes", () => {
      self.postMessage([1, "emitAsync", { event: "system.error", payload: {} }]);
      self.postMessage([1, "callService", null]);
      self.postMessage([1, "middlewareNext", { callId: 99 }]);
    });
    await attempt("net", () => fetch("http://127.0.0.1:49999/"));
    await attempt("run", () => new Deno.Command("true").output());
    await attempt("readLink", () => Deno.readLink("/etc/hostname"));
    await attempt("tempDir", () => Deno.makeTempDir());
    await attempt("ownData", () => Deno.writeTextFile(ctx.dataDir + "/note.txt", "mine"));
    await attempt("patchVictimService", () => { const s = ctx.services.resolve("victim"); s.secret = () => "patched"; });
    await attempt("serviceConstructor", () => ctx.services.resolve("victim").constructor.constructor("return 1"));
    await attempt("serviceProto", () => ctx.services.resolve("victim").__proto__.toString());
    // Patches of its own globals stay in its own isolate.
    crypto.subtle.digest = async () => new ArrayBuffer(32);
    JSON.parse = () => ({ patched: true });
    ctx.routes.get("/report", (c) => c.body(stringify(attempts), 200, { "content-type": "application/json" }));
    ctx.routes.get("/cookie", (c) => {
      c.header("set-cookie", "plugboard_session=planted; Path=/admin", { append: true });
      c.header("Set-Cookie", " plugboard_session=; Max-Age=0; Path=/admin", { append: true });
      c.header("set-cookie", "theme=dark; Path=/", { append: true });
      return c.text("ok");
    });
    ctx.routes.get("/exit", () => Deno.exit(7));
    ctx.routes.get("/close", (c) => { self.close(); return c.text("closing"); });
    ctx.routes.get("/spin", () => { ${SPIN} });
  },
};
`;

const VICTIM = pluginSource("victim", {
  setup: `ctx.storage.set("ledger", 42);
    ctx.services.provide("victim", { secret: () => "real" });
    ctx.routes.get("/ledger", (c) => c.json({ ledger: ctx.storage.get("ledger") }));`,
});

Deno.test("a hostile isolated plugin: every attack is refused or stays in its own worker", async () => {
  await using tmp = await tempPlugins({ "plugins/victim/mod.ts": VICTIM });
  await tmp.write("plugins/hostile/mod.ts", HOSTILE(tmp.dir, { victim: "*" }));
  const forged: unknown[] = [];
  await using host = await isolatedHost(tmp.dir);
  host.events.on("task.failed", (e) => void forged.push(e));
  assert.deepEqual(host.list().map((p) => [p.name, p.state, p.isolation]).sort(), [
    ["hostile", "active", "worker"],
    ["victim", "active", "worker"],
  ]);
  const report = await (await host.call("/api/plugins/hostile/report")).json();
  assert.equal(
    report.env,
    'Plugin "hostile" may not read env "PLUGBOARD_API_KEY": declare it in permissions.env of its manifest',
  );
  assert.equal(
    report.envAll,
    'Plugin "hostile" may not read env: declare it in permissions.env of its manifest',
  );
  assert.match(report.plant, /may not write/);
  assert.equal(existsSync(join(tmp.dir, "plugins", "backdoor")), false, "nothing planted");
  assert.match(report.readOtherData, /may not read/);
  assert.notEqual(report.sqliteOtherData, "allowed");
  assert.match(report.forgeTaskFailed, /may not emit "task.failed": declare it in "emits"/);
  assert.match(report.forgeSystemError, /may not emit "system.error"/);
  assert.match(report.net, /may not reach "127.0.0.1:49999"/);
  assert.match(report.run, /may not run "true"/);
  assert.match(report.readLink, /^Plugin "hostile" may not read "\/etc\/hostname": declare it in permissions\.read/);
  assert.match(report.tempDir, /^Plugin "hostile" may not write .*: declare it in permissions\.write/);
  assert.equal(report.ownData, "allowed", "its own data folder is writable");
  assert.equal(report.patchVictimService, "allowed", "it may scribble on its own proxy of the service...");
  assert.match(report.serviceConstructor, /has no method constructor/);
  assert.match(report.serviceProto, /has no method __proto__/);
  assert.equal(existsSync(join(tmp.dir, "data", "plugins", "hostile", "note.txt")), true);
  // A message posted past the plugin API is checked by the host too.
  await waitFor(() => host.errors.some((e) => /may not emit "task.failed"/.test(e.message)), {
    what: "the host to refuse the raw forged emit",
  });
  assert.deepEqual(forged, [], "no forged task.failed reached any listener");
  // Calls it sent as notes failed where nobody waits: the host is still here, serving.
  assert.equal(report.callsAsNotes, "allowed");
  await timerTurns(5);
  const health = await host.call("/health");
  assert.equal(health.status, 200);
  await health.body?.cancel();
  // It may set its own cookies, never the dashboard's session (nor clear it).
  const cookie = await host.call("/api/plugins/hostile/cookie");
  assert.equal(await cookie.text(), "ok");
  assert.deepEqual(cookie.headers.getSetCookie(), ["theme=dark; Path=/"]);
  // The victim's data, service and routes are untouched.
  assert.deepEqual(await (await host.call("/api/plugins/victim/ledger")).json(), { ledger: 42 });
  const victim = host.services.resolve<{ secret(): Promise<string> }>("victim");
  assert.equal(await victim.secret(), "real", "...which never reaches the service");
  // The host's primitives were never the plugin's to patch: admin auth still holds.
  const wrong = await host.call("/api/plugins", { headers: { "x-api-key": "wrong" } });
  assert.notEqual(wrong.status, 200);
  await wrong.body?.cancel();
  const right = await host.call("/api/plugins", { headers: { "x-api-key": KEY } });
  assert.equal(right.status, 200);
  assert.equal(JSON.parse(await right.text()).plugins.length, 2);
});

Deno.test("an isolated plugin that ends its worker (Deno.exit(), self.close()) is restarted at once; the host keeps serving", async () => {
  await using tmp = await tempPlugins();
  await tmp.write("plugins/hostile/mod.ts", HOSTILE(tmp.dir));
  // A long hangTimeout: the end is known from the worker's word, not from its silence (which would leave the request
  // waiting until its routeTimeout, and answer it 504).
  await using host = await isolatedHost(tmp.dir, { hangTimeout: 60_000, routeTimeout: 20_000 });
  for (const [path, how, restarts] of [["exit", "Deno.exit(7)", 1], ["close", "self.close()", 2]] as const) {
    const res = await host.call(`/api/plugins/hostile/${path}`);
    assert.equal(res.status, 503, `${how}: its pending request is answered 503`);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    assert.equal(res.headers.get("retry-after"), "1");
    await res.body?.cancel();
    await waitFor(() => host.get("hostile")!.restarts === restarts, { what: `the restart after ${how}` });
    const again = await host.call("/api/plugins/hostile/report");
    assert.equal(again.status, 200);
    await again.body?.cancel();
    assert.ok(
      host.errors.some((e) => e.origin === "worker" && e.plugin === "hostile" && e.message.includes(how)),
      `reported with ${how}: ${host.errors.map((e) => e.message).join(" | ")}`,
    );
  }
});

Deno.test("a plugin spinning in a route: /health answers throughout, the worker is restarted, then failed after 3 crashes", async () => {
  await using tmp = await tempPlugins();
  await tmp.write("plugins/hostile/mod.ts", HOSTILE(tmp.dir));
  await tmp.write("plugins/hostile/spinning", "");
  await using host = await isolatedHost(tmp.dir, { hangTimeout: 500 });
  for (let crash = 1; crash <= 3; crash++) {
    const spinning = host.call("/api/plugins/hostile/spin");
    const health = host.call("/health");
    // The host is not frozen: /health answers while the plugin still spins.
    assert.equal(await Promise.race([health.then(() => "health"), spinning.then(() => "spin")]), "health");
    assert.equal((await health).status, 200);
    await (await health).body?.cancel();
    const res = await spinning;
    assert.equal(res.status, 503);
    await res.body?.cancel();
    if (crash < 3) await waitFor(() => host.get("hostile")!.restarts === crash, { what: `restart ${crash}` });
  }
  await waitFor(() => host.get("hostile")!.state === "failed", { what: "the plugin to be failed" });
  assert.match(host.get("hostile")!.error!, /crashed 3 times within 5 minutes/);
  const gone = await host.call("/api/plugins/hostile/report");
  assert.equal(gone.status, 404);
  await gone.body?.cancel();
});

Deno.test("a plugin spinning in an event handler is restarted; other plugins keep receiving", async () => {
  await using tmp = await tempPlugins({
    "plugins/spinner/mod.ts": pluginSource("spinner", { setup: `ctx.events.on("spin.now", () => { ${SPIN} });` }),
    "plugins/spinner/spinning": "",
    "plugins/counter/mod.ts": pluginSource("counter", {
      setup: `let n = 0; ctx.events.on("spin.now", () => { n++; }); ctx.routes.get("/n", (c) => c.json(n));`,
    }),
  });
  await using host = await isolatedHost(tmp.dir, { hangTimeout: 500 });
  host.events.emit("spin.now" as never, {} as never);
  await waitFor(() => host.get("spinner")!.restarts === 1, { what: "the spinner's restart" });
  assert.equal(await (await host.call("/api/plugins/counter/n")).json(), 1);
});

Deno.test("a setup that never returns times out and its worker is terminated", async () => {
  await using tmp = await tempPlugins({
    "plugins/stuck/mod.ts": pluginSource("stuck", {
      setup: `ctx.setInterval(() => Deno.writeTextFileSync(ctx.dataDir + "/tick", String(Date.now())), 20); ${SPIN}`,
    }),
    "plugins/stuck/spinning": "",
  });
  await using host = await isolatedHost(tmp.dir, { setupTimeout: 300 });
  const info = host.get("stuck")!;
  assert.equal(info.state, "failed");
  assert.equal(info.errorCode, "TIMEOUT");
  assert.match(info.error!, /setup timed out after 300 ms; its worker was terminated/);
  const health = await host.call("/health");
  assert.equal((await health.json()).plugins.failed, 1);
});

Deno.test("a plugin over its memory budget is restarted before the process runs out", async () => {
  await using tmp = await tempPlugins({
    "plugins/hog/mod.ts": pluginSource("hog", {
      setup: `const hoard = []; ctx.routes.get("/grow", (c) => {
        for (let i = 0; i < 40; i++) hoard.push(new Array(250_000).fill(i));
        return c.text("grown");
      });`,
    }),
  });
  // The default hang budget (10 s): the restart is for memory, not for a long allocation.
  await using host = await isolatedHost(tmp.dir, { memoryLimitMb: 48 });
  const grown = await host.call("/api/plugins/hog/grow");
  await grown.body?.cancel();
  await waitFor(() => host.get("hog")!.restarts === 1, { what: "the restart over budget", timeoutMs: 5000 });
  assert.ok(host.errors.some((e) => /over its 48 MB budget/.test(e.message)));
});

Deno.test("services, events and hooks cross the boundary; payloads must be cloneable", async () => {
  await using tmp = await tempPlugins({
    "plugins/calc/mod.ts": pluginSource("calc", {
      extra: `emits: ["math.*"],`,
      setup: `ctx.services.provide("calc", { add: (a, b) => a + b, nested: { twice: (n) => n * 2 } });
        ctx.events.on("task.created", (p) => ctx.events.emit("calc.seen", { taskId: p.taskId }));
        ctx.hooks.wrap("task.execute", (next) => async (task) => ({ ...(await next(task)), wrappedBy: "calc" }));
        ctx.routes.get("/clone", (c) => {
          try { ctx.events.emit("calc.bad", { fn() {} }); return c.text("sent"); }
          catch (e) { return c.text(e.message, 400); }
        });
        ctx.routes.get("/uses", async (c) => c.json(await ctx.services.resolve("local").double(21)));`,
    }),
  });
  await using host = await isolatedHost(tmp.dir);
  await host.load({
    name: "local",
    version: "1.0.0",
    setup(ctx) {
      ctx.services.provide("local", { double: (n: number) => n * 2 });
      ctx.hooks.define("task.execute", (task: { id: string }) => Promise.resolve({ id: task.id, done: true }));
    },
  });
  const calc = host.services.resolve<
    { add(a: number, b: number): Promise<number>; nested: { twice(n: number): Promise<number> } }
  >("calc");
  assert.equal(await calc.add(2, 3), 5);
  assert.equal(await calc.nested.twice(4), 8);
  // The isolated plugin resolves an in-process plugin's service, by async proxy.
  assert.equal(await (await host.call("/api/plugins/calc/uses")).json(), 42);
  const seen: unknown[] = [];
  host.events.on("calc.seen" as never, (p: unknown) => void seen.push(p));
  host.events.emit("task.created", { taskId: "t9" } as never);
  await waitFor(() => seen.length === 1, { what: "the isolated plugin's event" });
  assert.deepEqual(seen, [{ taskId: "t9" }]);
  // An isolated wrapper around an in-process hook.
  assert.deepEqual(await host.hooks.call("task.execute" as never, { id: "t1" } as never), {
    id: "t1",
    done: true,
    wrappedBy: "calc",
  });
  const clone = await host.call("/api/plugins/calc/clone");
  assert.equal(clone.status, 400);
  assert.match(
    await clone.text(),
    /Cannot emit "calc.bad" from an isolated plugin: its payload cannot be structured-cloned/,
  );
});

Deno.test("request and response bodies stream across the boundary", async () => {
  await using tmp = await tempPlugins({
    "plugins/echo/mod.ts": pluginSource("echo", {
      setup: `ctx.routes.post("/echo", async (c) => c.text(await c.req.text()));
        ctx.routes.get("/events", () => new Response(new ReadableStream({
          start(controller) {
            const enc = new TextEncoder();
            controller.enqueue(enc.encode("data: one\\n\\n"));
            setTimeout(() => { controller.enqueue(enc.encode("data: two\\n\\n")); controller.close(); }, 50);
          },
        }), { headers: { "content-type": "text/event-stream" } }));`,
    }),
  });
  await using host = await isolatedHost(tmp.dir);
  const big = "x".repeat(200_000);
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(big.slice(0, 100_000)));
      controller.enqueue(new TextEncoder().encode(big.slice(100_000)));
      controller.close();
    },
  });
  const echoed = await host.call("/api/plugins/echo/echo", { method: "POST", body, duplex: "half" } as RequestInit);
  assert.equal((await echoed.text()).length, big.length);
  const sse = await host.call("/api/plugins/echo/events");
  assert.equal(sse.headers.get("content-type"), "text/event-stream");
  assert.equal(await sse.text(), "data: one\n\ndata: two\n\n");
});

Deno.test("a new version that asks for more permissions waits for approval; the old one keeps serving", async () => {
  await using tmp = await tempPlugins({
    "plugins/grow/mod.ts": pluginSource("grow", { setup: `ctx.routes.get("/v", (c) => c.text("v1"));` }),
  });
  await using host = await isolatedHost(tmp.dir);
  await tmp.write(
    "plugins/grow/mod.ts",
    pluginSource("grow", {
      version: "2.0.0",
      extra: `permissions: { env: ["GROW_TOKEN"] },`,
      setup: `ctx.routes.get("/v", (c) => c.text("v2"));`,
    }),
  );
  const refused = await host.call("/api/plugins/grow:reload", { method: "POST", headers: { "x-api-key": KEY } });
  assert.equal(refused.status, 403);
  assert.match((await refused.json()).detail, /asks for more permissions \(env: GROW_TOKEN\)/);
  assert.deepEqual(host.get("grow")!.pendingPermissions, { env: ["GROW_TOKEN"] });
  assert.equal(await (await host.call("/api/plugins/grow/v")).text(), "v1");
  const approved = await host.call("/api/plugins/grow:approve", { method: "POST", headers: { "x-api-key": KEY } });
  assert.equal(approved.status, 200);
  assert.equal((await approved.json()).version, "2.0.0");
  assert.equal(await (await host.call("/api/plugins/grow/v")).text(), "v2");
  assert.deepEqual(host.get("grow")!.permissions, { env: ["GROW_TOKEN"] });
  assert.equal(host.get("grow")!.pendingPermissions, undefined);
});

const netGranted = (await Deno.permissions.query({ name: "net", host: "example.com" })).state === "granted";

Deno.test({
  name: "bad permissions are manifest errors naming the field; asking for what the host lacks names the flag",
  ignore: netGranted, // the test task grants --allow-net=127.0.0.1,localhost only
}, async () => {
  await using tmp = await tempPlugins({
    "plugins/unknown/mod.ts": pluginSource("unknown", { extra: `permissions: { disk: ["/"] },` }),
    "plugins/native/mod.ts": pluginSource("native", { extra: `permissions: { ffi: ["./lib.so"] },` }),
    "plugins/runner/mod.ts": pluginSource("runner", { extra: `permissions: { run: true },` }),
    "plugins/greedy/mod.ts": pluginSource("greedy", { extra: `permissions: { net: ["example.com"] },` }),
  });
  await using host = await isolatedHost(tmp.dir);
  const error = (name: string) => host.get(name)!.error!;
  assert.match(error("unknown"), /invalid manifest: permissions: Unrecognized key: "disk"/);
  assert.match(error("native"), /permissions\.ffi: ffi is never granted to a plugin/);
  assert.match(error("runner"), /permissions\.run: must be a list of programs/);
  assert.equal(host.get("greedy")!.errorCode, "PERMISSION_DENIED");
  assert.match(
    error("greedy"),
    /its worker needs to reach "example.com", which the host process may not\. Run Deno with --allow-net=example.com/,
  );
});

Deno.test("an isolated plugin's manifest is checked on the host: a worker cannot vouch for itself", async () => {
  await using tmp = await tempPlugins({
    // Top-level code runs in the worker before the manifest is read: a plugin that breaks the checks there
    // (here: every regular expression matches everything) must still be judged by the host.
    "plugins/liar/mod.ts": `RegExp.prototype.test = () => true; RegExp.prototype.exec = () => [""];
      export default { name: "Not A Name", version: "one", setup() {} };`,
    "plugins/opaque/mod.ts": pluginSource("opaque", { extra: `dependencies: { tasks: () => "^1.0.0" },` }),
    "plugins/noop/mod.ts": `export default { name: "noop", version: "1.0.0", setup: "not a function", config: 42 };`,
  });
  await using host = await isolatedHost(tmp.dir);
  const byHint = (hint: string) => host.list().find((p) => p.source.includes(`/${hint}/`))!;
  assert.equal(byHint("liar").state, "failed");
  assert.match(
    byHint("liar").error!,
    /invalid manifest: name: must be lowercase kebab-case.*version: must be a semantic/,
  );
  assert.match(host.get("opaque")!.error!, /invalid manifest: dependencies: must be plain data/);
  assert.match(
    host.get("noop")!.error!,
    /setup: setup must be a function; config: must be a zod \(or Standard Schema\)/,
  );
});

Deno.test("unloading an isolated plugin terminates its worker: its timers stop", async () => {
  await using tmp = await tempPlugins({
    "plugins/ticker/mod.ts": pluginSource("ticker", {
      setup: `let n = 0; setInterval(() => Deno.writeTextFileSync(ctx.dataDir + "/ticks", String(++n)), 10);`,
    }),
  });
  await using host = await isolatedHost(tmp.dir);
  const ticks = join(tmp.dir, "data", "plugins", "ticker", "ticks");
  await waitFor(() => existsSync(ticks), { what: "the first tick" });
  await host.unload("ticker");
  // A tick already running when the worker was terminated may still land: let it, then watch.
  await new Promise((r) => setTimeout(r, 50));
  const after = Deno.readTextFileSync(ticks);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(
    Deno.readTextFileSync(ticks),
    after,
    "no tick after unload, although the plugin never cleared its interval",
  );
});

Deno.test("an isolated plugin that throws what cannot be cloned fails at once, not at its timeout", async () => {
  // An Error whose stack is a function cannot be posted as it is: a reply built from it would never arrive, and the
  // host would wait for the setup timeout (setup) or answer 504 (route).
  const odd = `Object.assign(new Error("odd"), { stack: () => 1 })`;
  await using tmp = await tempPlugins();
  await tmp.write(
    "plugins/odd-route/mod.ts",
    pluginSource("odd-route", { setup: `ctx.routes.get("/x", () => { throw ${odd}; });` }),
  );
  await tmp.write("plugins/odd-setup/mod.ts", pluginSource("odd-setup", { setup: `throw ${odd};` }));
  await using host = await isolatedHost(tmp.dir);
  const failed = host.get("odd-setup")!;
  assert.equal(failed.state, "failed");
  assert.match(failed.error ?? "", /odd/);
  assert.doesNotMatch(failed.error ?? "", /timed out/);
  const res = await host.call("/api/plugins/odd-route/x");
  assert.equal(res.status, 500);
  await res.body?.cancel();
  await waitFor(() => host.errors.some((e) => e.plugin === "odd-route" && /odd/.test(e.message)), {
    what: "the route's failure reported",
  });
});
