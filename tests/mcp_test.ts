/**
 * MCP through `/mcp` with the official SDK client over a real port, in both
 * isolation modes: the same plugin code must behave the same.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { mcpRig, probePlugin, textOf } from "./mcp_client.ts";
import { ROOT_DIR, waitFor } from "./_helpers.ts";
import type { SystemErrorEvent } from "../mod.ts";

const MODES = ["worker", "none"] as const;

for (const isolation of MODES) {
  const mode = isolation === "none" ? "in-process" : "isolated";

  Deno.test(`MCP (${mode}): initialize and list the shipped tools, resources and prompts`, async () => {
    await using rig = await mcpRig({}, { pluginsDir: join(ROOT_DIR, "plugins"), isolation });
    assert.equal(rig.client.getServerVersion()?.name, "plugboard");
    const tools = (await rig.client.listTools()).tools.map((t: { name: string }) => t.name);
    assert.deepEqual(tools, [
      "hello__greet",
      "task-tracker__get_statistics",
      "tasks__create_task",
      "tasks__get_task",
      "tasks__list_tasks",
    ]);
    for (const name of tools) assert.match(name, /^[a-zA-Z0-9_-]{1,48}$/);
    const resources = (await rig.client.listResources()).resources.map((r: { uri: string }) => r.uri);
    assert.deepEqual(resources, ["plugboard://analytics/stats"]);
    const prompts = (await rig.client.listPrompts()).prompts;
    assert.deepEqual(prompts.map((p: { name: string }) => p.name), ["hello__introduce"]);
    assert.deepEqual(prompts[0].arguments, [{ name: "who", description: "Whom to introduce it to", required: true }]);
    const info = await fetch(rig.url.replace("/mcp", "/api/plugins/tasks"), {
      headers: { "x-api-key": rig.host.adminKey },
    });
    assert.equal(info.status, 200);
    assert.deepEqual((await info.json()).mcp, {
      tools: ["tasks__create_task", "tasks__get_task", "tasks__list_tasks"],
      resources: [],
      prompts: [],
    });
  });

  Deno.test(`MCP (${mode}): a task created through MCP is read back, handled by the other plugins as through HTTP`, async () => {
    await using rig = await mcpRig({}, { pluginsDir: join(ROOT_DIR, "plugins"), isolation });
    const seen: string[] = [];
    rig.host.events.on("task.created", () => void seen.push("task.created"));
    rig.host.events.on("agent.task.completed", () => void seen.push("agent.task.completed"));
    const created = await rig.client.callTool({
      name: "tasks__create_task",
      arguments: { title: "Summarise the meeting", wait: true },
    });
    assert.equal(created.isError, undefined, textOf(created));
    const task = created.structuredContent as { id: string; status: string; result: { enhancedBy: string } };
    assert.equal(task.status, "completed");
    assert.equal(task.result.enhancedBy, "agent-enhancer");
    const read = await rig.client.callTool({ name: "tasks__get_task", arguments: { id: task.id } });
    assert.equal((read.structuredContent as { id: string }).id, task.id);
    assert.equal(JSON.parse(textOf(read)).title, "Summarise the meeting");
    assert.deepEqual(seen, ["task.created", "agent.task.completed"]);
    const listed = await rig.client.callTool({ name: "tasks__list_tasks", arguments: { status: "completed" } });
    assert.deepEqual((listed.structuredContent as { tasks: { id: string }[] }).tasks.map((t) => t.id), [task.id]);
    const stats = await rig.client.callTool({ name: "task-tracker__get_statistics", arguments: {} });
    await waitFor(
      async () =>
        ((await rig.client.callTool({ name: "task-tracker__get_statistics", arguments: {} })).structuredContent as {
          total: number;
        }).total === 1,
      { what: "the tracker to count the completion" },
    );
    assert.equal(stats.isError, undefined);
    const analytics = await rig.client.readResource({ uri: "plugboard://analytics/stats" });
    assert.equal(JSON.parse(analytics.contents[0].text as string).events["task.created"], 1);
    const missing = await rig.client.callTool({ name: "tasks__get_task", arguments: { id: "nope" } });
    assert.equal(missing.isError, true);
    assert.equal(textOf(missing), 'No task "nope": list the tasks with tasks__list_tasks');
  });

  Deno.test(`MCP (${mode}): agent.chat.started and agent.chat.completed frame each session`, async () => {
    await using rig = await mcpRig({}, { pluginsDir: join(ROOT_DIR, "plugins"), isolation });
    const chats: [string, unknown][] = [];
    rig.host.events.on("agent.chat.*", (p, event) => void chats.push([event, p]));
    const { client: other, transport } = await rig.connectWithTransport();
    await other.callTool({ name: "hello__greet", arguments: { who: "Ada" } });
    await other.callTool({ name: "hello__greet", arguments: { who: "Bob" } });
    const sessionId = transport.sessionId;
    // The client ends its session (DELETE /mcp), as the spec asks clients to.
    await transport.terminateSession();
    await waitFor(() => chats.some(([e]) => e === "agent.chat.completed"), { what: "agent.chat.completed" });
    const mine = chats.filter(([, p]) => (p as { chatId: string }).chatId === sessionId);
    assert.deepEqual(mine, [
      ["agent.chat.started", { chatId: sessionId, agentId: "mcp-test" }],
      ["agent.chat.completed", { chatId: sessionId, agentId: "mcp-test", messages: 2 }],
    ]);
    await other.close();
  });

  Deno.test(`MCP (${mode}): bad arguments, an unknown tool and a throwing tool`, async () => {
    await using rig = await mcpRig({ "plugins/probe/mod.ts": probePlugin() }, { isolation });
    const errors: SystemErrorEvent[] = [];
    rig.host.events.on("system.error", (e) => void errors.push(e));
    const bad = await rig.client.callTool({ name: "probe__echo", arguments: { text: 42 } });
    assert.equal(bad.isError, true);
    assert.equal(
      textOf(bad),
      "MCP error -32602: Input validation error: Invalid arguments for tool probe__echo: text must be string",
    );
    await assert.rejects(
      () => rig.client.callTool({ name: "probe__nope", arguments: {} }),
      /-32602.*Unknown tool: probe__nope/,
    );
    const boom = await rig.client.callTool({ name: "probe__boom", arguments: {} });
    assert.deepEqual(boom, { content: [{ type: "text", text: "Database is down" }], isError: true });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].plugin, "probe");
    assert.equal(errors[0].origin, "tool");
    assert.match(errors[0].message, /Database is down/);
    const echo = await rig.client.callTool({ name: "probe__echo", arguments: { text: "still here" } });
    assert.equal(textOf(echo), "still here");
  });

  Deno.test(`MCP (${mode}): a hanging tool answers an error at its route deadline; the session survives`, async () => {
    await using rig = await mcpRig({ "plugins/probe/mod.ts": probePlugin() }, {
      isolation,
      limits: { probe: { routeTimeout: 300 } },
    });
    const started = performance.now();
    const hang = await rig.client.callTool({ name: "probe__hang", arguments: {} });
    const took = performance.now() - started;
    assert.equal(hang.isError, true);
    assert.match(textOf(hang), /tool probe__hang of plugin "probe" did not answer within 300 ms/);
    assert.ok(took >= 290 && took < 3000, `answered after ${took} ms`);
    assert.equal(textOf(await rig.client.callTool({ name: "probe__echo", arguments: { text: "ok" } })), "ok");
  });

  Deno.test(`MCP (${mode}): a call in flight when its plugin unloads has its signal aborted`, async () => {
    const waits =
      `ctx.mcp.tool("waits", { description: "Answers when aborted", input: z.object({}) }, (_args, { signal }) =>
      new Promise((r) => signal.addEventListener("abort", () => r("aborted: " + (signal.reason?.message ?? signal.reason)))));`;
    // A deadline far off: the signal fires because the plugin goes, not because the call ran late. In a worker the
    // unload first gives calls in flight their routeTimeout to finish (as requests), so the deadline is short there.
    const ms = isolation === "none" ? 60_000 : 1_500;
    await using rig = await mcpRig({ "plugins/probe/mod.ts": probePlugin(waits) }, {
      isolation,
      limits: { probe: { routeTimeout: ms } },
    });
    const call = rig.client.callTool({ name: "probe__waits", arguments: {} });
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    await rig.host.unload("probe");
    const result = await call;
    if (isolation === "none") {
      assert.equal(textOf(result), 'aborted: Plugin "probe" was unloaded');
      assert.ok(performance.now() - started < ms / 2, "not at its deadline");
    } else {
      // The drain ends at the deadline, which aborts the call (and answers it); the worker stops after.
      assert.equal(result.isError, true);
      assert.match(textOf(result), /did not answer within 1500 ms/);
    }
  });

  Deno.test(`MCP (${mode}): list_changed after a reload adds a tool and after an unload removes them`, async () => {
    await using rig = await mcpRig({ "plugins/probe/mod.ts": probePlugin() }, { isolation });
    await rig.dir.write(
      "plugins/probe/mod.ts",
      probePlugin(`ctx.mcp.tool("added", { description: "New", input: z.object({}) }, () => "new");`),
    );
    await rig.host.reload("probe");
    await waitFor(() => rig.notifications.length === 1, { what: "a tools/list_changed" });
    assert.deepEqual(rig.notifications, ["notifications/tools/list_changed"]);
    const after = (await rig.client.listTools()).tools.map((t: { name: string }) => t.name);
    assert.ok(after.includes("probe__added"), after.join());
    assert.equal(textOf(await rig.client.callTool({ name: "probe__added", arguments: {} })), "new");
    await rig.host.unload("probe");
    await waitFor(() => rig.notifications.length === 2, { what: "a second tools/list_changed" });
    assert.deepEqual((await rig.client.listTools()).tools, []);
    // One notification per change, not one per tool.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(rig.notifications.length, 2);
  });

  Deno.test(`MCP (${mode}): a call in flight during a reload is answered by the old version`, async () => {
    await using rig = await mcpRig({ "plugins/probe/mod.ts": probePlugin() }, { isolation });
    const call = rig.client.callTool({ name: "probe__slow", arguments: { ms: 300 } });
    await new Promise((r) => setTimeout(r, 50));
    await rig.dir.write("plugins/probe/mod.ts", probePlugin().replace('version: "1.0.0"', 'version: "2.0.0"'));
    const reloaded = rig.host.reload("probe");
    const result = await call;
    await reloaded;
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(textOf(result), "slow done by v1.0.0");
    const next = await rig.client.callTool({ name: "probe__slow", arguments: { ms: 1 } });
    assert.equal(textOf(next), "slow done by v2.0.0");
  });
}
