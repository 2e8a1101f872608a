import assert from "node:assert/strict";
import { join } from "node:path";
import { serve } from "../mod.ts";
import { pluginSource, quietHost, serveStatic, tempPlugins } from "./_helpers.ts";

async function startServer(options: Parameters<typeof quietHost>[0] = {}) {
  const host = quietHost(options);
  await host.start();
  const server = serve(host, { port: 0, hostname: "127.0.0.1" });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    // With the host's admin key (its own token: no apiKey is set); plugin routes ignore it.
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { "x-api-key": host.adminKey, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch { /* a plugin's text route */ }
    // deno-lint-ignore no-explicit-any
    return { status: res.status, body: parsed as any };
  };
  return { host, server, base, call, [Symbol.asyncDispose]: () => server.shutdown() };
}

/** A plugin that counts its disposals in a global, so the test can see onDispose run. */
const counted = (name: string) =>
  pluginSource(name, {
    setup: `ctx.routes.get("/", (c) => c.text(${JSON.stringify(name)}));
      ctx.onDispose(() => { globalThis.__disposed ??= []; globalThis.__disposed.push(${JSON.stringify(name)}); });`,
  });

function disposed(): string[] {
  return (globalThis as { __disposed?: string[] }).__disposed ?? [];
}

Deno.test("a refused or failed admin load never touches another plugin's record (issue 11.1)", async () => {
  (globalThis as { __disposed?: string[] }).__disposed = [];
  await using tmp = await tempPlugins({
    "plugins/hello/mod.ts": counted("hello"),
    "plugins/analytics/mod.ts": counted("analytics"),
  });
  const s = await startServer({ pluginsDir: join(tmp.dir, "plugins"), cwd: tmp.dir });
  try {
    const before = (await s.call("GET", "/api/plugins/hello")).body;
    const attempts: [string, number][] = [
      ["/etc/hello/mod.ts", 403],
      ["./plugins/nowhere/analytics.ts", 404],
      ["  ./plugins/hello/mod.ts", 409],
      ["./plugins/hello/mod.ts", 409],
    ];
    for (const [source, status] of attempts) {
      const r = await s.call("POST", "/api/plugins", { source });
      assert.equal(r.status, status, `${source}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code !== undefined, true);
    }
    for (const name of ["hello", "analytics"]) {
      const info = (await s.call("GET", `/api/plugins/${name}`)).body;
      assert.equal(info.state, "active", name);
      assert.equal(info.source, join(tmp.dir, "plugins", name, "mod.ts"), name);
    }
    assert.deepEqual((await s.call("GET", "/api/plugins/hello")).body, before);
    const names = (await s.call("GET", "/api/plugins")).body.plugins.map((p: { name: string }) => p.name);
    assert.deepEqual(names.sort(), ["analytics", "hello"], "no guessed or hello-duplicate entries");
    assert.deepEqual((await s.call("GET", "/health")).body, { status: "ok", plugins: { active: 2 } });

    const reloaded = await s.call("POST", "/api/plugins/hello:reload");
    assert.equal(reloaded.status, 200);
    assert.equal(reloaded.body.source, join(tmp.dir, "plugins", "hello", "mod.ts"), "reload uses the right source");
    assert.deepEqual(disposed(), ["hello"], "the reload disposed the old version");

    const deleted = await s.call("DELETE", "/api/plugins/hello");
    assert.equal(deleted.status, 200);
    assert.equal((await s.call("GET", "/api/plugins/hello/")).status, 404, "its routes stop answering");
    assert.deepEqual(disposed(), ["hello", "hello"]);
    const again = await s.call("POST", "/api/plugins", { source: "./plugins/hello/mod.ts" });
    assert.equal(again.status, 201, "loading it again works without a restart");
    assert.equal((await s.call("GET", "/api/plugins/hello/")).body, "hello");
  } finally {
    await s.server.shutdown();
  }
  assert.deepEqual(disposed().sort(), ["analytics", "hello", "hello", "hello"], "onDispose runs on shutdown");
});

Deno.test("only plugins the host was configured with are tracked as failed", async () => {
  await using tmp = await tempPlugins({
    "plugins/hello/mod.ts": pluginSource("hello"),
    "plugins/broken/mod.ts": "export default 1;",
    "plugins/later/mod.ts": "export default { name: 'later', version: '1.0.0', setup() { throw new Error('no'); } };",
  });
  await using s = await startServer({ pluginsDir: join(tmp.dir, "plugins"), cwd: tmp.dir });
  assert.deepEqual((await s.call("GET", "/health")).body.plugins, { active: 1, failed: 2 });
  const r = await s.call("POST", "/api/plugins", { source: "./plugins/later/mod.ts" });
  assert.equal(r.status, 422);
  const refused = await s.call("POST", "/api/plugins", { source: "data:text/javascript,export default 1" });
  assert.equal(refused.status, 403);
  assert.deepEqual(
    (await s.call("GET", "/health")).body.plugins,
    { active: 1, failed: 2 },
    "admin failures not counted",
  );
});

Deno.test("sources: a folder loads its mod.ts, a plain name is looked up in pluginsDir, tricks are refused", async () => {
  await using tmp = await tempPlugins({
    "plugins/agent-enhancer/mod.ts": pluginSource("agent-enhancer"),
    "plugins/folder-one/mod.ts": pluginSource("folder-one"),
    "plugins/empty/README.md": "no mod.ts",
    "outside/evil/mod.ts": pluginSource("evil"),
  });
  await Deno.symlink(join(tmp.dir, "outside", "evil"), join(tmp.dir, "plugins", "linked"));
  await using s = await startServer({ pluginsDir: null, allowRead: [join(tmp.dir, "plugins")], cwd: tmp.dir });
  const folder = await s.call("POST", "/api/plugins", { source: "./plugins/folder-one" });
  assert.equal(folder.status, 201, JSON.stringify(folder.body));
  assert.equal(folder.body.name, "folder-one");
  assert.equal((await s.call("POST", "/api/plugins/folder-one:reload")).status, 200, "a reload finds mod.ts again");
  const noMod = await s.call("POST", "/api/plugins", { source: "./plugins/empty" });
  assert.equal(noMod.status, 404);
  assert.match(noMod.body.detail, /is a folder without a mod\.ts/);
  const plainOff = await s.call("POST", "/api/plugins", { source: "agent-enhancer" });
  assert.equal(plainOff.status, 404);
  assert.match(plainOff.body.detail, /plain name, which is looked up in the plugins folder, but discovery is off/);

  await using d = await startServer({ pluginsDir: join(tmp.dir, "plugins"), cwd: tmp.dir });
  await d.call("DELETE", "/api/plugins/agent-enhancer");
  const plain = await d.call("POST", "/api/plugins", { source: "agent-enhancer" });
  assert.equal(plain.status, 201, JSON.stringify(plain.body));
  assert.equal(plain.body.name, "agent-enhancer");
  assert.equal(plain.body.state, "active");
  const missing = await d.call("POST", "/api/plugins", { source: "nowhere" });
  assert.equal(missing.status, 404);
  assert.match(missing.body.detail, /there is no plugin "nowhere" in the plugins folder/);
  for (
    const source of [
      "../outside/evil/mod.ts",
      join(tmp.dir, "outside", "evil", "mod.ts"),
      "./plugins/%2e%2e/outside/evil/mod.ts",
      `file://${join(tmp.dir, "outside", "evil", "mod.ts")}`,
      "./plugins/linked/mod.ts",
      "./plugins/linked",
      "data:text/javascript,export default 1",
      "blob:http://x/1",
      "jsr:@std/path",
      "npm:hono",
      "node:fs",
    ]
  ) {
    const r = await d.call("POST", "/api/plugins", { source });
    assert.ok(r.status === 403 || r.status === 404, `${source}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  assert.equal(d.host.get("evil"), undefined);
});

Deno.test("DELETE with cascade lists what it unloaded", async () => {
  await using tmp = await tempPlugins({
    "plugins/base/mod.ts": pluginSource("base"),
    "plugins/top/mod.ts": pluginSource("top", { dependencies: { base: "^1.0.0" } }),
  });
  await using s = await startServer({ pluginsDir: join(tmp.dir, "plugins") });
  const r = await s.call("DELETE", "/api/plugins/base?cascade=true");
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.unloaded, ["top", "base"]);
  assert.equal(r.body.state, "unloaded");
});

Deno.test("URL sources: userinfo, port, IPv6-mapped and decimal-IP tricks are normalised or refused", async () => {
  await using tmp = await tempPlugins({
    "remote/echo/mod.js": `export default { name: "echo", version: "1.0.0", setup() {} };`,
  });
  await using files = serveStatic(join(tmp.dir, "remote"));
  const port = files.host.split(":")[1];
  await using s = await startServer({ pluginsDir: null, allowImport: [files.host] });
  const refused = [
    `http://127.0.0.1:${Number(port) === 65535 ? 65534 : Number(port) + 1}/echo/mod.js`,
    `http://[::ffff:127.0.0.1]:${port}/echo/mod.js`,
    `http://localhost:${port}/echo/mod.js`,
    `http://127.0.0.1.nip.io:${port}/echo/mod.js`,
  ];
  for (const source of refused) {
    const r = await s.call("POST", "/api/plugins", { source });
    assert.equal(r.status, 403, `${source}: ${JSON.stringify(r.body)}`);
  }
  // The URL parser normalises these to the allowed 127.0.0.1:<port>, so they are the same, allowed host.
  const decimal = await s.call("POST", "/api/plugins", { source: `http://2130706433:${port}/echo/mod.js` });
  assert.equal(decimal.status, 201, JSON.stringify(decimal.body));
  const userinfo = await s.call("POST", "/api/plugins", { source: `http://evil@127.0.0.1:${port}/echo/mod.js` });
  assert.equal(userinfo.status, 409, "the same plugin: already active");
  assert.deepEqual(files.requests.filter((p) => !p.startsWith("/echo/")), []);
});
