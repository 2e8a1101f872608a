/**
 * Storage under several processes: a lock held by another process, two
 * processes inserting into one data folder, two processes migrating at once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Storage } from "../src/storage.ts";
import { createTestHost } from "../testing.ts";
import { denoCommand, tempPlugins } from "./_helpers.ts";

const STORAGE_URL = new URL("../src/storage.ts", import.meta.url).href;
const TASKS = new URL("../plugins/tasks/mod.ts", import.meta.url).pathname;

/** Starts `deno run --allow-read --allow-write` on a script written to `dir`. */
async function child(dir: string, name: string, source: string, args: string[], stdin: "piped" | "null" = "null") {
  const script = join(dir, `${name}.ts`);
  await Deno.writeTextFile(script, source);
  return denoCommand("run", ["--allow-read", "--allow-write", script, ...args], { stdin }).spawn();
}

/** Reads a child's stdout until a line satisfies `done`. */
async function readUntil(stream: ReadableStream<Uint8Array>, done: (text: string) => boolean): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stream.getReader();
  while (!done(text)) {
    const { value, done: end } = await reader.read();
    if (end) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

const HOLD_LOCK = `
import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(Deno.args[0]);
db.exec("PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE");
console.log("locked");
for await (const _ of Deno.stdin.readable) { /* held until the parent closes stdin */ }
db.exec("ROLLBACK");
db.close();
`;

Deno.test("busy: another process holding the lock makes writes fail fast (503 + Retry-After), not freeze", async () => {
  await using tmp = await tempPlugins();
  await using t = await createTestHost({ plugin: TASKS, storagePath: join(tmp.dir, "plugboard.db") });
  const db = join(tmp.dir, "plugins", "tasks", "storage.db");
  const holder = await child(tmp.dir, "hold", HOLD_LOCK, [db], "piped");
  try {
    assert.match(await readUntil(holder.stdout, (s) => s.includes("locked")), /locked/);
    const started = performance.now();
    const post = await t.request("/", { method: "POST", body: JSON.stringify({ title: "while locked" }) });
    const elapsed = performance.now() - started;
    assert.equal(post.status, 503);
    assert.equal(post.headers.get("retry-after"), "1");
    assert.equal(post.headers.get("content-type"), "application/problem+json");
    assert.match((await post.json()).detail, /Cannot add in the storage of plugin "tasks": its database is locked/);
    assert.ok(elapsed < 1000, `answered in ${elapsed.toFixed(0)} ms`);
    assert.throws(() => t.storage.set("k", 1), { code: "STORAGE_BUSY" });
    const health = await t.fetch("/health");
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const list = await t.request("/");
    assert.deepEqual(await list.json(), { tasks: [] }, "reads go on while another process writes");
  } finally {
    await holder.stdin.close();
    await holder.stdout.cancel();
    await holder.stderr.cancel();
    await holder.status;
  }
  const after = await t.request("/?wait=true", { method: "POST", body: JSON.stringify({ title: "after" }) });
  assert.equal(after.status, 201);
  assert.equal((await after.json()).status, "completed");
});

const WRITER = `
import { KeyExistsError, retryBusy, Storage } from ${JSON.stringify(STORAGE_URL)};
const [dir, who, start] = Deno.args;
const kv = new Storage({ dir, log: () => {} }).kv("tasks");
while (Date.now() < Number(start)) await new Promise((r) => setTimeout(r, 1));
let won = 0;
for (let i = 0; i < 200; i++) {
  await retryBusy(() => kv.add("task:" + crypto.randomUUID(), { who, i }));
  if (i % 4 === 0) {
    try {
      await retryBusy(() => kv.add("shared:" + (i / 4), { who }));
      won++;
    } catch (error) {
      if (!(error instanceof KeyExistsError)) throw error;
    }
  }
  if (i % 10 === 0) await new Promise((r) => setTimeout(r, 0));
}
console.log(JSON.stringify({ who, won }));
`;

Deno.test("two processes add 200 tasks each to one data folder: all 400 stored, no key written twice", async () => {
  await using tmp = await tempPlugins();
  const start = String(Date.now() + 1500);
  const children = await Promise.all(
    ["a", "b"].map((who) => child(tmp.dir, `writer-${who}`, WRITER, [tmp.dir, who, start])),
  );
  const outputs = await Promise.all(children.map((c) => c.output()));
  for (const o of outputs) assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
  const results = outputs.map((o) => JSON.parse(new TextDecoder().decode(o.stdout)) as { who: string; won: number });
  const storage = new Storage({ dir: tmp.dir });
  const tasks = storage.kv("tasks").list<{ who: string }>("task:");
  assert.equal(tasks.length, 400);
  assert.equal(tasks.filter((e) => e.value.who === "a").length, 200);
  const shared = storage.kv("tasks").list<{ who: string }>("shared:");
  assert.equal(shared.length, 50);
  assert.equal(results[0].won + results[1].won, 50, "each shared key was added by exactly one process");
  for (const r of results) assert.equal(shared.filter((e) => e.value.who === r.who).length, r.won);
  storage.close();
});

const MIGRATOR = `
import { retryBusy, Storage } from ${JSON.stringify(STORAGE_URL)};
const [base, start] = Deno.args;
const migrations = [
  { version: 1, up: "CREATE TABLE {{completions}} (task_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL)" },
  { version: 2, up: "CREATE INDEX {{completions_by_agent}} ON {{completions}} (agent_id)" },
  { version: 3, up: "ALTER TABLE {{completions}} ADD COLUMN day TEXT" },
];
const applied = [];
for (let round = 0; round < 10; round++) {
  while (Date.now() < Number(start) + round * 150) await new Promise((r) => setTimeout(r, 1));
  const storage = new Storage({ dir: base + "/round-" + round, log: () => {} });
  applied.push(await retryBusy(() => storage.sql("task-tracker").migrate(migrations)));
  storage.close();
}
console.log(JSON.stringify(applied));
`;

Deno.test("two processes starting together apply each migration once, 10 times out of 10", async () => {
  await using tmp = await tempPlugins();
  const start = String(Date.now() + 1500);
  const children = await Promise.all([1, 2].map((n) => child(tmp.dir, `migrator-${n}`, MIGRATOR, [tmp.dir, start])));
  const outputs = await Promise.all(children.map((c) => c.output()));
  for (const o of outputs) assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
  const [a, b] = outputs.map((o) => JSON.parse(new TextDecoder().decode(o.stdout)) as number[]);
  for (let round = 0; round < 10; round++) {
    assert.equal(a[round] + b[round], 3, `round ${round}: ${a[round]} + ${b[round]}`);
    const storage = new Storage({ dir: join(tmp.dir, `round-${round}`) });
    assert.deepEqual(
      storage.sql("task-tracker").all("SELECT name FROM pragma_table_info('completions')").map((r) => r.name),
      ["task_id", "agent_id", "day"],
    );
    storage.close();
  }
});
