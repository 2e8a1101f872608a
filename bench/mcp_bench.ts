/**
 * MCP: a `tools/call` round trip over Streamable HTTP (the official SDK's
 * client against `/mcp`) for a trivial tool, `hello__greet`, against the same
 * work through a plain plugin route (`GET /api/plugins/hello/greet/<who>`),
 * with `hello` in-process and isolated in a worker. The server runs in its
 * own process (`_http_server.ts`); the client calls one at a time, and the
 * figure is the median of batches of sequential calls.
 *
 * Effort: BENCH_MCP_BATCHES (default 15) batches of BENCH_MCP_CALLS (default 100).
 *
 * @module
 */

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startServer } from "./http_bench.ts";
import { HELLO_PATH } from "./_http_server.ts";
import { effort } from "./_effort.ts";

/** One case: the tool call and the route, median µs per sequential call. */
export interface McpCase {
  /** Where `hello` runs. */
  where: string;
  toolCallUs: number;
  routeUs: number;
  /** toolCallUs / routeUs. */
  ratio: number;
}

const KEY = "bench-admin-key-0123456789";

async function perCall(fn: () => Promise<unknown>, batches: number, calls: number): Promise<number> {
  for (let i = 0; i < calls * 2; i++) await fn();
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t = performance.now();
    for (let i = 0; i < calls; i++) await fn();
    samples.push(((performance.now() - t) * 1000) / calls);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/**
 * Runs the MCP group.
 *
 * @param filter only when "mcp" matches
 * @returns the cases
 */
export async function runStandalone(filter?: RegExp): Promise<McpCase[] | undefined> {
  if (filter && !filter.test("mcp")) return undefined;
  const batches = Math.max(3, effort("BENCH_MCP_BATCHES"));
  const calls = Math.max(10, effort("BENCH_MCP_CALLS"));
  const cases: McpCase[] = [];
  console.log(`\n• mcp: tools/call over Streamable HTTP against a plain route (median of ${batches} × ${calls} calls)`);
  for (const [kind, where] of [["hello-inproc", "in-process"], ["hello", "in a worker (default)"]] as const) {
    const server = await startServer(kind, { BENCH_ADMIN_KEY: KEY });
    const client = new Client({ name: "bench", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.base}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${KEY}` } },
    });
    try {
      await client.connect(transport);
      const call = async () => {
        const r = await client.callTool({ name: "hello__greet", arguments: { who: "bench" } });
        if (r.isError) throw new Error(`hello__greet failed: ${JSON.stringify(r.content)}`);
      };
      const route = async () => {
        const res = await fetch(server.base + HELLO_PATH);
        await res.text();
      };
      const toolCallUs = await perCall(call, batches, calls);
      const routeUs = await perCall(route, batches, calls);
      cases.push({ where, toolCallUs, routeUs, ratio: toolCallUs / routeUs });
      console.log(
        `  hello ${where.padEnd(22)} tools/call ${toolCallUs.toFixed(0).padStart(6)} µs   route ${
          routeUs.toFixed(0).padStart(6)
        } µs   ${(toolCallUs / routeUs).toFixed(2)}x`,
      );
    } finally {
      await client.close().catch(() => {});
      await server.stop();
    }
  }
  return cases;
}

if (import.meta.main) await runStandalone();
