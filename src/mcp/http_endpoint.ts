/**
 * `/mcp`: MCP's Streamable HTTP transport, from the official SDK, with one
 * session (its own transport and server) per client. Every request is
 * guarded (`guard.ts`); a session is made only for an authorised
 * `initialize`; sessions are capped in number and closed when idle, and all
 * of them when the host stops. A client whose session is gone gets 404 and
 * initializes again, as the spec requires.
 *
 * @module
 */

import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { type McpGuardOptions, refuseMcp, rpcError } from "./guard.ts";
import type { McpLimits } from "./limits.ts";
import { McpSession, type McpSessionPorts } from "./session.ts";

/** The path of the endpoint. */
export const MCP_PATH = "/mcp";

/** What the endpoint is built from. */
export interface McpEndpointOptions {
  ports: McpSessionPorts;
  guard: McpGuardOptions;
  limits: McpLimits;
}

/** The `/mcp` endpoint and its sessions. */
export class McpHttpEndpoint {
  #options: McpEndpointOptions;
  #sessions = new Map<string, McpSession>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /** @param options the session ports, the guard and the limits */
  constructor(options: McpEndpointOptions) {
    this.#options = options;
  }

  /** How many sessions are open. */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Answers one request to `/mcp`.
   *
   * @param request the request
   * @param client the client's address, when known
   * @returns the response (an SSE stream for requests that open one)
   */
  async fetch(request: Request, client: string | undefined): Promise<Response> {
    const refusal = refuseMcp(this.#options.guard, request, client);
    if (refusal) return refusal;
    const id = request.headers.get("mcp-session-id");
    if (id !== null) {
      const session = this.#sessions.get(id);
      if (!session) {
        return rpcError(404, "Session not found: it ended (idle, closed, or the server restarted). Initialize again");
      }
      session.lastActive = performance.now();
      const transport = this.#transports.get(session)!;
      try {
        return await transport.handleRequest(request);
      } finally {
        session.lastActive = performance.now();
      }
    }
    if (request.method !== "POST") {
      return rpcError(400, "No Mcp-Session-Id header: POST an initialize request first to open a session");
    }
    const { limits } = this.#options;
    if (this.#sessions.size >= limits.maxSessions) {
      return rpcError(503, `Too many MCP sessions are open (${limits.maxSessions}); close one, or try again later`, {
        "retry-after": "5",
      });
    }
    return await this.#open(request);
  }

  /** Closes every session (the host is stopping). */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map((s) => s.close()));
  }

  #transports = new WeakMap<McpSession, WebStandardStreamableHTTPServerTransport>();

  async #open(request: Request): Promise<Response> {
    const { limits } = this.#options;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      maxRequestBodySize: limits.maxRequestBodySize,
      onsessioninitialized: (sid: string) => {
        this.#sessions.set(sid, session);
        this.#sweep();
      },
      onsessionclosed: (sid: string) => this.#drop(sid),
    });
    // Called back by the transport only while it handles the request below, when `session` is set.
    const session: McpSession = new McpSession(this.#options.ports, "http", () => transport.sessionId ?? "");
    this.#transports.set(session, transport);
    const opened = session;
    const previous = opened.server.onclose;
    opened.server.onclose = () => {
      previous?.();
      const sid = transport.sessionId;
      if (sid && this.#sessions.get(sid) === opened) this.#sessions.delete(sid);
    };
    await session.connect(transport);
    const response = await transport.handleRequest(request);
    // Not an initialize (or a refused one): no session was made, nothing is kept.
    if (transport.sessionId === undefined || !this.#sessions.has(transport.sessionId)) await session.close();
    return response;
  }

  #drop(sid: string): void {
    const session = this.#sessions.get(sid);
    this.#sessions.delete(sid);
    session?.close();
  }

  /** Closes the sessions idle past the limit; runs while any session is open. */
  #sweep(): void {
    if (this.#sweeper !== undefined) return;
    const idle = this.#options.limits.idleTimeout;
    this.#sweeper = setInterval(() => {
      const now = performance.now();
      for (const [sid, s] of this.#sessions) {
        if (s.budget.calls === 0 && now - s.lastActive > idle) this.#drop(sid);
      }
      if (this.#sessions.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, Math.max(10, Math.min(idle / 2, 60_000)));
    Deno.unrefTimer(this.#sweeper);
  }
}
