import assert from "node:assert/strict";
import { join } from "node:path";
import { RemoteError, type RemoteLog, RemotePlugins, type RemotePluginsOptions } from "../src/remote/mod.ts";
import { remoteServer, tempDir } from "./fixtures/remote/server.ts";

function recorder(): RemoteLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) };
}

const entry = (version: string) =>
  `import { helper } from "./lib/helper.js";\nexport default { name: "audit", version: "${version}", setup() {}, helper };\n`;

async function setup() {
  const tmp = await tempDir();
  const server = remoteServer({
    "/audit/mod.js": entry("1.0.0"),
    "/audit/lib/helper.js": `export const helper = "v1";`,
  });
  const source = `${server.base}/audit/mod.js`;
  const log = recorder();
  const open = (extra: Partial<RemotePluginsOptions> = {}) =>
    RemotePlugins.open({ cwd: tmp.dir, allowImport: [server.host], log, ...extra });
  return {
    tmp,
    server,
    source,
    log,
    open,
    async [Symbol.asyncDispose]() {
      await server.close();
      await tmp[Symbol.asyncDispose]();
    },
  };
}

Deno.test("RemotePlugins: load pins on first use and logs it; a reload imports a fresh copy; a restart verifies", async () => {
  await using t = await setup();
  const remote = await t.open();
  const first = await remote.prepare(t.source, { plugin: "audit" });
  assert.equal(first.copy, undefined, "the first import uses the snapshot itself");
  const v1 = (await import(first.href)).default;
  assert.equal(await remote.pin(first.remote, v1), true);
  assert.match(t.log.lines[0], /^info Pinned URL plugin "audit" 1\.0\.0 from .* in .*plugboard\.lock, 2 module\(s\): /);

  const reload = await remote.prepare(t.source, { plugin: "audit" });
  assert.ok(reload.copy?.endsWith(`${first.remote.graphHash}@1`));
  assert.notEqual((await import(reload.href)).default, v1, "evaluated afresh");

  const restarted = await t.open();
  assert.deepEqual(restarted.lock.sources(), [t.source]);
  const after = await restarted.prepare(t.source);
  assert.equal(after.remote.status, "pinned");
  assert.equal(await restarted.pin(after.remote, v1), false);
});

Deno.test("RemotePlugins: a tampered helper is refused; update shows it, and pinning the working version re-pins", async () => {
  await using t = await setup();
  const remote = await t.open();
  const first = await remote.prepare(t.source);
  await remote.pin(first.remote, (await import(first.href)).default);
  t.server.set("/audit/lib/helper.js", `export const helper = "v2";`);
  t.server.set("/audit/mod.js", entry("1.1.0"));

  const refused = await remote.prepare(t.source, { plugin: "audit" }).catch((e) => e);
  assert.ok(refused instanceof RemoteError);
  assert.equal(refused.code, "REMOTE_INTEGRITY_MISMATCH");

  const preview = await remote.changes(t.source, "audit");
  assert.equal(preview.status, "changed");
  assert.deepEqual(preview.changes.map((c) => c.url), [`${t.server.base}/audit/lib/helper.js`, t.source]);
  assert.equal(remote.lock.get(t.source)?.version, "1.0.0", "a preview does not re-pin");

  const update = await remote.prepare(t.source, { plugin: "audit", update: true });
  const v2 = (await import(update.href)).default;
  assert.equal(v2.helper, "v2");
  assert.equal(await remote.pin(update.remote, v2), true);
  assert.match(t.log.lines.at(-1)!, /^info Re-pinned URL plugin "audit" 1\.1\.0/);
  assert.equal((await remote.prepare(t.source)).remote.status, "pinned");
});

Deno.test("RemotePlugins: frozen refuses an unpinned plugin and never writes the lock", async () => {
  await using t = await setup();
  const frozen = await t.open({ frozen: true });
  const err = await frozen.prepare(t.source).catch((e) => e);
  assert.equal(err.code, "REMOTE_NOT_PINNED");
  const tiny = `${t.server.base}/tiny.js`;
  const text = `export default { name: "tiny", version: "1.0.0", setup() {} };`;
  t.server.set("/tiny.js", text);
  const { integrityOf } = await import("../src/remote/mod.ts");
  const withIntegrity = await t.open({
    frozen: true,
    integrity: { [tiny]: integrityOf(new TextEncoder().encode(text)) },
  });
  const ok = await withIntegrity.prepare(tiny);
  assert.equal(await withIntegrity.pin(ok.remote, { name: "tiny", version: "1.0.0" }), false);
  await assert.rejects(Deno.stat(join(t.tmp.dir, "plugboard.lock")), Deno.errors.NotFound);
});

Deno.test("RemotePlugins: offline start from the lock and the snapshot, with a warning", async () => {
  await using t = await setup();
  const remote = await t.open();
  const first = await remote.prepare(t.source);
  await remote.pin(first.remote, (await import(first.href)).default);
  await t.server.close();
  const offline = await (await t.open()).prepare(t.source, { plugin: "audit" });
  assert.equal(offline.remote.offline, true);
  assert.ok(t.log.lines.some((l) => l.startsWith(`warn Loading URL plugin "audit" from its snapshot: `)));
  const never = await (await t.open({ offline: true })).prepare(t.source);
  assert.equal(never.remote.offline, true);
});

Deno.test("RemotePlugins: open() removes stale copies and unpinned snapshots; errors map back to URLs", async () => {
  await using t = await setup();
  t.server.set("/boom.js", `import "./lib/throws.js";`);
  t.server.set("/lib/throws.js", `throw new Error("boom at " + import.meta.url);`);
  const remote = await t.open();
  const first = await remote.prepare(t.source);
  await remote.pin(first.remote, (await import(first.href)).default);
  await remote.prepare(t.source); // a copy, left behind as by a crash
  const boom = await remote.prepare(`${t.server.base}/boom.js`);
  const err = await import(boom.href).catch((e) => e);
  assert.equal(boom.mapPaths(err.message), `boom at ${t.server.base}/lib/throws.js`);
  assert.ok(t.log.lines.length >= 1);

  await t.open();
  const left = [...Deno.readDirSync(join(t.tmp.dir, ".plugboard", "remote"))].map((e) => e.name);
  assert.deepEqual(left, [first.remote.graphHash]);
});

Deno.test("RemotePlugins: computed dynamic imports are logged as not checked", async () => {
  await using t = await setup();
  t.server.set(
    "/dyn.js",
    `export default { name: "dyn", version: "1.0.0", setup() { return import(globalThis.x); } };`,
  );
  const remote = await t.open();
  await remote.prepare(`${t.server.base}/dyn.js`, { plugin: "dyn" });
  assert.deepEqual(t.log.lines, [
    `warn URL plugin "dyn": ${t.server.base}/dyn.js runs import(globalThis.x), which is not fetched, pinned or checked ahead`,
  ]);
});
