/**
 * An MCP tool's `extra.signal` (`src/mcp/plugin_mcp.ts`): aborted by the
 * client's cancel and by its plugin version's end, and let go of once the
 * call is over.
 *
 * @module
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { Scope } from "../src/scope.ts";
import { createPluginMcp } from "../src/mcp/plugin_mcp.ts";
import type { McpEntry } from "../src/mcp/port.ts";

/** A tool whose handler the test supplies, committed in a scope of its own. */
function toolIn(handler: (signal: AbortSignal) => unknown) {
  const live: McpEntry[] = [];
  const scope = new Scope("probe");
  createPluginMcp("probe", { add: (_owner, e) => (live.push(e), () => {}) }, scope)
    .tool("t", { description: "Test", input: z.object({}) }, (_args, { signal }) => handler(signal));
  scope.commit();
  const run = (signal = new AbortController().signal) => live[0].run({}, { signal, sessionId: "s" });
  return { scope, run };
}

Deno.test("MCP tool signal: the client's cancel and the version's end both abort it, with their reason", async () => {
  const waiting = (signal: AbortSignal) =>
    new Promise((resolve) => {
      const done = () => resolve(`aborted: ${signal.reason}`);
      if (signal.aborted) done();
      else signal.addEventListener("abort", done);
    });
  const cancelled = toolIn(waiting);
  const client = new AbortController();
  const call = cancelled.run(client.signal);
  client.abort("the client cancelled");
  assert.deepEqual(await call, { content: [{ type: "text", text: "aborted: the client cancelled" }] });

  const ending = toolIn(waiting);
  const running = ending.run();
  await ending.scope.dispose();
  const text = ((await running) as { content: { text: string }[] }).content[0].text;
  assert.match(text, /^aborted: AbortError: Plugin "probe" was unloaded/);
});

Deno.test("MCP tool signal: a call that has ended is let go of (the version's end reaches none of its listeners)", async () => {
  let fired = 0;
  const { scope, run } = toolIn((signal) => {
    signal.addEventListener("abort", () => fired++);
    return "done";
  });
  for (let i = 0; i < 100; i++) await run();
  await scope.dispose();
  assert.equal(fired, 0, "no finished call's signal still hangs on the version's");
});
