import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { serve, type SystemErrorEvent } from "../mod.ts";
import { WWW_AUTHENTICATE } from "../src/http/auth.ts";
import {
  denoCommand,
  LOOPBACK,
  MOD_URL,
  pluginSource,
  quietHost,
  ROOT_DIR,
  serveStatic,
  tempPlugins,
  waitFor,
} from "./_helpers.ts";

const HELLO = `import { definePlugin } from ${JSON.stringify(MOD_URL)};
export default definePlugin({
  name: "hello", version: "1.0.0",
  setup(ctx) {
    ctx.routes.get("/", (c) => c.json({ hello: "world" }));
    ctx.routes.get("/boom", () => { throw new Error("secret stack detail"); });
    ctx.routes.get("/api/plugins", (c) => c.text("shadow attempt"));
    ctx.routes.get("/../../health", (c) => c.text("shadow attempt"));
  },
});`;

const KEY = "s3cret-admin-key-0123456789";

async function startServer(options: Parameters<typeof quietHost>[0] = {}) {
  const host = quietHost(options);
  await host.start();
  const server = serve(host, { port: 0, hostname: "127.0.0.1" });
  const base = `http://127.0.0.1:${server.addr.port}`;
  /** A request to the admin API with the host's admin key (its own token when no apiKey is set). */
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { "x-api-key": host.adminKey, ...init.headers as object } });
  return { host, server, base, admin, [Symbol.asyncDispose]: () => server.shutdown() };
}

async function json(res: Response) {
  return { status: res.status, type: res.headers.get("content-type"), body: await res.json() };
}

Deno.test("GET /health answers with plugin counts", async () => {
  await using tmp = await tempPlugins({ "hello/mod.ts": HELLO, "bad/mod.ts": "export default 1;" });
  await using s = await startServer({ pluginsDir: tmp.dir });
  const r = await json(await fetch(`${s.base}/health`));
  assert.deepEqual(r, {
    status: 200,
    type: "application/json",
    body: { status: "ok", plugins: { active: 1, failed: 1 } },
  });
});

Deno.test("admin API: without a key, loopback clients with the host's token; a key when configured", async () => {
  await using tmp = await tempPlugins({ "hello/mod.ts": HELLO });
  await using open = await startServer({ pluginsDir: tmp.dir });
  const anonymous = await json(await fetch(`${open.base}/api/plugins`));
  assert.equal(anonymous.status, 401, "being on loopback is not enough");
  const list = await json(await open.admin("/api/plugins"));
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.plugins.map((p: { name: string }) => p.name), ["hello"]);
  // The same host seen from a non-loopback address (in-process, no traffic leaves the machine).
  const remote = await open.host.fetch(
    new Request("http://x/api/plugins", { headers: { "x-api-key": open.host.adminKey } }),
    {
      ...LOOPBACK,
      remoteAddr: { transport: "tcp", hostname: "203.0.113.9", port: 1 },
    },
  );
  assert.equal(remote.status, 403);
  assert.match((await remote.json()).detail, /answers loopback clients only \(this one is 203.0.113.9\)/);

  await using keyed = await startServer({ pluginsDir: tmp.dir, apiKey: KEY });
  const none = await json(await fetch(`${keyed.base}/api/plugins`));
  assert.equal(none.status, 401);
  assert.equal(none.type, "application/problem+json");
  assert.equal(none.body.code, "UNAUTHORIZED");
  const wrong = await fetch(`${keyed.base}/api/plugins`, { headers: { "X-API-Key": "nope" } });
  assert.equal(wrong.status, 401, "a wrong key is missing credentials too (RFC 9110)");
  assert.equal(wrong.headers.get("www-authenticate"), WWW_AUTHENTICATE);
  await wrong.body?.cancel();
  const right = await fetch(`${keyed.base}/api/plugins/hello`, { headers: { "X-API-Key": KEY } });
  assert.equal(right.status, 200);
  const info = await right.json();
  assert.equal(info.state, "active");
  assert.deepEqual(info.routes, [
    "GET /api/plugins/hello/",
    "GET /api/plugins/hello/boom",
    "GET /api/plugins/hello/api/plugins",
    "GET /api/plugins/hello/../../health",
  ]);
});

Deno.test("load from a URL, route appears; unload, route is 404; reload; errors are problems", async () => {
  await using tmp = await tempPlugins({
    "remote/echo/mod.js": `export default { name: "echo", version: "1.0.0",
      setup(ctx) { ctx.routes.get("/say/:w", (c) => c.text(c.req.param("w"))); } };`,
    "remote/needs/mod.js":
      `export default { name: "needs", version: "1.0.0", dependencies: { echo: "^1.0.0" }, setup() {} };`,
  });
  await using files = serveStatic(join(tmp.dir, "remote"));
  await using s = await startServer({ pluginsDir: null, allowImport: [files.host] });
  const post = (body: unknown) =>
    s.admin(`/api/plugins`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });

  const before = await fetch(`${s.base}/api/plugins/echo/say/hi`);
  assert.equal(before.status, 404);
  await before.body?.cancel();

  const loaded = await json(await post({ source: `${files.base}/echo/mod.js` }));
  assert.equal(loaded.status, 201);
  assert.equal(loaded.body.state, "active");
  assert.equal(await (await fetch(`${s.base}/api/plugins/echo/say/hi`)).text(), "hi");

  const dup = await json(await post({ source: `${files.base}/echo/mod.js` }));
  assert.equal(dup.status, 409);

  const needs = await json(await post({ source: `${files.base}/needs/mod.js` }));
  assert.equal(needs.status, 201);
  const refused = await json(await s.admin(`/api/plugins/echo`, { method: "DELETE" }));
  assert.equal(refused.status, 409);
  assert.match(refused.body.detail, /"needs" depends on it/);

  const reloaded = await json(await s.admin(`/api/plugins/echo:reload`, { method: "POST" }));
  assert.equal(reloaded.status, 200);
  assert.equal(reloaded.body.reloads, 1);

  const gone = await json(await s.admin(`/api/plugins/echo?cascade=true`, { method: "DELETE" }));
  assert.equal(gone.status, 200);
  assert.equal(gone.body.state, "unloaded");
  const after = await json(await fetch(`${s.base}/api/plugins/echo/say/hi`));
  assert.equal(after.status, 404);
  assert.equal(after.type, "application/problem+json");

  assert.equal((await json(await post({ nope: 1 }))).status, 400);
  const badJson = await s.admin(`/api/plugins`, {
    method: "POST",
    body: "{",
    headers: { "content-type": "application/json" },
  });
  assert.equal(badJson.status, 400);
  await badJson.body?.cancel();
  const denied = await json(await post({ source: "https://cdn.example.com/x/mod.js" }));
  assert.equal(denied.status, 403);
  assert.equal(denied.body.fix, 'allowImport: ["cdn.example.com"]');
  assert.equal((await json(await s.admin(`/api/plugins/nope`))).status, 404);
  assert.equal((await json(await s.admin(`/api/plugins/nope:reload`, { method: "POST" }))).status, 404);
  assert.equal((await json(await s.admin(`/api/plugins/echo:explode`, { method: "POST" }))).status, 404);
});

for (const isolation of ["none", "worker"] as const) {
  Deno.test(
    `a throwing route answers 500 problem+json with an error id that is in the log and no stack; the server keeps serving (isolation: ${isolation})`,
    () => throwingRoute(isolation),
  );
}

async function throwingRoute(isolation: "none" | "worker") {
  await using tmp = await tempPlugins({ "hello/mod.ts": HELLO });
  await using s = await startServer({ pluginsDir: tmp.dir, isolation });
  const errors: SystemErrorEvent[] = [];
  s.host.events.on("system.error", (e) => errors.push(e));
  const r = await json(await fetch(`${s.base}/api/plugins/hello/boom`));
  assert.equal(r.status, 500);
  assert.equal(r.type, "application/problem+json");
  const id = r.body.errorId;
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.match(r.body.detail, new RegExp(`logged with id ${id}`));
  assert.ok(!JSON.stringify(r.body).includes("secret stack detail"));
  assert.deepEqual(errors.map((e) => [e.origin, e.plugin, e.errorId]), [["route", "hello", id]]);
  // The operator finds the client's id in the log line, and as a field of its own in a JSON log.
  const logged = s.host.logs.filter((l) => l.level === "error" && l.message.includes(id));
  assert.equal(logged.length, 1, "one error line names the id");
  assert.match(logged[0].message, /^route error in plugin "hello": secret stack detail \(error id [0-9a-f-]{36}\)$/);
  assert.ok(logged[0].args.some((a) => (a as { errorId?: string })?.errorId === id));
  assert.deepEqual((await json(await fetch(`${s.base}/api/plugins/hello/`))).body, { hello: "world" });
}

Deno.test("a plugin cannot shadow /health, the admin API or another plugin", async () => {
  await using tmp = await tempPlugins({
    "hello/mod.ts": HELLO,
    "other/mod.ts": pluginSource("other", { setup: "ctx.routes.get('/', (c) => c.text('other'));" }),
    "grabber/mod.ts": pluginSource("grabber", {
      setup:
        "ctx.middleware(async (c, next) => { if (c.req.path !== '/api/plugins/other/') return c.text('grabbed'); await next(); });",
    }),
  });
  await using s = await startServer({ pluginsDir: tmp.dir });
  assert.equal((await json(await fetch(`${s.base}/health`))).body.status, "ok");
  const list = await json(await s.admin(`/api/plugins`));
  assert.equal(list.body.plugins.length, 3);
  assert.equal(await (await fetch(`${s.base}/api/plugins/other/`)).text(), "other");
  assert.equal(
    await (await fetch(`${s.base}/api/plugins/hello/api/plugins`)).text(),
    "grabbed",
    "middleware may answer plugin routes",
  );
});

Deno.test("host-wide middleware runs in order around every request and is removed on unload", async () => {
  await using tmp = await tempPlugins({
    "hello/mod.ts": HELLO,
    "first/mod.ts": pluginSource("first", {
      setup: "ctx.middleware(async (c, next) => { await next(); c.res.headers.append('x-trace', 'first'); });",
    }),
    "second/mod.ts": pluginSource("second", {
      setup:
        "ctx.middleware(async (c, next) => { await next(); c.res.headers.append('x-trace', 'second:' + c.res.status); });",
    }),
    "thrower/mod.ts": pluginSource("thrower", {
      setup:
        "ctx.middleware(async (c, next) => { if (c.req.path.endsWith('/explode')) throw new Error('mw'); await next(); });",
    }),
  });
  await using s = await startServer({ pluginsDir: tmp.dir });
  const r = await fetch(`${s.base}/api/plugins/hello/`);
  await r.body?.cancel();
  assert.equal(r.headers.get("x-trace"), "second:200, first");
  // The host's own endpoints run no plugin code: no middleware around them.
  for (const path of ["/api/plugins", "/api/plugins/hello", "/health"]) {
    const own = await s.admin(path);
    await own.body?.cancel();
    assert.equal(own.status, 200);
    assert.equal(own.headers.get("x-trace"), null, path);
  }
  const errors: SystemErrorEvent[] = [];
  s.host.events.on("system.error", (e) => errors.push(e));
  const boom = await json(await fetch(`${s.base}/api/plugins/hello/explode`));
  assert.equal(boom.status, 500);
  assert.match(boom.body.errorId, /^[0-9a-f-]{36}$/);
  assert.deepEqual(errors.map((e) => [e.origin, e.plugin, e.errorId]), [["middleware", "thrower", boom.body.errorId]]);
  assert.ok(s.host.logs.some((l) => l.level === "error" && l.message.endsWith(`(error id ${boom.body.errorId})`)));
  await s.host.unload("second");
  const r2 = await fetch(`${s.base}/api/plugins/hello/`);
  await r2.body?.cancel();
  assert.equal(r2.headers.get("x-trace"), "first");
});

for (
  const [placement, options] of [
    ["in-process", { isolation: "none" }],
    ["both isolated", { isolation: "worker" }],
    ["middleware trusted, route isolated", { isolation: "worker", trusted: ["mw"] }],
  ] as const
) {
  Deno.test(
    `behind another plugin's middleware, a route's failure is the route's and its status text is kept (${placement})`,
    () => behindMiddleware(options),
  );
}

async function behindMiddleware(options: { isolation: "none" | "worker"; trusted?: readonly string[] }) {
  await using tmp = await tempPlugins({
    "mw/mod.ts": pluginSource("mw", {
      extra: `permissions: { hostWide: ["middleware"] },`,
      setup: "ctx.middleware(async (c, next) => { await next(); c.header('x-mw', 'seen'); });",
    }),
    "routes/mod.ts": pluginSource("routes", {
      setup: `ctx.routes.get("/plain", () => { throw "a plain string"; });
        ctx.routes.get("/custom", () => new Response("made", { status: 202, statusText: "Custom Reason" }));`,
    }),
  });
  await using s = await startServer({ pluginsDir: tmp.dir, ...options, trusted: [...options.trusted ?? []] });
  const errors: SystemErrorEvent[] = [];
  s.host.events.on("system.error", (e) => errors.push(e));
  const plain = await s.host.fetch(new Request("http://localhost/api/plugins/routes/plain"), LOOPBACK);
  assert.equal(plain.status, 500);
  assert.match((await plain.json()).detail, /^A route of plugin "routes" failed/);
  assert.deepEqual(errors.map((e) => [e.origin, e.plugin]), [["route", "routes"]], "not the middleware's failure");
  const custom = await s.host.fetch(new Request("http://localhost/api/plugins/routes/custom"), LOOPBACK);
  assert.deepEqual([custom.status, custom.statusText, custom.headers.get("x-mw"), await custom.text()], [
    202,
    "Custom Reason",
    "seen",
    "made",
  ]);
}

Deno.test("a plugin middleware that throws or never settles cannot reach the admin API or /health", async () => {
  await using tmp = await tempPlugins({
    "hello/mod.ts": HELLO,
    "thrower/mod.ts": pluginSource("thrower", { setup: "ctx.middleware(() => { throw new Error('mw'); });" }),
    "hanger/mod.ts": pluginSource("hanger", { setup: "ctx.middleware(() => new Promise(() => {}));" }),
  });
  await using s = await startServer({ pluginsDir: tmp.dir });
  const list = await s.admin(`/api/plugins`);
  assert.equal(list.status, 200);
  assert.equal((await list.json()).plugins.length, 3);
  const health = await fetch(`${s.base}/health`);
  assert.equal((await health.json()).plugins.active, 3);
});

Deno.test("a route a plugin pushes outside its prefix is not served; the admin API stays the host's", async () => {
  await using tmp = await tempPlugins({
    "shadow/mod.ts": pluginSource("shadow", {
      setup: `ctx.routes.get("/ok", (c) => c.text("ok"));
        ctx.routes.routes.push({ basePath: "/", path: "/api/plugins/:name", method: "ALL", handler: (c) => c.text("stolen") });
        ctx.routes.routes.push({ basePath: "/", path: "/api/plugins", method: "ALL", handler: (c) => c.text("stolen") });
        ctx.routes.routes.push({ basePath: "/", path: "/api/plugins/other/x", method: "GET", handler: (c) => c.text("stolen") });`,
    }),
  });
  await using s = await startServer({ pluginsDir: tmp.dir });
  assert.equal(await (await fetch(`${s.base}/api/plugins/shadow/ok`)).text(), "ok");
  const list = await s.admin(`/api/plugins`);
  assert.equal(list.status, 200);
  assert.equal((await list.json()).plugins[0].name, "shadow");
  const info = await s.admin(`/api/plugins/shadow`);
  assert.equal((await info.json()).name, "shadow");
  const other = await fetch(`${s.base}/api/plugins/other/x`);
  assert.equal(other.status, 404);
  await other.body?.cancel();
});

Deno.test("main.ts shuts down on SIGTERM: in-flight requests finish, every disposer runs, exit 0", async () => {
  await using tmp = await tempPlugins();
  // Each writes its markers in its own data folder: an isolated plugin (main.ts's default) may write there alone.
  const dataOf = (name: string) => join(tmp.dir, "data", "plugins", name);
  await tmp.write(
    "plugins/slow/mod.ts",
    pluginSource("slow", {
      setup: `ctx.routes.get("/wait", async (c) => { await Deno.writeTextFile(ctx.dataDir + "/started", "yes");
        await new Promise((r) => setTimeout(r, 300)); return c.text("done"); });
        ctx.onDispose(() => Deno.writeTextFile(ctx.dataDir + "/disposed", "yes"));`,
    }),
  );
  await tmp.write(
    "plugins/other/mod.ts",
    pluginSource("other", { setup: `ctx.onDispose(() => Deno.writeTextFile(ctx.dataDir + "/disposed", "yes"));` }),
  );
  const root = ROOT_DIR;
  const child = denoCommand("run", [
    "--unstable-worker-options",
    "--allow-net=127.0.0.1",
    `--allow-read=${root},${tmp.dir}`,
    `--allow-write=${tmp.dir}`,
    "--allow-env",
    join(root, "main.ts"),
    "--port",
    "0",
    "--plugins-dir",
    join(tmp.dir, "plugins"),
    "--data-dir",
    join(tmp.dir, "data"),
  ], { cwd: tmp.dir }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let port = "";
  while (!port) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
    port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? "";
  }
  assert.ok(port, out);
  const inflight = fetch(`http://127.0.0.1:${port}/api/plugins/slow/wait`).then((r) => r.text());
  await waitFor(() => existsSync(join(dataOf("slow"), "started")), { what: "the slow request to start" });
  child.kill("SIGTERM");
  assert.equal(await inflight, "done");
  const status = await child.status;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  await child.stderr.cancel();
  assert.equal(status.code, 0, out);
  assert.match(out, /slow\s+1\.0\.0\s+active/);
  assert.match(out, /PLUGBOARD_API_KEY is not set, so it requires the token made for this run/);
  assert.equal(await Deno.readTextFile(join(dataOf("slow"), "disposed")), "yes");
  assert.equal(await Deno.readTextFile(join(dataOf("other"), "disposed")), "yes");
});

Deno.test("plugins can use Hono middleware such as hono/cors on their routes", async () => {
  await using tmp = await tempPlugins({
    "open/mod.ts": `import { cors } from "hono/cors";
export default { name: "open", version: "1.0.0", setup(ctx) {
  ctx.routes.use("*", cors({ origin: "https://app.example" }));
  ctx.routes.get("/data", (c) => c.json({ ok: true }));
} };`,
  });
  await using s = await startServer({ pluginsDir: tmp.dir });
  const res = await fetch(`${s.base}/api/plugins/open/data`, { headers: { origin: "https://app.example" } });
  assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
  assert.deepEqual(await res.json(), { ok: true });
  const preflight = await fetch(`${s.base}/api/plugins/open/data`, {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST" },
  });
  await preflight.body?.cancel();
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/);
});

Deno.test("a route that hits a busy database or a missing service answers 503 with Retry-After, not 500", async () => {
  await using tmp = await tempPlugins({
    "needs/mod.ts": pluginSource("needs", {
      setup: `ctx.routes.get("/svc", (c) => c.json(ctx.services.resolve("absent")));
        ctx.routes.get("/busy", () => { throw Object.assign(new Error("database is locked"), { code: "STORAGE_BUSY", retryAfter: 2 }); });`,
    }),
  });
  await using s = await startServer({ pluginsDir: tmp.dir });
  const svc = await fetch(`${s.base}/api/plugins/needs/svc`);
  assert.equal(svc.status, 503);
  assert.equal(svc.headers.get("retry-after"), "1");
  assert.equal((await svc.json()).code, "SERVICE_NOT_FOUND");
  const busy = await fetch(`${s.base}/api/plugins/needs/busy`);
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get("retry-after"), "2");
  assert.equal((await busy.json()).code, "STORAGE_BUSY");
});
