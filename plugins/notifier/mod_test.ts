import type {} from "../tasks/events.ts";
import assert from "node:assert/strict";
import { createTestHost } from "../../testing.ts";

const PLUGIN = new URL("./mod.ts", import.meta.url).pathname;

type Stats = { sent: number; failed: number; retried: number; pending: number };

/** A webhook receiver on 127.0.0.1 that answers with the given statuses in turn. */
function receiver(statuses: number[] = [200]) {
  const received: unknown[] = [];
  let i = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    received.push(await req.json());
    const status = statuses[Math.min(i++, statuses.length - 1)];
    return new Response(null, { status });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/hook`, received, [Symbol.asyncDispose]: () => server.shutdown() };
}

async function until(check: () => boolean | Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("notifier: a failed task POSTs an alert to the webhook from config.json's ${NOTIFIER_WEBHOOK_URL}", async () => {
  await using hook = receiver([200]);
  await using t = await createTestHost({ plugin: PLUGIN, env: { NOTIFIER_WEBHOOK_URL: hook.url } });
  await t.emit("task.failed", { taskId: "t1", error: "boom", agentId: "a1" });
  await until(async () => (await t.service<{ stats(): Stats }>("notifier").stats()).sent === 1);
  assert.deepEqual(
    (hook.received as Record<string, unknown>[]).map(({ type, taskId, error, agentId }) => ({
      type,
      taskId,
      error,
      agentId,
    })),
    [{ type: "task.failed", taskId: "t1", error: "boom", agentId: "a1" }],
  );
  await t.assertUnloadsClean();
});

Deno.test("notifier: retries with backoff, then succeeds", async () => {
  await using hook = receiver([500, 503, 200]);
  await using t = await createTestHost({
    plugin: PLUGIN,
    env: { NOTIFIER_WEBHOOK_URL: hook.url },
    config: { notifier: { backoffMs: 5 } },
  });
  await t.emit("task.failed", { taskId: "t1", error: "boom" });
  const notifier = t.service<{ stats(): Stats }>("notifier");
  await until(async () => (await notifier.stats()).sent === 1);
  assert.equal(hook.received.length, 3);
  assert.equal((await notifier.stats()).retried, 2);
});

Deno.test("notifier: a webhook that is down does not block the bus; the alert is counted and kept", async () => {
  await using t = await createTestHost({
    plugin: PLUGIN,
    // Nothing listens on port 9 (discard) of loopback: connections are refused at once.
    env: { NOTIFIER_WEBHOOK_URL: "http://127.0.0.1:9/hook" },
    config: { notifier: { retries: 2, backoffMs: 1 } },
  });
  const notifier = t.service<{ stats(): Stats; undelivered(): { alert: { taskId: string } }[] }>("notifier");
  await t.emit("task.failed", { taskId: "t9", error: "boom" });
  const { pending, failed } = await notifier.stats();
  assert.deepEqual(
    { pending, failed },
    { pending: 1, failed: 0 },
    "the handlers returned while delivery was under way",
  );
  await until(async () => (await notifier.stats()).failed === 1);
  assert.equal((await notifier.undelivered())[0].alert.taskId, "t9");
  assert.ok(t.logs.some((l) => l.level === "error" && /Alert .* for task t9 not delivered/.test(l.message)));
});

Deno.test("notifier: a missing NOTIFIER_WEBHOOK_URL or a bad url fails the plugin with the field named", async () => {
  await assert.rejects(
    createTestHost({ plugin: PLUGIN }),
    /field "url" uses \$\{NOTIFIER_WEBHOOK_URL\}, which is not set/,
  );
  await assert.rejects(
    createTestHost({ plugin: PLUGIN, env: { NOTIFIER_WEBHOOK_URL: "not a url" } }),
    /field "url" is invalid .*current value is \(hidden\)/,
  );
});
