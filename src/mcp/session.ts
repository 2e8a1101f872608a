/**
 * One MCP session, over HTTP or stdio: its server, its budget, when it was
 * last used, and the host events that mark its start and end.
 *
 * @module
 */

import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { PlugboardEvents } from "../event_types.ts";
import type { EventBus } from "../events.ts";
import type { SessionBudget } from "./calls.ts";
import { createSessionServer, type SessionPorts } from "./session_server.ts";

/** What a session needs of the host. */
export interface McpSessionPorts extends SessionPorts {
  events: EventBus<PlugboardEvents>;
}

/** One session. */
export class McpSession {
  /** Its SDK server. */
  readonly server: Server;
  /** Its calls in flight and made. */
  readonly budget: SessionBudget;
  /** When it last received a request (`performance.now()`). */
  lastActive: number = performance.now();
  #events: EventBus<PlugboardEvents>;
  #kind: "http" | "stdio";
  #id: () => string;
  #opened = false;
  #closed = false;

  /**
   * @param ports the table, the call runner and the bus
   * @param kind how the client is connected
   * @param id its id, once known
   */
  constructor(ports: McpSessionPorts, kind: "http" | "stdio", id: () => string) {
    ({ server: this.server, budget: this.budget } = createSessionServer(ports, id));
    this.#events = ports.events;
    this.#kind = kind;
    this.#id = id;
    this.server.oninitialized = () => {
      this.#opened = true;
      this.#events.emit("mcp.session.opened", { sessionId: id(), client: this.#client(), transport: kind });
    };
    const previous = this.server.onclose;
    this.server.onclose = () => {
      previous?.();
      this.#ended();
    };
  }

  /** Whether it is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Connects it to its transport.
   *
   * @param transport the transport, not started
   */
  connect(transport: Transport): Promise<void> {
    return this.server.connect(transport);
  }

  /** Closes it (its transport too); idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.server.close().catch(() => {});
    this.#ended();
  }

  #ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#opened) return;
    this.#events.emit("mcp.session.closed", {
      sessionId: this.#id(),
      client: this.#client(),
      transport: this.#kind,
      calls: this.budget.total,
    });
  }

  #client(): string | undefined {
    const name = this.server.getClientVersion()?.name;
    return typeof name === "string" ? name.slice(0, 100) : undefined;
  }
}
