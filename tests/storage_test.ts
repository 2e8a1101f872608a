import assert from "node:assert/strict";
import { join } from "node:path";
import { PluginError, Storage } from "../mod.ts";
import { LOOPBACK, pluginSource, quietHost, tempPlugins } from "./_helpers.ts";

Deno.test("kv: get, set, delete, list by prefix, update", async () => {
  await using tmp = await tempPlugins();
  const storage = new Storage({ path: join(tmp.dir, "db", "p.db") });
  const kv = storage.kv("tasks");
  assert.equal(kv.get("missing"), undefined);
  kv.set("task:2", { title: "b" });
  kv.set("task:1", { title: "a" });
  kv.set("other", 1);
  assert.deepEqual(kv.get("task:1"), { title: "a" });
  assert.deepEqual(kv.list("task:").map((e) => e.key), ["task:1", "task:2"]);
  assert.equal(kv.update<number>("n", (v) => (v ?? 10) + 1), 11);
  assert.equal(kv.delete("other"), true);
  assert.equal(kv.delete("other"), false);
  assert.deepEqual(kv.list().map((e) => e.key), ["n", "task:1", "task:2"]);
  storage.close();
});

Deno.test("kv: each plugin sees only its own keys", async () => {
  await using tmp = await tempPlugins();
  const storage = new Storage({ path: join(tmp.dir, "p.db") });
  storage.kv("a").set("secret", "a's");
  assert.equal(storage.kv("b").get("secret"), undefined);
  assert.deepEqual(storage.kv("b").list(), []);
  storage.close();
});

Deno.test("kv: a bad write throws with the key and plugin, and loses nothing", async () => {
  await using tmp = await tempPlugins();
  const storage = new Storage({ path: join(tmp.dir, "p.db") });
  const kv = storage.kv("p");
  kv.set("k", 1);
  assert.throws(() => kv.set("k", 10n), /Cannot store "k" for plugin "p": the value is not JSON-serializable/);
  assert.throws(() => kv.set("k", undefined), /undefined is not JSON; use delete\(\) to remove a key/);
  assert.throws(() => kv.set("", 1), /key must be a non-empty string/);
  assert.throws(() =>
    kv.update("k", () => {
      throw new Error("mid-update");
    }), /mid-update/);
  assert.equal(kv.get("k"), 1);
  storage.close();
});

Deno.test("data survives closing and reopening the file (a restart)", async () => {
  await using tmp = await tempPlugins();
  const path = join(tmp.dir, "p.db");
  const first = new Storage({ path });
  first.kv("p").set("count", 41);
  first.sql("p").migrate([{ version: 1, up: "CREATE TABLE {{t}} (v INTEGER)" }]);
  first.sql("p").run("INSERT INTO {{t}} (v) VALUES (?)", 7);
  first.close();
  const second = new Storage({ path });
  assert.equal(second.kv("p").get("count"), 41);
  assert.deepEqual(second.sql("p").all("SELECT v FROM {{t}}"), [{ v: 7 }]);
  assert.equal(second.sql("p").migrate([{ version: 1, up: "CREATE TABLE {{t}} (v INTEGER)" }]), 0);
  second.close();
});

Deno.test("sql: migrations run once each, in order; a failing one rolls back", async () => {
  await using tmp = await tempPlugins();
  const storage = new Storage({ path: join(tmp.dir, "p.db") });
  const sql = storage.sql("task-tracker");
  assert.equal(sql.table("completions"), "task_tracker__completions");
  const migrations = [
    { version: 2, up: "ALTER TABLE {{completions}} ADD COLUMN day TEXT" },
    { version: 1, up: "CREATE TABLE {{completions}} (agent TEXT NOT NULL)" },
  ];
  assert.equal(sql.migrate(migrations), 2);
  assert.equal(sql.migrate(migrations), 0);
  sql.run("INSERT INTO {{completions}} (agent, day) VALUES (?, ?)", "a1", "2026-11-27");
  assert.deepEqual(sql.get("SELECT agent, day FROM {{completions}}"), { agent: "a1", day: "2026-11-27" });
  assert.throws(() =>
    sql.migrate([...migrations, { version: 3, up: "CREATE TABLE {{x}} (a); SELECT nope FROM {{x}}" }])
  );
  assert.throws(() => sql.all("SELECT * FROM {{x}}"), /no such table/);
  assert.equal(sql.transaction(() => sql.run("DELETE FROM {{completions}}").changes), 1);
  storage.close();
});

Deno.test("sql: a plugin cannot touch another plugin's tables, the kv table, PRAGMA or ATTACH", async () => {
  await using tmp = await tempPlugins();
  const storage = new Storage({ path: join(tmp.dir, "p.db") });
  storage.sql("other").migrate([{ version: 1, up: "CREATE TABLE {{private}} (v)" }]);
  storage.kv("other").set("k", "v");
  const sql = storage.sql("nosy");
  for (
    const attempt of [
      "SELECT * FROM other__private",
      "SELECT * FROM plugboard_kv",
      "DELETE FROM plugboard_kv",
      "CREATE TABLE unprefixed (v)",
      "PRAGMA journal_mode = DELETE",
      "ATTACH DATABASE ':memory:' AS x",
    ]
  ) {
    assert.throws(() => sql.all(attempt), (e: unknown) => {
      assert.ok(e instanceof PluginError, attempt);
      assert.equal(e.code, "PERMISSION_DENIED");
      assert.match(e.message, /Plugin "nosy" may only use its own tables \(named nosy__\*/);
      return true;
    });
  }
  assert.equal(storage.kv("other").get("k"), "v");
  storage.close();
});

Deno.test("concurrent writers: 200 async increments and a second connection lose nothing", async () => {
  await using tmp = await tempPlugins();
  const path = join(tmp.dir, "p.db");
  const a = new Storage({ path });
  const b = new Storage({ path });
  const work = Array.from({ length: 200 }, async (_, i) => {
    await new Promise((r) => setTimeout(r, i % 7));
    (i % 2 ? a : b).kv("counter").update<number>("n", (v) => (v ?? 0) + 1);
  });
  await Promise.all(work);
  assert.equal(a.kv("counter").get("n"), 200);
  a.close();
  b.close();
});

Deno.test("host: ctx.storage survives reload and unload; purge removes it (admin API too)", async () => {
  await using tmp = await tempPlugins({
    "plugins/notes/mod.ts": pluginSource("notes", {
      setup: `ctx.sql.migrate([{ version: 1, up: "CREATE TABLE {{notes}} (t TEXT)" }]);
        ctx.routes.post("/", async (c) => { const n = ctx.storage.update("count", (v) => (v ?? 0) + 1); ctx.sql.run("INSERT INTO {{notes}} (t) VALUES (?)", "n" + n); return c.json({ n }); });`,
    }),
  });
  const path = join(tmp.dir, "data", "plugboard.db");
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins"), storage: { path } });
  await host.start();
  const post = async () =>
    await (await host.fetch(new Request("http://x/api/plugins/notes/", { method: "POST" }))).json();
  assert.deepEqual(await Promise.all([post(), post(), post()]).then((r) => r.map((x) => x.n).sort()), [1, 2, 3]);
  await host.reload("notes");
  assert.equal((await post()).n, 4);
  await host.stop();

  const again = quietHost({ pluginsDir: join(tmp.dir, "plugins"), storage: { path } });
  await again.start();
  assert.equal((await (await again.fetch(new Request("http://x/api/plugins/notes/", { method: "POST" }))).json()).n, 5);
  const conflict = await again.fetch(new Request("http://x/api/plugins/notes:purge", { method: "POST" }), LOOPBACK);
  assert.equal(conflict.status, 409);
  await conflict.body?.cancel();
  await again.unload("notes");
  assert.equal(again.storage.kv("notes").get("count"), 5, "unloading keeps the data");
  const purged = await again.fetch(new Request("http://x/api/plugins/notes:purge", { method: "POST" }), LOOPBACK);
  assert.deepEqual(await purged.json(), { name: "notes", purged: { keys: 1, tables: 1 } });
  assert.equal(again.storage.kv("notes").get("count"), undefined);
  await again.stop();
});
