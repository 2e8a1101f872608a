import assert from "node:assert/strict";
import { serve } from "../mod.ts";
import { keyId, WWW_AUTHENTICATE } from "../src/http/auth.ts";
import { LOOPBACK, MOD_URL, pluginSource, quietHost, tempPlugins } from "./_helpers.ts";

const KEY = "s3cret-admin-key-0123456789";

async function startServer(options: Parameters<typeof quietHost>[0] = {}) {
  const host = quietHost(options);
  await host.start();
  const server = serve(host, { port: 0, hostname: "127.0.0.1" });
  const base = `http://127.0.0.1:${server.addr.port}`;
  return { host, server, base, [Symbol.asyncDispose]: () => server.shutdown() };
}

async function json(res: Response) {
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), headers: res.headers, body: JSON.parse(text) };
}

const HELLO = pluginSource("hello", { setup: "ctx.routes.get('/', (c) => c.text('hi'));" });

Deno.test("no-key mode: a foreign Host (DNS rebinding) and a cross-site Origin are refused, token or not; same origin passes", async () => {
  await using tmp = await tempPlugins({ "hello/mod.ts": HELLO });
  await using s = await startServer({ pluginsDir: tmp.dir, allowedHosts: ["Box.Lan"] });
  const get = (headers: Record<string, string>) =>
    s.host.fetch(
      new Request("http://x/api/plugins", { headers: { "x-api-key": s.host.adminKey, ...headers } }),
      LOOPBACK,
    );
  const rebind = await json(await get({ host: "rebind.attacker.example:8000" }));
  assert.equal(rebind.status, 403);
  assert.match(rebind.body.detail, /Host is "rebind.attacker.example:8000"/);
  for (const host of ["2130706433:8000", "user@127.0.0.1", "127.0.0.1.attacker.example", "0x7f000001"]) {
    assert.equal((await get({ host })).status, 403, host);
  }
  for (const host of ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST", "box.lan:8000"]) {
    assert.equal((await get({ host })).status, 200, host);
  }
  const crossSite = await json(await get({ host: "127.0.0.1:8000", origin: "https://evil.example" }));
  assert.equal(crossSite.status, 403);
  assert.match(crossSite.body.detail, /refuses requests from other origins \(Origin is "https:\/\/evil.example"/);
  assert.equal((await get({ host: "127.0.0.1:8000", origin: "null" })).status, 403);
  assert.equal((await get({ host: "127.0.0.1:8000", origin: "http://127.0.0.1:9999" })).status, 403);
  assert.equal((await get({ host: "127.0.0.1:8000", origin: "http://127.0.0.1:8000" })).status, 200);
  // Over a real socket, from a browser page elsewhere: a text/plain "simple request" acts on nothing.
  for (const path of ["/api/plugins", "/api/plugins/hello:reload", "/api/plugins/hello:purge"]) {
    const res = await json(
      await fetch(`${s.base}${path}`, {
        method: "POST",
        headers: { origin: "https://evil.example", "content-type": "text/plain", "x-api-key": s.host.adminKey },
        body: '{"source":"./x/mod.ts"}',
      }),
    );
    assert.equal(res.status, 403, path);
  }
  assert.equal(s.host.get("hello")?.reloads, 0);
});

Deno.test("admin bodies only as application/json: anything else is 415 problem+json", async () => {
  await using tmp = await tempPlugins({ "hello/mod.ts": HELLO });
  await using s = await startServer({ pluginsDir: tmp.dir });
  const post = (path: string, init: RequestInit) =>
    fetch(`${s.base}${path}`, {
      method: "POST",
      ...init,
      headers: { "x-api-key": s.host.adminKey, ...init.headers as Record<string, string> },
    });
  const text = await json(await post("/api/plugins", { body: '{"source":"./x/mod.ts"}' }));
  assert.equal(text.status, 415);
  assert.equal(text.type, "application/problem+json");
  assert.match(text.body.detail, /current Content-Type is "text\/plain;charset=UTF-8"/);
  const form = await json(await post("/api/plugins", { body: new URLSearchParams({ source: "./x/mod.ts" }) }));
  assert.equal(form.status, 415);
  const none = await json(await post("/api/plugins", { body: new Uint8Array([123, 125]) }));
  assert.equal(none.status, 415);
  assert.match(none.body.detail, /Content-Type is missing/);
  const reload = await json(
    await post("/api/plugins/hello:reload", { body: "x", headers: { "content-type": "text/plain" } }),
  );
  assert.equal(reload.status, 415);
  assert.equal(s.host.get("hello")?.reloads, 0);
  const ok = await json(await post("/api/plugins/hello:reload", {}));
  assert.equal(ok.status, 200);
  const withCharset = await json(
    await post("/api/plugins", { body: "{}", headers: { "content-type": "Application/JSON; charset=utf-8" } }),
  );
  assert.equal(withCharset.status, 400, "JSON with parameters is accepted, then validated");
});

Deno.test("admin actions are logged: what, which plugin, result, client; refusals too", async () => {
  await using tmp = await tempPlugins({ "hello/mod.ts": HELLO });
  await using s = await startServer({ pluginsDir: tmp.dir, apiKey: KEY });
  const res = await fetch(`${s.base}/api/plugins/hello:reload`, { method: "POST", headers: { "x-api-key": KEY } });
  await res.body?.cancel();
  const refused = await fetch(`${s.base}/api/plugins/hello`, { method: "DELETE", headers: { "x-api-key": "wrong" } });
  await refused.body?.cancel();
  const load = await fetch(`${s.base}/api/plugins`, {
    method: "POST",
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify({ source: "/etc/hello/mod.ts" }),
  });
  await load.body?.cancel();
  const lines = s.host.logs.map((r) => `${r.level} ${r.message}`);
  assert.ok(
    lines.includes(`info Admin POST /api/plugins/hello:reload answered 200 (key ${keyId(KEY)}, client 127.0.0.1)`),
    lines.join("\n"),
  );
  assert.ok(
    lines.includes("warn Admin DELETE /api/plugins/hello refused with 401 (client 127.0.0.1)"),
    lines.join("\n"),
  );
});

Deno.test("key hygiene: an empty, blank or short admin key is refused at startup, saying why", () => {
  assert.throws(() => quietHost({ apiKey: "" }), /apiKey option is empty, which would silently mean no key/);
  assert.throws(() => quietHost({ apiKey: "   " }), /only whitespace, which locks everyone out/);
  assert.throws(() => quietHost({ apiKey: "k" }), /has 1 characters; an admin key needs at least 16/);
  quietHost({ apiKey: KEY });
});

Deno.test("keyed mode: wrong, missing, query, non-Bearer and duplicate keys are 401 with WWW-Authenticate", async () => {
  await using tmp = await tempPlugins({ "hello/mod.ts": HELLO });
  await using s = await startServer({ pluginsDir: tmp.dir, apiKey: KEY });
  const cases: [string, RequestInit][] = [
    ["/api/plugins", {}],
    ["/api/plugins", { headers: { "x-api-key": KEY.slice(0, -1) } }],
    ["/api/plugins", { headers: { "x-api-key": `${KEY}x` } }],
    [`/api/plugins?api_key=${KEY}`, {}],
    ["/api/plugins", { headers: { authorization: `Basic ${btoa(`admin:${KEY}`)}` } }],
    ["/api/plugins", { headers: { authorization: `Bearer ${KEY}x` } }],
    ["/api/plugins", { headers: { authorization: `Bearer ${KEY}`, "x-api-key": "wrong" } }],
    ["/api/plugins", { headers: [["x-api-key", KEY], ["x-api-key", KEY]] }],
  ];
  for (const [path, init] of cases) {
    const r = await json(await fetch(`${s.base}${path}`, init));
    assert.equal(r.status, 401, `${path} ${JSON.stringify(init)}`);
    assert.equal(r.headers.get("www-authenticate"), WWW_AUTHENTICATE);
  }
  for (
    const headers of [["X-API-KEY", KEY], ["authorization", `Bearer ${KEY}`], ["authorization", `bearer  ${KEY}`]]
  ) {
    const ok = await fetch(`${s.base}/api/plugins`, { headers: [headers as [string, string]] });
    assert.equal(ok.status, 200, JSON.stringify(headers));
    await ok.body?.cancel();
  }
  // No-key mode keeps 403 for a caller who may not: a non-loopback client, even claiming loopback, even with the token.
  await using open = await startServer({ pluginsDir: tmp.dir });
  const remote = await open.host.fetch(
    new Request("http://x/api/plugins", {
      headers: { "x-forwarded-for": "127.0.0.1", "x-api-key": open.host.adminKey },
    }),
    {
      ...LOOPBACK,
      remoteAddr: { transport: "tcp", hostname: "203.0.113.9", port: 1 },
    },
  );
  assert.equal(remote.status, 403);
  await remote.body?.cancel();
});

Deno.test("a trusted plugin that patches globals cannot make wrong keys pass or break the host's answers", async () => {
  await using tmp = await tempPlugins({
    "patcher/mod.ts": pluginSource("patcher", {
      setup: `
        const digest = crypto.subtle.digest;
        crypto.subtle.digest = async () => new Uint8Array(32).buffer;
        const stringify = JSON.stringify;
        JSON.stringify = () => '"patched"';
        const parse = JSON.parse;
        JSON.parse = () => ({ source: "/etc/evil/mod.ts" });
        const json = Response.json;
        Response.json = () => new Response("patched");
        const hmac = Object.getPrototypeOf(globalThis.__createHmac("sha256", "x"));
        const hmacDigest = hmac.digest;
        hmac.digest = function () { return new Uint8Array(32); };
        const charCodeAt = String.prototype.charCodeAt;
        String.prototype.charCodeAt = function () { return 0; };
        const OriginalResponse = globalThis.Response;
        globalThis.Response = class extends OriginalResponse { constructor(_b, init) { super("patched", init); } };
        ctx.onDispose(() => {
          crypto.subtle.digest = digest; JSON.stringify = stringify; JSON.parse = parse;
          Response.json = json; globalThis.Response = OriginalResponse;
          hmac.digest = hmacDigest; String.prototype.charCodeAt = charCodeAt;
        });`,
    }),
  });
  (globalThis as Record<string, unknown>).__createHmac = (await import("node:crypto")).createHmac;
  await using s = await startServer({ pluginsDir: tmp.dir, apiKey: KEY, trusted: ["patcher"] });
  assert.equal(s.host.get("patcher")?.state, "active", s.host.get("patcher")?.error);
  const restore = () => s.host.unload("patcher");
  try {
    const wrong = await s.host.fetch(new Request("http://x/api/plugins", { headers: { "x-api-key": "wrong" } }));
    assert.equal(wrong.status, 401);
    const body = await wrong.text();
    assert.match(body, /"code":"UNAUTHORIZED"/, body);
    const right = await s.host.fetch(new Request("http://x/api/plugins", { headers: { "x-api-key": KEY } }));
    assert.equal(right.status, 200);
    const list = await right.text();
    assert.match(list, /"name":"patcher"/, list);
    const notFound = await s.host.fetch(new Request("http://x/nowhere"));
    assert.match(await notFound.text(), /"status":404/);
    const health = await s.host.fetch(new Request("http://x/health"));
    assert.match(await health.text(), /"status":"ok"/);
    const badBody = await s.host.fetch(
      new Request("http://x/api/plugins", {
        method: "POST",
        headers: { "x-api-key": KEY, "content-type": "application/json" },
        body: "{}",
      }),
    );
    assert.equal(badBody.status, 400, "the body is parsed with the host's JSON.parse, not the patched one");
    await badBody.body?.cancel();
  } finally {
    await restore();
  }
});

Deno.test("no-key mode: patched String, RegExp and Array prototypes cannot open the admin API or reroute it", async () => {
  await using tmp = await tempPlugins({
    "patcher/mod.ts": pluginSource("patcher", {
      setup: `
        const P = [[String.prototype, "startsWith"], [String.prototype, "endsWith"], [RegExp.prototype, "test"],
          [Array.prototype, "includes"]];
        const saved = P.map(([o, k]) => o[k]);
        String.prototype.startsWith = () => true;
        String.prototype.endsWith = () => true;
        RegExp.prototype.test = () => true;
        Array.prototype.includes = () => true;
        ctx.middleware((c) => c.text("grabbed"));
        ctx.onDispose(() => P.forEach(([o, k], i) => { o[k] = saved[i]; }));`,
    }),
  });
  await using s = await startServer({ pluginsDir: tmp.dir, trusted: ["patcher"] });
  assert.equal(s.host.get("patcher")?.state, "active", s.host.get("patcher")?.error);
  const token = { "x-api-key": s.host.adminKey };
  try {
    const remote = await s.host.fetch(new Request("http://x/api/plugins", { headers: token }), {
      ...LOOPBACK,
      remoteAddr: { transport: "tcp", hostname: "203.0.113.9", port: 1 },
    });
    assert.equal(remote.status, 403, "a non-loopback client is still refused");
    const rebind = await s.host.fetch(
      new Request("http://x/api/plugins", { headers: { host: "rebind.attacker.example", ...token } }),
      LOOPBACK,
    );
    assert.equal(rebind.status, 403, "a foreign Host is still refused");
    const userinfo = await s.host.fetch(
      new Request("http://x/api/plugins", { headers: { host: "localhost:80@rebind.attacker.example", ...token } }),
      LOOPBACK,
    );
    assert.equal(userinfo.status, 403, "a Host with userinfo is still refused");
    const noToken = await s.host.fetch(new Request("http://x/api/plugins"), LOOPBACK);
    assert.equal(noToken.status, 401, "a loopback client without the token is still refused");
    const own = await s.host.fetch(new Request("http://x/api/plugins", { headers: token }), LOOPBACK);
    assert.equal(own.status, 200, "the admin API is still the host's, not the plugin middleware's");
    assert.notEqual(await own.text(), "grabbed");
  } finally {
    await s.host.unload("patcher");
  }
});

Deno.test("request bodies over the limit answer 413 problem+json without being buffered; limits per plugin", async () => {
  await using tmp = await tempPlugins({
    "small/mod.ts": pluginSource("small", {
      setup: "ctx.routes.post('/up', async (c) => c.text(String((await c.req.text()).length)));",
    }),
    "big/mod.ts": pluginSource("big", {
      setup: "ctx.routes.post('/up', async (c) => c.text(String((await c.req.text()).length)));",
    }),
  });
  await using s = await startServer({ pluginsDir: tmp.dir, bodyLimit: 1000, limits: { big: { bodyLimit: 5000 } } });
  const up = (plugin: string, body: BodyInit) => fetch(`${s.base}/api/plugins/${plugin}/up`, { method: "POST", body });
  assert.equal(await (await up("small", "x".repeat(1000))).text(), "1000");
  const tooBig = await json(await up("small", "x".repeat(1001)));
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.type, "application/problem+json");
  assert.equal(tooBig.body.code, "PAYLOAD_TOO_LARGE");
  assert.equal(tooBig.body.plugin, "small");
  assert.match(tooBig.body.detail, /larger than 1000 bytes/);
  assert.equal(await (await up("big", "x".repeat(4000))).text(), "4000");
  assert.equal((await json(await up("big", "x".repeat(5001)))).status, 413);
  // A chunked stream with no Content-Length is cut off at the limit, not read to the end.
  let sent = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent += 512;
      if (sent > 1_000_000) controller.close();
      else controller.enqueue(new Uint8Array(512));
    },
  });
  const streamed = await json(
    await s.host.fetch(
      new Request(`${s.base}/api/plugins/small/up`, { method: "POST", body: endless, duplex: "half" } as RequestInit),
    ),
  );
  assert.equal(streamed.status, 413);
  assert.ok(sent < 1_000_000, `read ${sent} bytes`);
  // The admin API has its own small limit.
  const admin = await json(
    await fetch(`${s.base}/api/plugins`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ source: "x".repeat(70_000) }),
    }),
  );
  assert.equal(admin.status, 413);
});

Deno.test("a plugin route that never answers gets 504 problem+json and the plugin is reported; streams keep flowing", async () => {
  await using tmp = await tempPlugins({
    "stuck/mod.ts": pluginSource("stuck", {
      setup: `ctx.routes.get('/hang', () => new Promise(() => {}));
        ctx.routes.get('/quick', (c) => c.text('ok'));
        ctx.routes.get('/stream', () => new Response(new ReadableStream({
          async start(ctrl) {
            for (let i = 0; i < 3; i++) { await new Promise((r) => setTimeout(r, 80)); ctrl.enqueue(new TextEncoder().encode(String(i))); }
            ctrl.close();
          },
        })));`,
    }),
    "slow/mod.ts": pluginSource("slow", {
      setup:
        "ctx.routes.get('/wait', async (c) => { await new Promise((r) => setTimeout(r, 150)); return c.text('done'); });",
    }),
  });
  await using s = await startServer({
    pluginsDir: tmp.dir,
    routeTimeout: 100,
    limits: { slow: { routeTimeout: 2000 } },
  });
  const errors: { origin: string; plugin?: string }[] = [];
  s.host.events.on("system.error", (e) => errors.push(e));
  const started = performance.now();
  const hung = await json(await fetch(`${s.base}/api/plugins/stuck/hang`));
  assert.ok(performance.now() - started < 2000);
  assert.equal(hung.status, 504);
  assert.equal(hung.type, "application/problem+json");
  assert.equal(hung.body.code, "ROUTE_TIMEOUT");
  assert.equal(hung.body.plugin, "stuck");
  assert.match(hung.body.detail, /did not answer within 100 ms/);
  assert.deepEqual(errors.map((e) => [e.origin, e.plugin]), [["route", "stuck"]]);
  assert.equal(await (await fetch(`${s.base}/api/plugins/stuck/quick`)).text(), "ok");
  assert.equal(
    await (await fetch(`${s.base}/api/plugins/stuck/stream`)).text(),
    "012",
    "a started stream has no deadline",
  );
  assert.equal(await (await fetch(`${s.base}/api/plugins/slow/wait`)).text(), "done", "per-plugin routeTimeout");
  // The plugin's name percent-encoded is still the plugin's: its own deadline, not the host's.
  assert.equal(
    await (await fetch(`${s.base}/api/plugins/%73low/wait`)).text(),
    "done",
    "encoded name, own routeTimeout",
  );
  const encoded = await json(await fetch(`${s.base}/api/plugins/%73tuck/hang`));
  assert.deepEqual([encoded.status, encoded.body.plugin], [504, "stuck"]);
});

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`a route that fails after its 504 went out is still reported, Error or not (isolation: ${isolation})`, () =>
    lateFailures(isolation));
}

async function lateFailures(isolation: "none" | "worker") {
  const after = (what: string) => `async () => { await new Promise((r) => setTimeout(r, 150)); throw ${what}; }`;
  await using tmp = await tempPlugins({
    "late/mod.ts": pluginSource("late", {
      setup: `ctx.routes.get('/error', ${after("new Error('database gone')")});
        ctx.routes.get('/string', ${after("'a plain string'")});
        ctx.routes.post('/error', ${after("new Error('write lost')")});`,
    }),
  });
  await using s = await startServer({ pluginsDir: tmp.dir, isolation, routeTimeout: 50 });
  const errors: { origin: string; plugin?: string; message: string }[] = [];
  s.host.events.on("system.error", (e) => errors.push({ ...e, message: (e.error as Error).message }));
  for (
    const [method, path, thrown] of [["GET", "error", "database gone"], ["GET", "string", "a plain string"], [
      "POST",
      "error",
      "write lost",
    ]]
  ) {
    errors.length = 0;
    const res = await fetch(`${s.base}/api/plugins/late/${path}`, {
      method,
      body: method === "POST" ? "{}" : undefined,
    });
    await res.body?.cancel();
    assert.equal(res.status, 504, `${method} /${path}`);
    for (let waited = 0; errors.length < 2 && waited < 3000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      errors.map((e) => [e.origin, e.plugin, e.message]),
      [
        ["route", "late", `Route ${method} /api/plugins/late/${path} did not answer within 50 ms`],
        ["route", "late", thrown],
      ],
      `${method} /${path}: the timeout, then the failure that came after it`,
    );
  }
}

Deno.test("errors are problem+json: 405 with Allow, 414, strict :action parsing, uniform 404", async () => {
  await using tmp = await tempPlugins({ "hello/mod.ts": HELLO });
  await using s = await startServer({ pluginsDir: tmp.dir });
  for (const method of ["PUT", "PATCH", "OPTIONS"]) {
    const r = await json(await fetch(`${s.base}/api/plugins`, { method }));
    assert.equal(r.status, 405, method);
    assert.equal(r.type, "application/problem+json");
    assert.equal(r.headers.get("allow"), "GET, POST");
  }
  const put = await json(await fetch(`${s.base}/api/plugins/hello`, { method: "PUT" }));
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("allow"), "GET, DELETE");
  // fetch() refuses such URLs, so a raw request (Deno's server itself refuses URLs past ~64 KiB with a bare 400).
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.server.addr.port });
  await conn.write(
    new TextEncoder().encode(
      `GET /api/plugins/hello/${"a".repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    ),
  );
  const raw = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
  assert.match(raw, /^HTTP\/1.1 414 /);
  assert.match(raw, /content-type: application\/problem\+json/i);
  assert.match(raw, /"code":"URI_TOO_LONG"/);
  for (const target of ["hello:reload:purge", ":purge", "hello:", "Hello:reload", "hello:RELOAD", "../hello:reload"]) {
    const r = await fetch(`${s.base}/api/plugins/${target}`, {
      method: "POST",
      headers: { "x-api-key": s.host.adminKey },
    });
    assert.equal(r.status, 404, target);
    assert.equal(r.headers.get("content-type"), "application/problem+json");
    await r.body?.cancel();
  }
  assert.equal(s.host.get("hello")?.reloads, 0, "hello:reload:purge runs no reload");
  // Not loaded and missing route look the same, so plugins cannot be enumerated.
  const missingRoute = await json(await fetch(`${s.base}/api/plugins/hello/nope`));
  const missingPlugin = await json(await fetch(`${s.base}/api/plugins/secret/nope`));
  assert.equal(missingRoute.status, 404);
  assert.equal(missingPlugin.status, 404);
  assert.equal(missingRoute.body.detail.replace("hello", "secret"), missingPlugin.body.detail);
  assert.deepEqual(Object.keys(missingRoute.body).sort(), Object.keys(missingPlugin.body).sort());
});

for (const isolation of ["none", "worker"] as const) {
  Deno.test(
    `a plugin's HTTPException renders as problem+json; malformed JSON to c.req.json() is 400 (isolation: ${isolation})`,
    () => pluginErrors(isolation),
  );
}

async function pluginErrors(isolation: "none" | "worker") {
  await using tmp = await tempPlugins({
    "thrower/mod.ts": `import { HTTPException } from "hono/http-exception";
import { definePlugin } from ${JSON.stringify(MOD_URL)};
export default definePlugin({ name: "thrower", version: "1.0.0", setup(ctx) {
  ctx.routes.get("/teapot", () => { throw new HTTPException(418, { message: "I am a teapot" }); });
  ctx.routes.get("/gone", () => { throw new HTTPException(410); });
  ctx.routes.get("/custom", () => { throw new HTTPException(401, { res: new Response("own", { status: 401 }) }); });
  ctx.routes.post("/echo", async (c) => c.json(await c.req.json()));
} });`,
  });
  await using s = await startServer({ pluginsDir: tmp.dir, isolation });
  const teapot = await json(await fetch(`${s.base}/api/plugins/thrower/teapot`));
  assert.equal(teapot.status, 418);
  assert.equal(teapot.type, "application/problem+json");
  assert.equal(teapot.body.detail, "I am a teapot");
  assert.equal(teapot.body.plugin, "thrower");
  // The title is the status's own phrase, or its class's for a status HTTP does not register (418).
  assert.equal(teapot.body.title, "Client Error");
  const gone = await json(await fetch(`${s.base}/api/plugins/thrower/gone`));
  assert.deepEqual([gone.status, gone.body.title, gone.body.detail], [410, "Gone", "Gone"]);
  const custom = await fetch(`${s.base}/api/plugins/thrower/custom`);
  assert.equal(await custom.text(), "own", "a response the plugin built is kept");
  const bad = await json(
    await fetch(`${s.base}/api/plugins/thrower/echo`, {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    }),
  );
  assert.equal(bad.status, 400);
  assert.equal(bad.type, "application/problem+json");
  assert.match(bad.body.detail, /The request body is not valid JSON/);
  const good = await fetch(`${s.base}/api/plugins/thrower/echo`, { method: "POST", body: '{"a":1}' });
  assert.deepEqual(await good.json(), { a: 1 });
  // A POST without a body, read as JSON: the client's error too, not a failure of the plugin's.
  // (through host.fetch: a request whose body is null, as over HTTP without content-length)
  const empty = await json(
    await s.host.fetch(new Request(`${s.base}/api/plugins/thrower/echo`, { method: "POST" }), LOOPBACK),
  );
  assert.equal(empty.status, 400);
  assert.match(empty.body.detail, /The request body is not valid JSON/);
  assert.equal(s.host.get("thrower")?.failures ?? 0, 0, "no failure is counted against the plugin");
}
