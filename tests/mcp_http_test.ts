/**
 * `/mcp` as HTTP: who may use it, what a request without a session gets,
 * names refused at registration, size limits, and an isolated tool stuck in
 * a loop.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mcpRig, probePlugin, textOf } from "./mcp_client.ts";
import { folderHost, SPIN, tempPlugins, waitFor } from "./_helpers.ts";

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});
const POST_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

Deno.test("/mcp answers 401 without the key, 403 to a foreign Origin even with it, and 404 to an unknown session", async () => {
  await using rig = await mcpRig({ "plugins/probe/mod.ts": probePlugin() }, { isolation: "none" });
  const key = { authorization: `Bearer ${rig.host.adminKey}` };
  const post = (headers: Record<string, string>) =>
    fetch(rig.url, { method: "POST", headers: { ...POST_HEADERS, ...headers }, body: INIT });

  const anonymous = await post({});
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get("www-authenticate"), 'Bearer realm="plugboard"');
  assert.match((await anonymous.json()).error.message, /needs the admin key/);
  const wrong = await post({ authorization: "Bearer not-the-key-at-all" });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();

  const foreign = await post({ ...key, origin: "https://evil.example" });
  assert.equal(foreign.status, 403);
  assert.match((await foreign.json()).error.message, /Origin is "https:\/\/evil.example"/);
  const rebinding = await post({ ...key, origin: "http://localhost.evil.example:8000" });
  assert.equal(rebinding.status, 403);
  await rebinding.body?.cancel();

  // A loopback page on another port, with the key, and X-API-Key as the admin API takes it.
  const local = await post({ "x-api-key": rig.host.adminKey, origin: "http://localhost:5173" });
  assert.equal(local.status, 200);
  assert.ok(local.headers.get("mcp-session-id"));
  await local.body?.cancel();

  const unknown = await fetch(rig.url, {
    method: "POST",
    headers: { ...POST_HEADERS, ...key, "mcp-session-id": "00000000-0000-0000-0000-000000000000" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
  });
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
  const noSession = await fetch(rig.url, { headers: { ...key, accept: "text/event-stream" } });
  assert.equal(noSession.status, 400);
  await noSession.body?.cancel();
  // A request that is not an initialize opens no session.
  const before = rig.host.mcp.sessions;
  const stray = await fetch(rig.url, {
    method: "POST",
    headers: { ...POST_HEADERS, ...key },
    body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/list" }),
  });
  assert.equal(stray.status, 400);
  await stray.body?.cancel();
  assert.equal(rig.host.mcp.sessions, before);
});

Deno.test("MCP names are checked at registration: a dotted or too long name fails the load, saying why", async () => {
  await using rig = await mcpRig({
    "plugins/dotted/mod.ts": `import { z } from "zod";
export default { name: "dotted", version: "1.0.0", setup(ctx) {
  ctx.mcp.tool("tasks.create", { description: "x", input: z.object({}) }, () => "x");
} };`,
    "plugins/long/mod.ts": `import { z } from "zod";
export default { name: "long", version: "1.0.0", setup(ctx) {
  ctx.mcp.tool("${"x".repeat(60)}", { description: "x", input: z.object({}) }, () => "x");
} };`,
    "plugins/twice/mod.ts": `import { z } from "zod";
export default { name: "twice", version: "1.0.0", setup(ctx) {
  ctx.mcp.prompt("p", {}, () => "x");
  ctx.mcp.prompt("p", {}, () => "y");
} };`,
    "plugins/scalar/mod.ts": `import { z } from "zod";
export default { name: "scalar", version: "1.0.0", setup(ctx) {
  ctx.mcp.tool("t", { description: "x", input: z.string() }, () => "x");
} };`,
  }, { isolation: "worker" });
  const failed = Object.fromEntries(rig.host.list().map((p) => [p.name, p.error]));
  assert.match(failed.dotted!, /MCP tool name "tasks.create" is not allowed: use letters, digits/);
  assert.match(failed.long!, /MCP tool "long__x+" has 66 characters; clients accept at most 64/);
  assert.match(failed.twice!, /adds the MCP prompt "twice__p" twice/);
  assert.match(failed.scalar!, /must be a zod object/);
  assert.deepEqual((await rig.client.listTools()).tools, []);
});

Deno.test("MCP limits: arguments over the size limit are refused as -32602; a session's calls are bounded", async () => {
  await using rig = await mcpRig({ "plugins/probe/mod.ts": probePlugin() }, { isolation: "none" });
  const big = await rig.client.callTool({ name: "probe__echo", arguments: { text: "x".repeat(300_000) } });
  assert.equal(big.isError, true);
  assert.match(textOf(big), /^MCP error -32602: .*over the limit of 262144/);
  const calls = Array.from({ length: 17 }, () => rig.client.callTool({ name: "probe__slow", arguments: { ms: 200 } }));
  const results = await Promise.all(calls);
  const refused = results.filter((r: { isError?: boolean }) => r.isError);
  assert.equal(refused.length, 1);
  assert.match(textOf(refused[0]), /already has 16 calls .* in flight; at most 16 calls/);
});

Deno.test("MCP (isolated): a tool stuck in a loop answers at its deadline; the restarted worker serves the session", async () => {
  await using rig = await mcpRig({
    "plugins/probe/mod.ts": probePlugin(
      `ctx.mcp.tool("spin", { description: "Spins", input: z.object({}) }, () => { ${SPIN}; return "done"; });`,
    ),
  }, { isolation: "worker", limits: { probe: { routeTimeout: 400, hangTimeout: 1000 } } });
  await rig.dir.write("plugins/probe/spinning", "");
  const started = performance.now();
  const spin = await rig.client.callTool({ name: "probe__spin", arguments: {} });
  assert.ok(performance.now() - started < 3000);
  assert.equal(spin.isError, true);
  assert.match(textOf(spin), /did not answer within 400 ms/);
  // The watchdog ends the stuck worker and starts another; the same session calls it.
  await waitFor(() => rig.host.get("probe")!.restarts >= 1, { what: "the watchdog's restart", timeoutMs: 10_000 });
  await Deno.remove(`${rig.dir.dir}/plugins/probe/spinning`);
  let echo = "";
  for (let i = 0; i < 100 && echo !== "back"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    echo = textOf(await rig.client.callTool({ name: "probe__echo", arguments: { text: "back" } }));
  }
  assert.equal(echo, "back");
});

Deno.test("/mcp takes its limits from the host options: past maxSessions, a new session is refused", async () => {
  await using rig = await mcpRig({ "plugins/probe/mod.ts": probePlugin() }, {
    isolation: "none",
    mcp: { maxSessions: 1 },
  });
  // The rig's own client holds the one session allowed.
  const second = await fetch(rig.url, {
    method: "POST",
    headers: { ...POST_HEADERS, authorization: `Bearer ${rig.host.adminKey}` },
    body: INIT,
  });
  assert.equal(second.status, 503, await second.text());
});

Deno.test("a plugin cannot flood every client's tool list: past 100 entries its load fails, naming the limit", async () => {
  const many = (n: number) =>
    `import { z } from "zod";
    export default { name: "lister", version: "1.0.0", setup(ctx) {
      for (let i = 0; i < ${n}; i++) ctx.mcp.tool("t" + i, { description: "x", input: z.object({}) }, () => "ok");
    } };`;
  for (const isolation of ["worker", "none"] as const) {
    await using tmp = await tempPlugins({
      "plugins/lister/mod.ts": many(101),
      "plugins/fine/mod.ts": many(100).replace('"lister"', '"fine"'),
    });
    const host = folderHost(tmp.dir, { isolation });
    await host.start();
    try {
      assert.equal(host.get("fine")!.state, "active", host.get("fine")!.error);
      assert.equal(host.mcp.registry.listing("fine").tools.length, 100);
      assert.equal(host.get("lister")!.state, "failed");
      assert.match(host.get("lister")!.error!, /is one too many: a plugin may have 100 tools, resources and prompts/);
      assert.equal(host.mcp.registry.listing("lister").tools.length, 0, isolation);
    } finally {
      await host.stop();
    }
  }
});

Deno.test("a tool whose result breaks MCP's schema answers isError, reported against its plugin", async () => {
  const bad =
    `ctx.mcp.tool("badimage", { description: "Bad", input: z.object({}) }, () => ({ content: [{ type: "image", data: 5 }] }));`;
  for (const isolation of ["worker", "none"] as const) {
    await using rig = await mcpRig({ "plugins/probe/mod.ts": probePlugin(bad) }, { isolation });
    const reports: { plugin?: string; message: string }[] = [];
    rig.host.events.on("system.error", (e) => void reports.push(e));
    const result = await rig.client.callTool({ name: "probe__badimage", arguments: {} });
    assert.equal(result.isError, true, isolation);
    assert.match(textOf(result), /returned a result MCP cannot carry: content\.0/);
    assert.ok(reports.some((e) => e.plugin === "probe" && /cannot carry/.test(e.message)), isolation);
  }
});

Deno.test("an isolated tool's result over the limit is refused in its worker, before it crosses to the host", async () => {
  const big = `ctx.mcp.tool("big", { description: "Big", input: z.object({}) }, () => "x".repeat(2_000_000));`;
  await using rig = await mcpRig({ "plugins/probe/mod.ts": probePlugin(big) }, { isolation: "worker" });
  const result = await rig.client.callTool({ name: "probe__big", arguments: {} });
  assert.equal(result.isError, true);
  // Said by the worker ("it returned ..."), not by the host's own check of a result that crossed ("... returned ...").
  assert.match(textOf(result), /it returned \d+ characters of JSON, over the limit of 1048576/);
});
