import assert from "node:assert/strict";
import { createHost, serve } from "../mod.ts";
import { tempPlugins, waitFor } from "./_helpers.ts";

const PLUGINS = new URL("../plugins", import.meta.url).pathname;

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`end to end (isolation: ${isolation}): the shipped plugins work together over HTTP`, () =>
    endToEnd(isolation));
}

async function endToEnd(isolation: "none" | "worker") {
  await using tmp = await tempPlugins();
  const alerts: { taskId: string; error: string }[] = [];
  const webhook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    alerts.push(await req.json());
    return new Response(null, { status: 204 });
  });
  const host = createHost({
    pluginsDir: PLUGINS,
    env: (name) => name === "NOTIFIER_WEBHOOK_URL" ? `http://127.0.0.1:${webhook.addr.port}/alerts` : undefined,
    dataDir: tmp.dir,
    logger: { level: "silent" },
    isolation,
    // The webhook's address is the operator's choice, so the operator grants it.
    grants: { notifier: { net: [`127.0.0.1:${webhook.addr.port}`] } },
  });
  const list = await host.start();
  assert.deepEqual(
    list.filter((p) => p.state !== "active").map((p) => `${p.name}: ${p.error}`),
    [],
    "every shipped plugin loads",
  );
  const server = serve(host, { port: 0 });
  const base = `http://127.0.0.1:${server.addr.port}/api/plugins`;
  try {
    const post = (title: string) =>
      fetch(`${base}/tasks/?wait=true`, { method: "POST", body: JSON.stringify({ title, agentId: "agent-7" }) })
        .then((r) => r.json());
    const ok = await post("Summarise the meeting");
    const bad = await post("Please fail this one");
    assert.equal(ok.status, "completed");
    assert.equal(ok.result.enhancedBy, "agent-enhancer", "agent-enhancer wrapped the execution");
    assert.equal(bad.status, "failed");

    const today = new Date().toISOString().slice(0, 10);
    const tracker = await (await fetch(`${base}/task-tracker/stats`)).json();
    assert.deepEqual(tracker, { total: 1, byAgent: { "agent-7": { total: 1, byDay: { [today]: 1 } } } });

    await waitFor(() => alerts.length > 0, { what: "the notifier's alert" });
    assert.deepEqual(alerts.map((a) => [a.taskId, a.error]), [[bad.id, bad.error]]);

    // An isolated observer is told in batches, up to 50 ms late.
    let analytics = await (await fetch(`${base}/analytics/stats`)).json();
    await waitFor(async () => {
      analytics = await (await fetch(`${base}/analytics/stats`)).json();
      return analytics.requests.byEndpoint["POST /api/plugins/tasks/"]?.count >= 2;
    }, { what: "analytics told about the two POSTs" });
    assert.equal(analytics.requests.byEndpoint["POST /api/plugins/tasks/"].count, 2);
    assert.deepEqual(analytics.requests.byEndpoint["POST /api/plugins/tasks/"].statuses, { "201": 2 });
    assert.equal(analytics.events["task.created"], 2);
    assert.equal(analytics.events["task.failed"], 1);
    assert.equal(analytics.events["agent.task.completed"], 1);
  } finally {
    await server.shutdown();
    await webhook.shutdown();
  }
}
