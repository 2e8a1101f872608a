/**
 * Inside a plugin's worker (or sandbox process): the stand-in for the host's
 * MCP table. An entry's descriptor is announced to the host, which lists it
 * and checks arguments; its handler stays here and runs when the host asks
 * (`mcpRun`), with an abort signal the host can fire (`mcpCancel`).
 *
 * @module
 */

import { PluginError } from "../errors.ts";
import type { Rpc } from "../runtime/rpc.ts";
import type { McpEntry, McpPort } from "./port.ts";

/** What the host sends to run an entry. */
export interface McpRunRequest {
  id: number;
  callId: number;
  input: unknown;
  sessionId: string;
  /** The host's limit on a result, checked here so that an oversized one never crosses. */
  maxResultChars?: number;
}

/** The worker's MCP table: entries by id, announced to the host. */
export class WorkerMcp implements McpPort {
  #rpc: Rpc;
  #next = 1;
  #entries = new Map<number, McpEntry>();
  #calls = new Map<number, AbortController>();

  /** @param rpc the channel to the host */
  constructor(rpc: Rpc) {
    this.#rpc = rpc;
  }

  /** Announces the entry; the host makes a stand-in live. */
  add(_owner: string, entry: McpEntry): () => void {
    const id = this.#next++;
    this.#entries.set(id, entry);
    this.#rpc.notify("mcpAdd", { id, kind: entry.kind, descriptor: entry.descriptor });
    return () => {
      if (this.#entries.delete(id)) this.#rpc.notify("mcpRemove", { id });
    };
  }

  /**
   * Runs an entry for the host.
   *
   * @param p which entry, the call's id, its input and session
   * @returns the entry's result, in MCP's shape
   * @throws {PluginError} `NOT_FOUND` when the entry was removed meanwhile
   */
  async run(p: McpRunRequest): Promise<unknown> {
    const entry = this.#entries.get(p?.id);
    if (!entry) throw new PluginError("NOT_FOUND", `That MCP ${p?.id ? "entry" : "call"} is no longer registered`);
    const abort = new AbortController();
    this.#calls.set(p.callId, abort);
    try {
      const result = await entry.run(p.input, { signal: abort.signal, sessionId: String(p.sessionId) });
      const max = p.maxResultChars;
      if (typeof max === "number") {
        const chars = JSON.stringify(result ?? null)?.length ?? 0;
        if (chars > max) throw new Error(`it returned ${chars} characters of JSON, over the limit of ${max}`);
      }
      return result;
    } finally {
      this.#calls.delete(p.callId);
    }
  }

  /**
   * Aborts a call in flight (the client cancelled it, or it ran over its deadline).
   *
   * @param p the call's id
   */
  cancel(p: { callId: number }): void {
    this.#calls.get(p?.callId)?.abort(new DOMException("The MCP call was cancelled", "AbortError"));
  }
}
