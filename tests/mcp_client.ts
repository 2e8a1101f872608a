/**
 * For the MCP tests: a host served on a free port, an SDK `Client` connected
 * to its `/mcp` over Streamable HTTP, and the notifications it received.
 *
 * @module
 */

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { type Host, type HostOptions, type RunningServer, serve } from "../mod.ts";
import { folderHost, type TempPlugins, tempPlugins } from "./_helpers.ts";
import type { LogRecord } from "../mod.ts";

/** A served host and a connected client. */
export interface McpRig {
  host: Host & { logs: LogRecord[] };
  server: RunningServer;
  client: Client;
  /** `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** The list_changed notifications received, by method, in order. */
  notifications: string[];
  /** Connects another client. */
  connect(): Promise<Client>;
  /** Connects another client, and gives its transport. */
  connectWithTransport(): Promise<{ client: Client; transport: StreamableHTTPClientTransport }>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A fixture plugin with MCP tools; `extra` is more setup code. */
export function probePlugin(extra = ""): string {
  return `import { z } from "zod";
export default {
  name: "probe",
  version: "1.0.0",
  setup(ctx) {
    ctx.mcp.tool("echo", { description: "Echoes", input: z.object({ text: z.string() }) }, ({ text }) => text);
    ctx.mcp.tool("boom", { description: "Throws", input: z.object({}) }, () => {
      throw new Error("Database is down");
    });
    ctx.mcp.tool("hang", { description: "Never answers", input: z.object({}) }, () => new Promise(() => {}));
    ctx.mcp.tool("slow", { description: "Answers after ms", input: z.object({ ms: z.number() }) }, ({ ms }) =>
      new Promise((r) => setTimeout(() => r("slow done by " + ${JSON.stringify("v")} + ctx.version), ms)));
    ${extra}
  },
};
`;
}

/**
 * Serves a host over the given plugin files (under `plugins/`) and connects a client.
 *
 * @param files path under the test folder → content
 * @param options host options (isolation, limits)
 */
export async function mcpRig(
  files: Record<string, string>,
  options: HostOptions = {},
): Promise<McpRig & { dir: TempPlugins }> {
  const dir = await tempPlugins(files);
  const host = folderHost(dir.dir, options);
  await host.start();
  const server = serve(host, { port: 0 });
  const url = `http://127.0.0.1:${server.addr.port}/mcp`;
  const notifications: string[] = [];
  const clients: Client[] = [];
  const connectWithTransport = async () => {
    const client = new Client({ name: "mcp-test", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${host.adminKey}` } },
    });
    await client.connect(transport);
    clients.push(client);
    return { client, transport };
  };
  const connect = async () => (await connectWithTransport()).client;
  const client = await connect();
  for (
    const schema of [
      ToolListChangedNotificationSchema,
      ResourceListChangedNotificationSchema,
      PromptListChangedNotificationSchema,
    ]
  ) {
    client.setNotificationHandler(schema, (n: { method: string }) => void notifications.push(n.method));
  }
  return {
    host,
    server,
    client,
    url,
    notifications,
    connect,
    connectWithTransport,
    dir,
    async [Symbol.asyncDispose]() {
      for (const c of clients) await c.close().catch(() => {});
      await server.shutdown();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** The text of a tool result's first item. */
export function textOf(result: unknown): string {
  return ((result as { content: { text?: string }[] }).content[0]?.text) ?? "";
}
