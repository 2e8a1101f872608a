/**
 * URL plugins through the host: pinned in plugboard.lock on first load,
 * refused when a module changed (on restart too), frozen hosts refuse what is
 * not pinned, pinned plugins start offline, and `:update` over HTTP.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { LOOPBACK, quietHost, serveStatic, tempPlugins } from "./_helpers.ts";

const MOD = `import { word } from "./word.js";
export default { name: "greet", version: "1.0.0", setup(ctx) {
  ctx.routes.get("/", (c) => c.text(word));
  ctx.routes.get("/late", async (c) => c.text((await import(new URL("./late.js", import.meta.url).href.replace(/^file:.*$/, c.req.query("from") ?? ""))).late));
} };`;

async function fixture() {
  const tmp = await tempPlugins({
    "remote/greet/mod.js": MOD,
    "remote/greet/word.js": `export const word = "v1";`,
    "remote/greet/late.js": `export const late = "late";`,
  });
  const files = serveStatic(join(tmp.dir, "remote"));
  const source = `${files.base}/greet/mod.js`;
  const host = (options: Parameters<typeof quietHost>[0] = {}) =>
    quietHost({
      pluginsDir: null,
      allowImport: [files.host],
      lockFile: join(tmp.dir, "plugboard.lock"),
      dataDir: join(tmp.dir, "data"),
      cwd: tmp.dir,
      plugins: [source],
      ...options,
    });
  return {
    tmp,
    files,
    source,
    host,
    async [Symbol.asyncDispose]() {
      await files[Symbol.asyncDispose]();
      await tmp[Symbol.asyncDispose]();
    },
  };
}

const text = async (res: Response | Promise<Response>) => await (await res).text();

Deno.test("a tampered module is refused after a restart, with the module, the pinned and the new hash", async () => {
  await using f = await fixture();
  const first = f.host();
  await first.start();
  assert.equal(first.get("greet")!.state, "active");
  await first.stop();
  await f.tmp.write("remote/greet/word.js", `export const word = "tampered";`);
  const second = f.host();
  await second.start();
  try {
    const info = second.get("greet") ?? second.list()[0];
    assert.equal(info.state, "failed");
    assert.equal(info.errorCode, "REMOTE_INTEGRITY_MISMATCH");
    assert.match(info.error!, /word\.js/);
    assert.match(info.error!, /sha256-[A-Za-z0-9+/]{43}=.*sha256-[A-Za-z0-9+/]{43}=/s);
  } finally {
    await second.stop();
  }
});

Deno.test("a frozen host refuses a URL plugin the lock does not pin, and writes no lock", async () => {
  await using f = await fixture();
  const host = f.host({ frozen: true });
  await host.start();
  try {
    const info = host.list()[0];
    assert.equal(info.state, "failed");
    assert.equal(info.errorCode, "REMOTE_NOT_PINNED");
    assert.deepEqual(f.files.requests, [], "nothing fetched");
    await assert.rejects(Deno.stat(join(f.tmp.dir, "plugboard.lock")), Deno.errors.NotFound);
  } finally {
    await host.stop();
  }
});

Deno.test("a pinned URL plugin starts offline from its snapshot; without one it fails alone, with the reason", async () => {
  await using f = await fixture();
  const first = f.host();
  await first.start();
  await first.stop();
  await f.files[Symbol.asyncDispose]();
  const offline = f.host({ offline: true });
  await offline.start();
  try {
    assert.equal(offline.get("greet")!.state, "active");
    assert.equal(await text(offline.fetch(new Request("http://x/api/plugins/greet/"), LOOPBACK)), "v1");
  } finally {
    await offline.stop();
  }
  await Deno.remove(join(f.tmp.dir, ".plugboard", "remote"), { recursive: true });
  const missing = f.host({ offline: true });
  await missing.start();
  try {
    const info = missing.list()[0];
    assert.equal(info.state, "failed");
    assert.equal(info.errorCode, "REMOTE_SNAPSHOT_MISSING");
  } finally {
    await missing.stop();
  }
});

Deno.test("POST /api/plugins/<name>:update shows what changed; ?apply=true takes it", async () => {
  await using f = await fixture();
  const host = f.host({ apiKey: "a-long-enough-admin-key-0001" });
  await host.start();
  try {
    await f.tmp.write("remote/greet/word.js", `export const word = "v2";`);
    const headers = { "x-api-key": "a-long-enough-admin-key-0001" };
    const call = (path: string) =>
      host.fetch(new Request(`http://127.0.0.1${path}`, { method: "POST", headers }), LOOPBACK);
    const reload = await call("/api/plugins/greet:reload");
    assert.equal(reload.status, 409);
    const problem = await reload.json();
    assert.equal(problem.code, "REMOTE_INTEGRITY_MISMATCH");
    assert.deepEqual(problem.changes.map((c: { url: string }) => c.url), [`${f.files.base}/greet/word.js`]);
    const preview = await (await call("/api/plugins/greet:update")).json();
    assert.equal(preview.applied, false);
    assert.equal(preview.changes[0].kind, "changed");
    assert.equal(await text(host.fetch(new Request("http://x/api/plugins/greet/"), LOOPBACK)), "v1");
    const applied = await (await call("/api/plugins/greet:update?apply=true")).json();
    assert.equal(applied.applied, true);
    assert.equal(await text(host.fetch(new Request("http://x/api/plugins/greet/"), LOOPBACK)), "v2");
  } finally {
    await host.stop();
  }
});

Deno.test("an isolated URL plugin cannot import from its server at run time unless it declares the host", async () => {
  await using f = await fixture();
  const host = f.host({ isolation: "worker" });
  await host.start();
  try {
    assert.equal(host.get("greet")!.state, "active");
    assert.equal(host.get("greet")!.isolation, "worker");
    assert.equal(await text(host.fetch(new Request("http://x/api/plugins/greet/"), LOOPBACK)), "v1");
    const late = await host.fetch(
      new Request(`http://x/api/plugins/greet/late?from=${encodeURIComponent(`${f.files.base}/greet/late.js`)}`),
      LOOPBACK,
    );
    assert.equal(late.status, 500, "the run-time import is refused");
    await late.body?.cancel();
    assert.ok(
      host.logs.some((r) => /route error in plugin "greet": Plugin "greet" may not import from/.test(r.message)),
    );
  } finally {
    await host.stop();
  }
});
