/**
 * Everything MCP the host holds: the one table of tools, resources and
 * prompts (`registry.ts`), the call runner (`calls.ts`), the `/mcp` endpoint
 * and its sessions (`http_endpoint.ts`), and sessions over other transports
 * (the stdio entry).
 *
 * @module
 */

import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { PlugboardEvents } from "../event_types.ts";
import type { EventBus } from "../events.ts";
import type { PluginInfo } from "../plugin_info.ts";
import type { ErrorReporter } from "../reporter.ts";
import { McpCalls } from "./calls.ts";
import type { McpGuardOptions } from "./guard.ts";
import { McpHttpEndpoint } from "./http_endpoint.ts";
import { DEFAULT_MCP_LIMITS, type McpLimits } from "./limits.ts";
import { McpRegistry } from "./registry.ts";
import { McpSession } from "./session.ts";

/** What {@linkcode McpHub} is built from. */
export interface McpHubOptions {
  events: EventBus<PlugboardEvents>;
  report: ErrorReporter;
  /** A plugin's route deadline, in ms: each MCP call of its entries gets as long. */
  deadline(plugin: string): number;
  /** Who may use `/mcp`. */
  guard: McpGuardOptions;
  /** Limits on sessions and calls. @default DEFAULT_MCP_LIMITS */
  limits?: Partial<McpLimits>;
}

/**
 * The host's MCP side.
 *
 * @example A tool listed and called through a hub of one's own
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventBus } from "../events.ts";
 * import { McpHub } from "./hub.ts";
 * const hub = new McpHub({ events: new EventBus(), report: () => {}, deadline: () => 1000, guard: { key: "k".repeat(16) } });
 * hub.registry.add("hello", {
 *   kind: "tool",
 *   descriptor: { name: "hello__hi", description: "Says hi", inputSchema: { type: "object" } },
 *   run: () => Promise.resolve({ content: [{ type: "text", text: "hi" }] }),
 * });
 * assert.deepEqual(hub.listing("hello").tools, ["hello__hi"]);
 * await hub.close();
 * ```
 */
export class McpHub {
  /** Every plugin's tools, resources and prompts. */
  readonly registry: McpRegistry = new McpRegistry();
  /** Runs calls against the table. */
  readonly calls: McpCalls;
  #options: McpHubOptions;
  #http: McpHttpEndpoint;
  #others = new Set<McpSession>();

  /** @param options the bus, the reporter, the deadlines, the guard and the limits */
  constructor(options: McpHubOptions) {
    this.#options = options;
    const limits = { ...DEFAULT_MCP_LIMITS, ...options.limits };
    this.calls = new McpCalls({ registry: this.registry, report: options.report, limits, deadline: options.deadline });
    this.#http = new McpHttpEndpoint({ ports: this.#ports(), guard: options.guard, limits });
  }

  /** How many sessions are open, over HTTP and other transports. */
  get sessions(): number {
    return this.#http.size + this.#others.size;
  }

  /**
   * Answers a request to `/mcp`.
   *
   * @param request the request
   * @param client the client's address, when known
   * @returns the response
   */
  fetch(request: Request, client?: string): Promise<Response> {
    return this.#http.fetch(request, client);
  }

  /**
   * Opens a session over another transport (the stdio entry's).
   *
   * @param transport the transport, not started
   * @param id the session's id
   * @returns the session, connected
   */
  async connect(transport: Transport, id = "stdio"): Promise<McpSession> {
    const session = new McpSession(this.#ports(), "stdio", () => id);
    this.#others.add(session);
    const previous = session.server.onclose;
    session.server.onclose = () => {
      previous?.();
      this.#others.delete(session);
    };
    await session.connect(transport);
    return session;
  }

  /**
   * What one plugin has registered.
   *
   * @param plugin the plugin
   * @returns its tool and prompt names and resource URIs
   */
  listing(plugin: string): { tools: string[]; resources: string[]; prompts: string[] } {
    return this.registry.listing(plugin);
  }

  /**
   * A plugin's info with its MCP registrations, when it has any.
   *
   * @param info the plugin's info
   * @returns the same info, with `mcp` when the plugin registered something
   */
  describe<T extends PluginInfo | undefined>(info: T): T {
    if (!info || info.state !== "active") return info;
    const mcp = this.listing(info.name);
    return mcp.tools.length || mcp.resources.length || mcp.prompts.length ? { ...info, mcp } : info;
  }

  /** Closes every session (the host is stopping). */
  async close(): Promise<void> {
    const others = [...this.#others];
    this.#others.clear();
    await Promise.all([this.#http.close(), ...others.map((s) => s.close())]);
  }

  #ports() {
    return { registry: this.registry, calls: this.calls, events: this.#options.events };
  }
}
