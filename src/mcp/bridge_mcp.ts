/**
 * The host side of a worker's MCP entries: each announced descriptor becomes
 * a stand-in in the host's table (staged in the version's scope, like every
 * other registration), whose run asks the worker. The host's table checks
 * the descriptor, since the worker is not trusted to.
 *
 * @module
 */

import type { Rpc, RpcHandler } from "../runtime/rpc.ts";
import type { McpEntry, McpKind, McpPort } from "./port.ts";

/** What the bridge reads of its version. */
export interface McpBridgedVersion {
  rpc(): Rpc;
  name(): string;
  /** The host's ports; their `mcp` is the host's MCP table. */
  ports(): { mcp?: McpPort } | undefined;
}

/** How the bridge stages a stand-in and withdraws it. */
export interface McpStaging {
  /** Stages a stand-in in the version's scope; `key` lets the worker withdraw it. */
  register(key: string, activate: () => (() => void) | void): void;
  /** Withdraws a stand-in. */
  withdraw(key: string): void;
}

const KINDS = new Set<McpKind>(["tool", "resource", "prompt"]);

/**
 * The calls a worker makes about its MCP entries.
 *
 * @param v the version whose worker announces them
 * @param staging the bridge's staging in the version's scope
 * @returns the handlers, to merge with the bridge's
 */
export function mcpBridgeHandlers(v: McpBridgedVersion, staging: McpStaging): Record<string, RpcHandler> {
  let nextCall = 1;
  return {
    mcpAdd: (p: { id: number; kind: McpKind; descriptor: unknown }) => {
      if (!KINDS.has(p?.kind) || !Number.isInteger(p.id)) return;
      staging.register(`mcp:${p.id}`, () => {
        const entry = {
          kind: p.kind,
          descriptor: p.descriptor,
          run: (input, extra) => {
            const callId = nextCall++;
            const cancel = () => v.rpc().notify("mcpCancel", { callId });
            extra.signal.addEventListener("abort", cancel, { once: true });
            const { sessionId, maxResultChars } = extra;
            return v.rpc().call("mcpRun", { id: p.id, callId, input, sessionId, maxResultChars }).finally(() =>
              extra.signal.removeEventListener("abort", cancel)
            );
          },
        } as McpEntry;
        return v.ports()?.mcp?.add(v.name(), entry);
      });
    },
    mcpRemove: (p: { id: number }) => staging.withdraw(`mcp:${p?.id}`),
  };
}
