/**
 * Who may use `/mcp`: every request carries the admin key (`Authorization:
 * Bearer` or `X-API-Key`, compared in constant time); every request with an
 * `Origin` must come from a loopback or allowed host (the MCP spec's guard
 * against DNS rebinding, applied even when a key is set); and without an
 * operator key (the host made its token) only loopback clients addressed to
 * a loopback name are answered, as by the admin API. Refusals are JSON-RPC
 * errors without an id.
 *
 * @module
 */

import { constantTimeEqual, presentedKey } from "../http/auth.ts";
import { hostNameOf, isLocalHost, isLoopback } from "../http/locality.ts";

/** The challenge sent with a 401 from `/mcp`. */
export const MCP_WWW_AUTHENTICATE = 'Bearer realm="plugboard"';

/** What the guard checks against. */
export interface McpGuardOptions {
  /** The admin key. */
  key: string;
  /** No operator key: answer loopback clients addressed to a loopback name only. @default false */
  local?: boolean;
  /** Host names accepted in `Origin` (and in `Host` in local mode) besides loopback names. @default [] */
  allowedHosts?: readonly string[];
}

/**
 * A JSON-RPC error response without an id.
 *
 * @param status the HTTP status
 * @param message what is wrong and how to fix it
 * @param headers more headers
 * @returns the response
 */
export function rpcError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Whether an Origin header names a loopback or allowed host over http(s), whatever the port. */
function originAllowed(origin: string, allowed: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const name = hostNameOf(url.hostname);
  return name !== undefined && isLocalHost(name, allowed);
}

/**
 * Checks one `/mcp` request.
 *
 * @param options the key, local mode and allowed hosts
 * @param request the request
 * @param client the client's address, when known
 * @returns the refusal (401 or 403), or undefined to go on
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refuseMcp } from "./guard.ts";
 * const options = { key: "k".repeat(16) };
 * const ok = new Request("http://127.0.0.1/mcp", { headers: { authorization: `Bearer ${"k".repeat(16)}` } });
 * assert.equal(refuseMcp(options, ok, "127.0.0.1"), undefined);
 * assert.equal(refuseMcp(options, new Request("http://127.0.0.1/mcp"), "127.0.0.1")?.status, 401);
 * const page = new Request(ok.url, { headers: { ...Object.fromEntries(ok.headers), origin: "https://evil.example" } });
 * assert.equal(refuseMcp(options, page, "127.0.0.1")?.status, 403);
 * ```
 */
export function refuseMcp(
  options: McpGuardOptions,
  request: Request,
  client: string | undefined,
): Response | undefined {
  const allowed = options.allowedHosts ?? [];
  const origin = request.headers.get("origin");
  if (origin !== null && !originAllowed(origin, allowed)) {
    return rpcError(
      403,
      `Requests to /mcp from pages of other sites are refused (Origin is ${JSON.stringify(origin)}). Connect ` +
        `from a client that is not a web page, or add the page's host name to "allowedHosts"`,
    );
  }
  if (options.local) {
    const host = request.headers.get("host");
    if (!isLoopback(client) || (host !== null && !isLocalHost(host, allowed))) {
      return rpcError(
        403,
        `No admin key is configured, so /mcp answers loopback clients addressed to a loopback name only. ` +
          `Connect to http://127.0.0.1, or set PLUGBOARD_API_KEY`,
      );
    }
  }
  const given = presentedKey(request.headers);
  if (given !== undefined && constantTimeEqual(given, options.key)) return undefined;
  return rpcError(
    401,
    given === undefined
      ? "/mcp needs the admin key, sent as Authorization: Bearer <key> or X-API-Key (PLUGBOARD_API_KEY, or the " +
        "token printed at start)"
      : "The key sent is not the admin key",
    { "www-authenticate": MCP_WWW_AUTHENTICATE },
  );
}
