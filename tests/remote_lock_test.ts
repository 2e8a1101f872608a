import assert from "node:assert/strict";
import { join } from "node:path";
import {
  copySnapshot,
  integrityOf,
  PluginLock,
  RemoteError,
  type RemotePlugin,
  type ResolveRemoteOptions,
  resolveRemotePlugin,
} from "../src/remote/mod.ts";
import { removeStaleRemoteSnapshots } from "../src/remote/snapshot_copies.ts";
import { remoteServer, tempDir } from "./fixtures/remote/server.ts";

const sri = (text: string) => integrityOf(new TextEncoder().encode(text));

async function refusal(promise: Promise<unknown>): Promise<RemoteError> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${error}`);
  return error;
}

/** What the loader will do after a successful load: record the pins with the manifest's name and version. */
async function pin(lock: PluginLock, resolved: RemotePlugin, entryUrl = resolved.entryUrl) {
  const mod = await import(entryUrl);
  lock.set(resolved.source, { ...resolved.pins, name: mod.default.name, version: mod.default.version });
  await lock.write();
  return mod.default;
}

function plugin(version: string, helperImport = `import { helper } from "./lib/helper.js";`) {
  return `${helperImport}\nexport default { name: "audit", version: "${version}", setup() {}, helper };\n`;
}

async function setup() {
  const tmp = await tempDir();
  const server = remoteServer({
    "/audit/mod.js": plugin("1.0.0"),
    "/audit/lib/helper.js": `export const helper = "v1";\n`,
  });
  const source = `${server.base}/audit/mod.js`;
  const lockPath = join(tmp.dir, "plugboard.lock");
  const options = async (extra: Partial<ResolveRemoteOptions> = {}): Promise<ResolveRemoteOptions> => ({
    allowImport: [server.host],
    lock: await PluginLock.read(lockPath), // a fresh read, as after a restart
    snapshotRoot: join(tmp.dir, "remote"),
    plugin: "audit",
    ...extra,
  });
  return {
    tmp,
    server,
    source,
    lockPath,
    options,
    async [Symbol.asyncDispose]() {
      await server.close();
      await tmp[Symbol.asyncDispose]();
    },
  };
}

Deno.test("first load records the pins (trust on first use); the lock file is stable and sorted", async () => {
  await using t = await setup();
  const options = await t.options();
  const first = await resolveRemotePlugin(t.source, options);
  assert.equal(first.status, "new");
  const meta = await pin(options.lock, first);
  assert.equal(meta.helper, "v1");
  const text = await Deno.readTextFile(t.lockPath);
  assert.equal(
    text,
    JSON.stringify(
      {
        lockfileVersion: 1,
        plugins: {
          [t.source]: {
            name: "audit",
            version: "1.0.0",
            modules: {
              [`${t.server.base}/audit/lib/helper.js`]: sri(`export const helper = "v1";\n`),
              [t.source]: sri(plugin("1.0.0")),
            },
          },
        },
      },
      null,
      2,
    ) + "\n",
  );
  const again = await resolveRemotePlugin(t.source, await t.options());
  assert.equal(again.status, "pinned");
  assert.equal(again.dir, first.dir, "an unchanged graph keeps its snapshot folder");
  assert.equal(again.reused, true);
});

Deno.test("a tampered nested module is refused on reload and after a restart, with url, pinned and new hash", async () => {
  await using t = await setup();
  const options = await t.options();
  await pin(options.lock, await resolveRemotePlugin(t.source, options));
  const pinned = sri(`export const helper = "v1";\n`);
  const tampered = `export const helper = "evil";\n`;
  t.server.set("/audit/lib/helper.js", tampered);
  // Reload: same lock object. Restart: the lock read again from disk.
  for (const lock of [options.lock, await PluginLock.read(t.lockPath)]) {
    const err = await refusal(resolveRemotePlugin(t.source, { ...options, lock }));
    assert.equal(err.code, "REMOTE_INTEGRITY_MISMATCH");
    const url = `${t.server.base}/audit/lib/helper.js`;
    assert.deepEqual(err.changes, [{ url, kind: "changed", pinned, current: sri(tampered) }]);
    assert.equal(
      err.message,
      `Cannot load plugin "audit" from "${t.source}": 1 module changed since it was pinned in plugboard.lock:\n` +
        `changed ${url}: pinned ${pinned}, now ${sri(tampered)}\n` +
        `Review the change, then update the plugin (POST /api/plugins/<name>:update) to re-pin it`,
    );
  }
  assert.equal(
    JSON.parse(await Deno.readTextFile(t.lockPath)).plugins[t.source].modules[`${t.server.base}/audit/lib/helper.js`],
    pinned,
  );
});

Deno.test("a module added to the graph is a change too", async () => {
  await using t = await setup();
  const options = await t.options();
  await pin(options.lock, await resolveRemotePlugin(t.source, options));
  t.server.set("/audit/mod.js", plugin("1.0.0", `import { helper } from "./lib/helper.js"; import "./extra.js";`));
  t.server.set("/audit/extra.js", "");
  const err = await refusal(resolveRemotePlugin(t.source, await t.options()));
  assert.deepEqual(err.changes.map((c) => [c.kind, c.url]), [
    ["added", `${t.server.base}/audit/extra.js`],
    ["changed", t.source],
  ]);
});

Deno.test("update mode returns the changes; re-pinning makes verify pass; the changed nested file is picked up", async () => {
  await using t = await setup();
  const options = await t.options();
  const first = await resolveRemotePlugin(t.source, options);
  await pin(options.lock, first);
  t.server.set("/audit/mod.js", plugin("1.1.0"));
  t.server.set("/audit/lib/helper.js", `export const helper = "v2";\n`);

  const update = await resolveRemotePlugin(t.source, { ...options, mode: "update" });
  assert.equal(update.status, "changed");
  assert.deepEqual(update.changes.map((c) => [c.kind, c.url, c.current]), [
    ["changed", `${t.server.base}/audit/lib/helper.js`, sri(`export const helper = "v2";\n`)],
    ["changed", t.source, sri(plugin("1.1.0"))],
  ]);
  assert.notEqual(update.dir, first.dir, "a changed graph gets a new snapshot folder");
  assert.deepEqual(options.lock.get(t.source)?.version, "1.0.0", "update mode does not re-pin by itself");
  const meta = await pin(options.lock, update);
  assert.equal(meta.helper, "v2", "the nested file was re-fetched");
  assert.equal(meta.version, "1.1.0");

  const verified = await resolveRemotePlugin(t.source, await t.options());
  assert.equal(verified.status, "pinned");
  assert.equal(verified.dir, update.dir);
});

Deno.test("a plain reload of an unchanged pinned plugin re-checks and evaluates a fresh copy of the snapshot", async () => {
  await using t = await setup();
  t.server.set("/audit/lib/helper.js", `export const helper = { loads: 0 }; helper.loads++;\n`);
  const options = await t.options();
  const first = await resolveRemotePlugin(t.source, options);
  const meta = await pin(options.lock, first);
  const requests = t.server.requests.length;
  const again = await resolveRemotePlugin(t.source, options);
  assert.ok(t.server.requests.length > requests, "the graph was fetched again to check it");
  assert.equal(again.dir, first.dir);
  const copy = await copySnapshot(again, 1);
  const fresh = (await import(copy.entryUrl)).default;
  assert.notEqual(fresh.helper, meta.helper, "the copy evaluates every module afresh");
  assert.deepEqual(await removeStaleRemoteSnapshots(options.snapshotRoot), [`${first.graphHash}@1`]);
});

Deno.test("frozen refuses an unpinned plugin before fetching anything", async () => {
  await using t = await setup();
  const err = await refusal(resolveRemotePlugin(t.source, await t.options({ frozen: true })));
  assert.equal(err.code, "REMOTE_NOT_PINNED");
  assert.match(
    err.message,
    /it is not pinned in plugboard\.lock, and the lock is frozen; load it once without --frozen/,
  );
  assert.deepEqual(t.server.requests, []);
});

Deno.test("frozen accepts a pinned plugin, and an inline integrity pins only a one-module plugin", async () => {
  await using t = await setup();
  const options = await t.options();
  await pin(options.lock, await resolveRemotePlugin(t.source, options));
  assert.equal((await resolveRemotePlugin(t.source, await t.options({ frozen: true }))).status, "pinned");

  const single = `${t.server.base}/single.js`;
  const text = `export default { name: "single", version: "1.0.0", setup() {} };`;
  t.server.set("/single.js", text);
  const ok = await resolveRemotePlugin(single, await t.options({ frozen: true, integrity: sri(text) }));
  assert.equal(ok.status, "new");
  const err = await refusal(resolveRemotePlugin(t.source, {
    ...(await t.options({ frozen: true, integrity: sri(plugin("1.0.0")) })),
    lock: new PluginLock(),
  }));
  assert.equal(err.code, "REMOTE_NOT_PINNED");
  assert.match(
    err.message,
    /its integrity pins only the entry, and the lock is frozen: 1 more module\(s\) have no pin/,
  );
});

Deno.test("an inline integrity that does not match refuses the plugin, in update mode too", async () => {
  await using t = await setup();
  const expected = sri("something else");
  for (const mode of ["verify", "update"] as const) {
    const err = await refusal(resolveRemotePlugin(t.source, await t.options({ integrity: expected, mode })));
    assert.equal(err.code, "REMOTE_INTEGRITY_MISMATCH");
    assert.ok(
      err.message.includes(
        `its entry "${t.source}" does not match the source's integrity: expected ${expected}, got ${
          sri(plugin("1.0.0"))
        }`,
      ),
      err.message,
    );
  }
  await assert.rejects(resolveRemotePlugin(t.source, await t.options({ integrity: "sha256-nope" })), TypeError);
});

Deno.test("offline start: with the server down, a pinned plugin starts from the lock and the snapshot", async () => {
  await using t = await setup();
  const options = await t.options();
  const first = await resolveRemotePlugin(t.source, options);
  await pin(options.lock, first);
  await t.server.close();
  const offline = await resolveRemotePlugin(t.source, await t.options({ timeoutMs: 500 }));
  assert.equal(offline.offline, true);
  assert.match(offline.offlineReason!, /cannot reach/);
  assert.equal(offline.status, "pinned");
  assert.equal(offline.dir, first.dir);
  assert.equal((await import((await copySnapshot(offline, 7)).entryUrl)).default.helper, "v1");
  const never = await resolveRemotePlugin(t.source, await t.options({ network: "never" }));
  assert.equal(never.offline, true);
});

Deno.test("offline start still checks allowImport, and a redirect that moved is a change", async () => {
  await using t = await setup();
  t.server.set("/audit/mod.js", plugin("1.0.0", `import { helper } from "./lib/old-helper.js";`));
  t.server.set("/audit/lib/old-helper.js", { location: "/audit/lib/helper.js" });
  const options = await t.options();
  await pin(options.lock, await resolveRemotePlugin(t.source, options));
  const narrowed = await refusal(resolveRemotePlugin(t.source, await t.options({ network: "never", allowImport: [] })));
  assert.equal(narrowed.code, "REMOTE_NOT_ALLOWED");
  t.server.set("/audit/lib/old-helper.js", { location: "/audit/lib/helper2.js" });
  t.server.set("/audit/lib/helper2.js", `export const helper = "v1";\n`);
  const moved = await refusal(resolveRemotePlugin(t.source, await t.options()));
  assert.deepEqual(moved.changes.filter((c) => c.kind === "redirect"), [{
    url: `${t.server.base}/audit/lib/old-helper.js`,
    kind: "redirect",
    pinned: `${t.server.base}/audit/lib/helper.js`,
    current: `${t.server.base}/audit/lib/helper2.js`,
  }]);
});

Deno.test("offline start checks every redirect hop of the lock against allowImport", async () => {
  await using t = await setup();
  await using other = remoteServer({ "/helper.js": `export const helper = "elsewhere";\n` });
  t.server.set("/audit/lib/helper.js", { location: `${other.base}/helper.js` });
  const options = await t.options({ allowImport: [t.server.host, other.host] });
  await pin(options.lock, await resolveRemotePlugin(t.source, options));
  const err = await refusal(resolveRemotePlugin(t.source, await t.options({ network: "never" })));
  assert.equal(err.code, "REMOTE_NOT_ALLOWED");
  assert.equal(err.url, `${other.base}/helper.js`);
  const ok = await resolveRemotePlugin(
    t.source,
    await t.options({ network: "never", allowImport: [t.server.host, other.host] }),
  );
  assert.equal(ok.offline, true);
});

Deno.test("offline start fails that plugin with the reason when the snapshot or the pin is missing", async () => {
  await using t = await setup();
  const options = await t.options();
  const first = await resolveRemotePlugin(t.source, options);
  await t.server.close();
  const unpinned = await refusal(resolveRemotePlugin(t.source, await t.options()));
  assert.equal(unpinned.code, "REMOTE_FETCH_FAILED", "unpinned: the network error itself");
  const never = await refusal(resolveRemotePlugin(t.source, await t.options({ network: "never" })));
  assert.equal(never.code, "REMOTE_SNAPSHOT_MISSING");
  assert.match(never.message, /plugboard\.lock does not pin it, so there is no snapshot to start from/);

  await pin(options.lock, first);
  await Deno.remove(first.dir, { recursive: true });
  const missing = await refusal(resolveRemotePlugin(t.source, await t.options()));
  assert.equal(missing.code, "REMOTE_SNAPSHOT_MISSING");
  assert.ok(missing.message.includes(`the server cannot be reached (`), missing.message);
  assert.ok(missing.message.includes(`and its snapshot ${first.dir} is missing`), missing.message);
});

Deno.test("offline start refuses a snapshot altered on disk", async () => {
  await using t = await setup();
  const options = await t.options();
  const first = await resolveRemotePlugin(t.source, options);
  await pin(options.lock, first);
  const helper = first.modules.find((m) => m.url.endsWith("/helper.js"))!;
  await Deno.writeTextFile(helper.path, `export const helper = "patched";\n`);
  const err = await refusal(resolveRemotePlugin(t.source, await t.options({ network: "never" })));
  assert.equal(err.code, "REMOTE_INTEGRITY_MISMATCH");
  assert.match(err.message, /its snapshot's copy of ".*\/audit\/lib\/helper\.js" does not match plugboard\.lock/);
  // Online, the altered folder is rewritten from what the server serves (which matches the pins).
  const online = await resolveRemotePlugin(t.source, await t.options());
  assert.equal(online.reused, false);
  assert.equal(await Deno.readTextFile(helper.path), `export const helper = "v1";\n`);
});

Deno.test("PluginLock refuses a malformed file with the field and the fix", async () => {
  await using tmp = await tempDir();
  const path = join(tmp.dir, "plugboard.lock");
  await Deno.writeTextFile(path, "{ nope");
  const notJson = await refusal(PluginLock.read(path));
  assert.equal(notJson.code, "REMOTE_LOCK_INVALID");
  assert.match(notJson.message, /^Cannot read .*plugboard\.lock: it is not JSON .*Fix the file, or delete it/);
  await Deno.writeTextFile(path, JSON.stringify({ lockfileVersion: 2, plugins: {} }));
  assert.match((await refusal(PluginLock.read(path))).message, /expected \{ "lockfileVersion": 1/);
  const lock = await PluginLock.read(join(tmp.dir, "absent.lock"));
  assert.deepEqual(lock.sources(), []);
  assert.equal(lock.dirty, false);
  lock.set("http://h:1/b.js", { modules: {} });
  lock.set("http://h:1/a.js", { modules: {}, redirects: {} });
  assert.equal(lock.dirty, true);
  assert.deepEqual(lock.sources(), ["http://h:1/a.js", "http://h:1/b.js"]);
  await lock.write();
  assert.equal(lock.dirty, false);
  assert.deepEqual([...Deno.readDirSync(tmp.dir)].map((e) => e.name).sort(), ["absent.lock", "plugboard.lock"]);
  assert.ok(lock.delete("http://h:1/a.js"));
  assert.ok(!lock.delete("http://h:1/a.js"));
});
