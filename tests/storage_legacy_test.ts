import assert from "node:assert/strict";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { migrateLegacyStorage, Storage } from "../src/storage.ts";
import { createTestHost } from "../testing.ts";
import { tempPlugins } from "./_helpers.ts";

const TASKS = new URL("../plugins/tasks/mod.ts", import.meta.url).pathname;
const TRACKER = new URL("../plugins/task-tracker/mod.ts", import.meta.url).pathname;

/** Writes a database as the single-file storage (before per-plugin files) left it: same schema, same names. */
function writeLegacy(file: string, today: string): void {
  const db = new DatabaseSync(file);
  db.exec(`
    PRAGMA journal_mode = WAL;
    CREATE TABLE IF NOT EXISTS plugboard_kv (
      plugin TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
      PRIMARY KEY (plugin, key)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS plugboard_migrations (
      plugin TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (plugin, version)
    ) WITHOUT ROWID;
    CREATE TABLE task_tracker__completions (
      task_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, day TEXT NOT NULL, completed_at TEXT NOT NULL);
    CREATE INDEX task_tracker__completions_by_day ON task_tracker__completions (day);
    CREATE TABLE notes__log (v TEXT);
    CREATE TRIGGER notes__count AFTER INSERT ON notes__log BEGIN UPDATE notes__counter SET n = n + 1; END;
    CREATE TABLE notes__counter (n INTEGER);
    CREATE TABLE notes__big (id INTEGER, "2024" TEXT);
    INSERT INTO notes__big VALUES (9007199254740993, 'year column');
  `);
  const kv = db.prepare("INSERT INTO plugboard_kv VALUES (?, ?, ?, '2026-11-01T00:00:00.000Z')");
  kv.run(
    "tasks",
    "task:t1",
    JSON.stringify({ id: "t1", title: "old", status: "completed", createdAt: "2026-11-01T00:00:00.000Z" }),
  );
  kv.run(
    "tasks",
    "task:t2",
    JSON.stringify({
      id: "t2",
      title: "stuck",
      status: "running",
      agentId: "a",
      createdAt: "2026-11-02T00:00:00.000Z",
    }),
  );
  kv.run("analytics", "state", JSON.stringify({ requests: {}, events: { "task.created": 2 } }));
  kv.run("notes", "k", '"v"');
  db.prepare("INSERT INTO plugboard_migrations VALUES (?, ?, '2026-11-01')").run("task-tracker", 1);
  db.prepare("INSERT INTO plugboard_migrations VALUES (?, ?, '2026-11-01')").run("notes", 1);
  const row = db.prepare("INSERT INTO task_tracker__completions VALUES (?, ?, ?, ?)");
  row.run("t1", "agent-1", today, `${today}T10:00:00.000Z`);
  row.run("t0", "agent-2", today, `${today}T09:00:00.000Z`);
  db.exec("INSERT INTO notes__counter VALUES (0); INSERT INTO notes__log VALUES ('x')");
  db.close();
}

Deno.test("legacy: the shared plugboard.db moves into one database per plugin, once, and is renamed", async () => {
  await using tmp = await tempPlugins();
  const today = new Date().toISOString().slice(0, 10);
  const legacy = join(tmp.dir, "plugboard.db");
  writeLegacy(legacy, today);
  const lines: string[] = [];
  const storage = new Storage({ dir: tmp.dir, log: (m) => lines.push(m) });
  assert.equal(storage.kv("tasks").list("task:").length, 2, "first use migrates");
  assert.equal(existsSync(legacy), false);
  assert.ok(existsSync(`${legacy}.migrated`));
  assert.deepEqual(storage.legacyReport?.plugins.map((p) => [p.name, p.keys, p.tables, p.migrations]), [
    ["analytics", 1, [], 0],
    ["notes", 1, ["log", "counter", "big"], 1],
    ["task-tracker", 0, ["completions"], 1],
    ["tasks", 2, [], 0],
  ]);
  assert.match(
    lines.join("\n"),
    /Moved the storage of plugin "task-tracker" from .*plugboard\.db to .*plugins\/task-tracker\/storage\.db: 0 keys, 1 migrations, tables completions/,
  );
  assert.match(lines.at(-1)!, /Renamed the old shared database .* to .*plugboard\.db\.migrated/);

  const tracker = storage.sql("task-tracker");
  assert.equal(tracker.migrate([{ version: 1, up: "CREATE TABLE {{completions}} (x)" }]), 0, "migrations carried over");
  assert.deepEqual(tracker.all("SELECT task_id FROM {{completions}} ORDER BY task_id"), [{ task_id: "t0" }, {
    task_id: "t1",
  }]);
  assert.deepEqual(tracker.all("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite%'"), [{
    name: "completions_by_day",
  }]);
  const notes = storage.sql("notes");
  notes.run("INSERT INTO {{log}} VALUES ('y')");
  assert.deepEqual(notes.get("SELECT n FROM counter"), { n: 2 }, "the trigger came along, renamed");
  assert.deepEqual(notes.get('SELECT CAST(id AS TEXT) AS id, "2024" AS y FROM big'), {
    id: "9007199254740993",
    y: "year column",
  }, "big integers and odd column names survive");
  storage.close();

  // An interrupted or concurrent run finds the old file again: plugins already copied are skipped.
  copyFileSync(`${legacy}.migrated`, legacy);
  const again = migrateLegacyStorage({ legacyFile: legacy, dataDir: tmp.dir });
  assert.ok(again?.plugins.every((p) => p.skipped?.startsWith("already copied on ")));
  assert.equal(again?.renamedTo.startsWith(`${legacy}.migrated-`), true, "the first renamed file is kept");
  const reopened = new Storage({ dir: tmp.dir });
  assert.equal(reopened.sql("task-tracker").all("SELECT * FROM completions").length, 2, "nothing copied twice");
  assert.equal(reopened.legacyReport, undefined);
  reopened.close();
});

Deno.test("legacy: the shipped plugins serve their old data after the move", async () => {
  await using tmp = await tempPlugins();
  const today = new Date().toISOString().slice(0, 10);
  writeLegacy(join(tmp.dir, "plugboard.db"), today);
  await using t = await createTestHost({ plugin: TRACKER, with: [TASKS], storagePath: join(tmp.dir, "plugboard.db") });
  const stats = await (await t.request("/stats")).json();
  assert.equal(stats.total, 2);
  const tasks = await (await t.fetch("/api/plugins/tasks/")).json();
  assert.deepEqual(tasks.tasks.map((x: { id: string; status: string }) => [x.id, x.status]), [
    ["t1", "completed"],
    ["t2", "failed"],
  ], "the task left running is marked interrupted");
});
