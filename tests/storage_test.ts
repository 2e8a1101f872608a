import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { KeyExistsError, openPluginStorage, PluginError, Storage, StorageBusyError } from "../mod.ts";
import { LOOPBACK, pluginSource, quietHost, tempPlugins } from "./_helpers.ts";

const denied = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof PluginError, String(e));
  assert.equal(e.code, "PERMISSION_DENIED");
  assert.match(e.message, pattern);
  return true;
};

Deno.test("kv: get, set, add, delete, list by prefix, update", () => {
  using store = openPluginStorage({ name: "tasks", dir: ":memory:" });
  const kv = store.kv;
  assert.equal(kv.get("missing"), undefined);
  kv.set("task:2", { title: "b" });
  kv.add("task:1", { title: "a" });
  kv.set("other", 1);
  assert.deepEqual(kv.get("task:1"), { title: "a" });
  assert.deepEqual(kv.list("task:").map((e) => e.key), ["task:1", "task:2"]);
  assert.equal(kv.update<number>("n", (v) => (v ?? 10) + 1), 11);
  assert.equal(kv.delete("other"), true);
  assert.equal(kv.delete("other"), false);
  assert.deepEqual(kv.list().map((e) => e.key), ["n", "task:1", "task:2"]);
});

Deno.test("kv: add() never overwrites: it throws KeyExistsError (CONFLICT) naming the key", () => {
  using store = openPluginStorage({ name: "tasks", dir: ":memory:" });
  store.kv.add("task:1", { v: 1 });
  assert.throws(() => store.kv.add("task:1", { v: 2 }), (e: unknown) => {
    assert.ok(e instanceof KeyExistsError);
    assert.equal(e.code, "CONFLICT");
    assert.equal(e.key, "task:1");
    assert.match(e.message, /Cannot add "task:1" to the storage of plugin "tasks": the key is already stored/);
    return true;
  });
  assert.deepEqual(store.kv.get("task:1"), { v: 1 });
});

Deno.test("kv: list(prefix) is exact for any script: '😀' finds '😀x', not '😁' or 'a'", () => {
  using store = openPluginStorage({ name: "p", dir: ":memory:" });
  for (const key of ["😀x", "😀", "😁", "a", "😀😀", "é", "éa"]) store.kv.set(key, key);
  assert.deepEqual(store.kv.list("😀").map((e) => e.key), ["😀", "😀x", "😀😀"]);
  assert.deepEqual(store.kv.list("é").map((e) => e.key), ["é", "éa"]);
  assert.deepEqual(store.kv.list("zz"), []);
});

Deno.test("kv: a bad write throws with the key and plugin, and loses nothing", () => {
  using store = openPluginStorage({ name: "p", dir: ":memory:" });
  const kv = store.kv;
  kv.set("k", 1);
  assert.throws(() => kv.set("k", 10n), /Cannot store "k" for plugin "p": the value is not JSON-serializable/);
  assert.throws(() => kv.set("k", undefined), /undefined is not JSON; use delete\(\) to remove a key/);
  assert.throws(() => kv.set("", 1), /Cannot set in the storage of plugin "p": key must be a non-empty string/);
  assert.throws(() => kv.get(3 as unknown as string), /key must be a non-empty string, got number/);
  assert.throws(() =>
    kv.update("k", () => {
      throw new Error("mid-update");
    }), /mid-update/);
  assert.throws(
    () => kv.update("k", () => Promise.resolve(2)),
    /returned a Promise, but update\(\) needs a synchronous/,
  );
  assert.equal(kv.get("k"), 1);
});

Deno.test("data survives closing and reopening (a restart), in <dir>/plugins/<name>/storage.db", async () => {
  await using tmp = await tempPlugins();
  const first = new Storage({ dir: tmp.dir });
  first.kv("p").set("count", 41);
  first.sql("p").migrate([{ version: 1, up: "CREATE TABLE {{t}} (v INTEGER)" }]);
  first.sql("p").run("INSERT INTO {{t}} (v) VALUES (?)", 7);
  first.close();
  assert.ok(existsSync(join(tmp.dir, "plugins", "p", "storage.db")));
  const second = new Storage({ dir: tmp.dir });
  assert.equal(second.kv("p").get("count"), 41);
  assert.deepEqual(second.sql("p").all("SELECT v FROM t"), [{ v: 7 }]);
  assert.equal(second.sql("p").migrate([{ version: 1, up: "CREATE TABLE {{t}} (v INTEGER)" }]), 0);
  second.close();
});

Deno.test("Storage options: the old path option maps to its folder; :memory: keeps plugins apart", async () => {
  await using tmp = await tempPlugins();
  const old = new Storage({ path: join(tmp.dir, "data", "plugboard.db") });
  assert.equal(old.dir, join(tmp.dir, "data"));
  old.kv("p").set("k", 1);
  assert.ok(existsSync(join(tmp.dir, "data", "plugins", "p", "storage.db")));
  old.store("p").close();
  assert.equal(old.kv("p").get("k"), 1, "a store closed by its owner reopens on next use");
  old.close();
  const memory = new Storage({ path: ":memory:" });
  memory.kv("a").set("k", "a");
  assert.equal(memory.kv("b").get("k"), undefined);
  memory.close();
  assert.throws(() => new Storage({ dir: "x", path: "y" }), /both dir \("x"\) and path \("y"\)/);
  assert.throws(() => memory.kv("Bad_Name"), /Cannot use storage for plugin "Bad_Name": not a plugin name/);
  assert.throws(() => openPluginStorage({ name: "p", dir: "" }), /dir must be a folder path or ":memory:"/);
  assert.throws(
    () => openPluginStorage({ name: "p", dir: ":memory:", busyTimeoutMs: -1 }),
    /busyTimeoutMs must be an integer from 0 to 60000: current value is -1/,
  );
});

Deno.test("sql: migrations run once each, in order; a failing one rolls back; bad versions are refused", () => {
  using store = openPluginStorage({ name: "task-tracker", dir: ":memory:" });
  const sql = store.sql;
  assert.equal(sql.table("completions"), "completions");
  const migrations = [
    { version: 2, up: "ALTER TABLE {{completions}} ADD COLUMN day TEXT" },
    { version: 1, up: "CREATE TABLE {{completions}} (agent TEXT NOT NULL)" },
  ];
  assert.equal(sql.migrate(migrations), 2);
  assert.equal(sql.migrate(migrations), 0);
  sql.run("INSERT INTO {{completions}} (agent, day) VALUES (?, ?)", "a1", "2026-11-27");
  assert.deepEqual(sql.get("SELECT agent, day FROM completions"), { agent: "a1", day: "2026-11-27" });
  assert.throws(() =>
    sql.migrate([...migrations, { version: 3, up: "CREATE TABLE {{x}} (a); SELECT nope FROM {{x}}" }])
  );
  assert.throws(() => sql.all("SELECT * FROM x"), /no such table/);
  assert.throws(() => sql.migrate([{ version: 0, up: "" }]), /migrations\[0\]\.version must be a positive integer/);
  assert.throws(() => sql.migrate([{ version: 4, up: "" }, { version: 4, up: "" }]), /version 4 appears twice/);
  assert.throws(() => sql.migrate([{ version: 1.5, up: "" }]), /current value is 1\.5/);
  assert.throws(() => sql.all("SELECT * FROM {{bad name}}"), /"\{\{bad name\}\}" must hold an identifier/);
});

Deno.test("sql: in its own database a plugin may use AUTOINCREMENT, json_each, recursive CTEs, sqlite_master", () => {
  using store = openPluginStorage({ name: "p", dir: ":memory:" });
  const sql = store.sql;
  sql.exec("CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)");
  assert.equal(sql.run("INSERT INTO items (v) VALUES (?)", "a").lastInsertRowid, 1);
  assert.deepEqual(sql.all("SELECT value FROM json_each(?)", "[1,2]"), [{ value: 1 }, { value: 2 }]);
  assert.deepEqual(
    sql.all("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT i FROM n"),
    [{ i: 1 }, { i: 2 }, { i: 3 }],
  );
  const schema = sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  assert.deepEqual(schema.map((r) => r.name).filter((n) => !n.startsWith("plugboard_")), ["items", "sqlite_sequence"]);
  assert.deepEqual(sql.all<{ name: string }>("PRAGMA table_info(items)").map((r) => r.name), ["id", "v"]);
});

Deno.test("sql: ATTACH, PRAGMA writes, load_extension, BEGIN/COMMIT/SAVEPOINT and storage's tables are refused", () => {
  using store = openPluginStorage({ name: "nosy", dir: ":memory:" });
  store.kv.set("k", "v");
  const sql = store.sql;
  const cases: [string, RegExp][] = [
    ["ATTACH DATABASE ':memory:' AS x", /ATTACH and DETACH are refused/],
    ["PRAGMA journal_mode = DELETE", /PRAGMA journal_mode = DELETE is refused/],
    ["PRAGMA writable_schema = 1", /PRAGMA writable_schema = 1 is refused/],
    ["SELECT load_extension('x')", /load_extension\(\) is refused/],
    ["BEGIN", /BEGIN is refused in plugin SQL.*Use ctx\.sql\.transaction/],
    ["COMMIT", /COMMIT is refused/],
    ["SAVEPOINT s", /SAVEPOINT is refused/],
    ["SELECT * FROM plugboard_kv", /table "plugboard_kv" is storage's own/],
    ["DELETE FROM PLUGBOARD_KV", /is storage's own/],
    ["DROP TABLE plugboard_migrations", /is storage's own/],
    ["CREATE TRIGGER t AFTER INSERT ON plugboard_kv BEGIN SELECT 1; END", /is storage's own/],
    ["CREATE TABLE plugboard_mine (v)", /names starting with "plugboard_" are reserved/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(
      () => sql.exec(text),
      denied(new RegExp(`^Cannot run this SQL in plugin "nosy": .*${pattern.source}`)),
    );
  }
  assert.equal(store.kv.get("k"), "v");
  assert.equal(sql.get<{ n: number }>("SELECT count(*) AS n FROM sqlite_master")!.n > 0, true, "reads still work");
});

Deno.test("sql.transaction: all or nothing, kv included; nested as savepoints; async functions refused", () => {
  using store = openPluginStorage({ name: "p", dir: ":memory:" });
  const { sql, kv } = store;
  sql.exec("CREATE TABLE t (v)");
  assert.throws(() =>
    sql.transaction(() => {
      sql.run("INSERT INTO t VALUES (1)");
      kv.set("k", 1);
      throw new Error("abort");
    }), /abort/);
  assert.deepEqual([sql.all("SELECT v FROM t"), kv.get("k")], [[], undefined]);
  sql.transaction(() => {
    sql.run("INSERT INTO t VALUES (1)");
    assert.throws(() =>
      sql.transaction(() => {
        sql.run("INSERT INTO t VALUES (2)");
        throw new Error("inner");
      })
    );
    kv.update<number>("k", (n) => (n ?? 0) + 1); // update() nests too
  });
  assert.deepEqual([sql.all("SELECT v FROM t"), kv.get("k")], [[{ v: 1 }], 1]);
  assert.throws(
    () =>
      sql.transaction(async () => {
        sql.run("INSERT INTO t VALUES (3)");
        await Promise.resolve();
      }),
    /returned a Promise, but a transaction must be synchronous/,
  );
  assert.deepEqual(sql.all("SELECT v FROM t"), [{ v: 1 }], "the async function's first step was rolled back");
  assert.throws(() => sql.transaction("x" as unknown as () => void), /expected a function, got string/);
});

Deno.test("isolation: a planted table, trigger and rename in one plugin cannot reach another's tables", async () => {
  await using tmp = await tempPlugins();
  const storage = new Storage({ dir: tmp.dir });
  const attacker = storage.sql("attacker");
  attacker.exec(`CREATE TABLE {{plant}} (v);
    CREATE TRIGGER {{trg}} AFTER INSERT ON {{plant}} BEGIN DELETE FROM ledger; END;`);
  assert.throws(
    () => attacker.exec("ALTER TABLE {{plant}} RENAME TO victim__completions"),
    /no such table: main\.ledger/,
  );
  attacker.exec("DROP TRIGGER trg; ALTER TABLE plant RENAME TO completions");
  const victim = storage.sql("victim");
  assert.equal(
    victim.migrate([{ version: 1, up: "CREATE TABLE {{completions}} (v); CREATE TABLE {{ledger}} (v)" }]),
    1,
    "the victim's migration does not see the attacker's table",
  );
  victim.run("INSERT INTO ledger VALUES ('kept')");
  victim.run("INSERT INTO completions VALUES ('mine')");
  attacker.run("INSERT INTO completions VALUES ('forged')");
  assert.deepEqual(victim.all("SELECT v FROM completions"), [{ v: "mine" }]);
  assert.deepEqual(victim.all("SELECT v FROM ledger"), [{ v: "kept" }]);
  assert.deepEqual(
    victim.all<{ name: string }>("SELECT name FROM sqlite_master WHERE name NOT LIKE 'plugboard%' ORDER BY name"),
    [{ name: "completions" }, { name: "ledger" }],
    "sqlite_master shows only the plugin's own schema",
  );
  storage.close();
});

Deno.test("isolation: a rolled-back transaction of one plugin does not undo another plugin's write", async () => {
  await using tmp = await tempPlugins();
  const storage = new Storage({ dir: tmp.dir });
  assert.throws(() => storage.sql("alpha").exec("BEGIN"), /Use ctx\.sql\.transaction/);
  assert.throws(() =>
    storage.sql("alpha").transaction(() => {
      storage.kv("alpha").set("a", 1);
      storage.kv("beta").set("b", 1); // beta's own connection, its own commit
      throw new Error("alpha rolls back");
    }), /alpha rolls back/);
  assert.equal(storage.kv("alpha").get("a"), undefined);
  assert.equal(storage.kv("beta").get("b"), 1);
  storage.close();
  assert.equal(new Storage({ dir: tmp.dir }).kv("beta").get("b"), 1, "beta's write is on disk");
});

Deno.test("busy: a lock held by another connection fails fast with STORAGE_BUSY; reads go on; it passes after", async () => {
  await using tmp = await tempPlugins();
  const storage = new Storage({ dir: tmp.dir, busyTimeoutMs: 50 });
  storage.kv("p").set("k", 1);
  const other = new DatabaseSync(join(tmp.dir, "plugins", "p", "storage.db"));
  other.exec("BEGIN IMMEDIATE");
  const started = performance.now();
  assert.throws(() => storage.kv("p").set("k", 2), (e: unknown) => {
    assert.ok(e instanceof StorageBusyError);
    assert.equal(e.code, "STORAGE_BUSY");
    assert.equal(e.retryAfter, 1);
    assert.match(e.message, /Cannot set in the storage of plugin "p": its database is locked .*\(waited 50 ms\)/);
    return true;
  });
  assert.ok(performance.now() - started < 1000);
  assert.throws(() => storage.sql("p").migrate([{ version: 1, up: "CREATE TABLE t (v)" }]), StorageBusyError);
  assert.equal(storage.kv("p").get("k"), 1, "WAL readers are not blocked");
  assert.equal(storage.kv("q").get("k"), undefined, "another plugin is not concerned");
  storage.kv("q").set("k", 1);
  other.exec("ROLLBACK");
  storage.kv("p").set("k", 2);
  assert.equal(storage.kv("p").get("k"), 2);
  other.close();
  storage.close();
});

Deno.test("purge: exactly the named plugin's folder; the name is exact; an open connection is reopened empty", async () => {
  await using tmp = await tempPlugins();
  const storage = new Storage({ dir: tmp.dir });
  storage.kv("task-tracker").set("k", 1);
  storage.sql("task-tracker").exec("CREATE TABLE completions (v); CREATE TABLE other (v)");
  storage.kv("tasks").set("k", 1);
  assert.throws(() => storage.purge("task_tracker"), (e: unknown) => {
    assert.ok(e instanceof PluginError);
    assert.equal(e.code, "NOT_FOUND");
    assert.match(e.message, /Cannot purge the data of "task_tracker": not a plugin name\. Names are exact/);
    return true;
  });
  assert.throws(() => storage.purge("../tasks"), /not a plugin name/);
  assert.equal(storage.kv("task-tracker").get("k"), 1);
  assert.deepEqual(storage.purge("task-tracker"), { keys: 1, tables: 2 });
  assert.equal(existsSync(join(tmp.dir, "plugins", "task-tracker")), false);
  assert.equal(storage.kv("tasks").get("k"), 1);
  assert.equal(storage.kv("task-tracker").get("k"), undefined, "reopened, empty");
  assert.deepEqual(storage.sql("task-tracker").all("SELECT name FROM sqlite_master WHERE name = 'completions'"), []);
  assert.deepEqual(storage.purge("never-used"), { keys: 0, tables: 0 });
  storage.close();
  const memory = new Storage({ dir: ":memory:" });
  memory.kv("a").set("k", 1);
  assert.deepEqual(memory.purge("a"), { keys: 1, tables: 0 });
  assert.equal(memory.kv("a").get("k"), undefined);
});

Deno.test("concurrent writers: 200 async increments over two connections lose nothing", async () => {
  await using tmp = await tempPlugins();
  const a = new Storage({ dir: tmp.dir });
  const b = new Storage({ dir: tmp.dir });
  const work = Array.from({ length: 200 }, async (_, i) => {
    await new Promise((r) => setTimeout(r, i % 7));
    (i % 2 ? a : b).kv("counter").update<number>("n", (v) => (v ?? 0) + 1);
  });
  await Promise.all(work);
  assert.equal(a.kv("counter").get("n"), 200);
  a.close();
  b.close();
});

Deno.test("host: ctx.storage survives reload and unload; purge removes it (admin API too), names exact", async () => {
  await using tmp = await tempPlugins({
    "plugins/task-notes/mod.ts": pluginSource("task-notes", {
      setup: `ctx.sql.migrate([{ version: 1, up: "CREATE TABLE {{notes}} (t TEXT)" }]);
        ctx.routes.post("/", async (c) => { const n = ctx.storage.update("count", (v) => (v ?? 0) + 1); ctx.sql.run("INSERT INTO {{notes}} (t) VALUES (?)", "n" + n); return c.json({ n }); });`,
    }),
  });
  const path = join(tmp.dir, "data", "plugboard.db");
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins"), storage: { path } });
  await host.start();
  const post = async (h = host) =>
    await (await h.fetch(new Request("http://x/api/plugins/task-notes/", { method: "POST" }))).json();
  assert.deepEqual(await Promise.all([post(), post(), post()]).then((r) => r.map((x) => x.n).sort()), [1, 2, 3]);
  await host.reload("task-notes");
  assert.equal((await post()).n, 4);
  await host.stop();
  assert.ok(existsSync(join(tmp.dir, "data", "plugins", "task-notes", "storage.db")));

  const again = quietHost({ pluginsDir: join(tmp.dir, "plugins"), storage: { path } });
  await again.start();
  assert.equal((await post(again)).n, 5);
  const admin = (target: string) =>
    again.fetch(
      new Request(`http://x/api/plugins/${target}:purge`, { method: "POST", headers: { "x-api-key": again.adminKey } }),
      LOOPBACK,
    );
  const alias = await admin("task_notes");
  assert.equal(alias.status, 404, "no name aliasing");
  await alias.body?.cancel();
  assert.equal((await post(again)).n, 6, "the active plugin's table is intact");
  const conflict = await admin("task-notes");
  assert.equal(conflict.status, 409);
  await conflict.body?.cancel();
  await again.unload("task-notes");
  assert.equal(again.storage.kv("task-notes").get("count"), 6, "unloading keeps the data");
  const purged = await admin("task-notes");
  assert.deepEqual(await purged.json(), { name: "task-notes", purged: { keys: 1, tables: 1 } });
  assert.equal(again.storage.kv("task-notes").get("count"), undefined);
  await again.load(join(tmp.dir, "plugins", "task-notes", "mod.ts"));
  assert.equal((await post(again)).n, 1, "after a purge the plugin starts from scratch");
  await again.stop();
});
