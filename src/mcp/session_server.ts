/**
 * One MCP session's server: a thin low-level SDK `Server` (one per
 * transport, never shared) whose handlers read the host's one table, and
 * which forwards the table's changes as `list_changed` notifications.
 * Notifications sent in the same tick are coalesced by the SDK
 * (`debouncedNotificationMethods`).
 *
 * @module
 */

import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { CallContext, McpCalls, SessionBudget } from "./calls.ts";
import type { McpRegistry } from "./registry.ts";

/** The name and version the endpoint introduces itself with. */
export const SERVER_INFO = { name: "plugboard", version: "0.1.0" } as const;

const LIST_CHANGED = {
  tool: "notifications/tools/list_changed",
  resource: "notifications/resources/list_changed",
  prompt: "notifications/prompts/list_changed",
} as const;

/** A request as a handler receives it. */
type Req<P> = { params: P };
/** What a handler receives besides the request. */
type Extra = { signal: AbortSignal };

/** What a session's server reads. */
export interface SessionPorts {
  registry: McpRegistry;
  calls: McpCalls;
}

/**
 * Builds the server of one session; it stops following the table when it closes.
 *
 * @param ports the table and the call runner
 * @param sessionId the session's id (`stdio` for the stdio entry)
 * @returns the server, not connected, and the session's budget (its calls so far in `total`)
 */
export function createSessionServer(
  ports: SessionPorts,
  sessionId: () => string,
): { server: Server; budget: SessionBudget } {
  const server = new Server(SERVER_INFO, {
    capabilities: {
      tools: { listChanged: true },
      resources: { listChanged: true },
      prompts: { listChanged: true },
    },
    debouncedNotificationMethods: Object.values(LIST_CHANGED),
  });
  const { registry, calls } = ports;
  const budget: SessionBudget = { calls: 0, chars: 0, total: 0 };
  const ctx = (signal: AbortSignal): CallContext => ({ sessionId: sessionId(), signal, budget });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: registry.tools() }));
  server.setRequestHandler(
    CallToolRequestSchema,
    (r: Req<{ name: string; arguments?: unknown }>, extra: Extra) =>
      calls.tool(r.params.name, r.params.arguments, ctx(extra.signal)) as never,
  );
  server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: registry.resources() }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: registry.templates().map(({ uri, ...rest }) => ({ ...rest, uriTemplate: uri })),
  }));
  server.setRequestHandler(
    ReadResourceRequestSchema,
    (r: Req<{ uri: string }>, extra: Extra) => calls.resource(r.params.uri, ctx(extra.signal)) as never,
  );
  server.setRequestHandler(ListPromptsRequestSchema, () => ({
    prompts: registry.prompts().map(({ argsSchema: _, ...rest }) => rest),
  }));
  server.setRequestHandler(
    GetPromptRequestSchema,
    (r: Req<{ name: string; arguments?: unknown }>, extra: Extra) =>
      calls.prompt(r.params.name, r.params.arguments, ctx(extra.signal)) as never,
  );
  const stop = registry.onChange((kinds) => {
    for (const kind of kinds) {
      server.notification({ method: LIST_CHANGED[kind] }).catch(() => {
        // No stream to carry it (the client has not opened one, or it closed): the client lists again when it reconnects.
      });
    }
  });
  const previous = server.onclose;
  server.onclose = () => {
    stop();
    previous?.();
  };
  return { server, budget };
}
