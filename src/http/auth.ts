/**
 * The admin API's guard: an `X-API-Key` compared in constant time, or, with
 * no key configured, loopback clients only.
 *
 * @module
 */

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { codeProblem } from "./problem.ts";

// Captured when the host starts, before any plugin loads: a plugin that
// patches globals (crypto.subtle, say) cannot change how keys compare.
const KEY = randomBytes(32);

/**
 * Compares two strings in time that does not depend on where they differ
 * (both are HMAC-hashed first, so their lengths do not leak either).
 *
 * @param a one string
 * @param b the other
 * @returns whether they are equal
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { constantTimeEqual } from "./auth.ts";
 * assert.equal(constantTimeEqual("k", "k"), true);
 * assert.equal(constantTimeEqual("k", "j"), false);
 * ```
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = createHmac("sha256", KEY).update(a).digest();
  const y = createHmac("sha256", KEY).update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * Tells whether an address is loopback (127.0.0.0/8 or ::1).
 *
 * @param hostname the client address
 * @returns true for loopback
 */
export function isLoopback(hostname: string | undefined): boolean {
  if (!hostname) return false;
  return hostname === "::1" || hostname.startsWith("127.") || hostname.startsWith("::ffff:127.");
}

/** The Hono environment the host's app runs with. */
export interface HostEnv {
  Bindings: { info?: Deno.ServeHandlerInfo };
}

/** Options for {@linkcode adminGuard}. */
export interface AdminGuardOptions {
  /** The key; undefined for loopback-only access. @default undefined */
  apiKey?: string;
  /** Host names accepted in the `Host` header in no-key mode, besides loopback names. @default [] */
  allowedHosts?: readonly string[];
  /** Receives one line per admin request: what, which plugin, result, client. @default nothing */
  audit?: (line: string, refused: boolean) => void;
}

/** The `WWW-Authenticate` challenge sent with every 401 (RFC 9110, section 11.6.1). */
export const WWW_AUTHENTICATE = 'APIKey realm="plugboard admin API", header="X-API-Key"';

/**
 * The host name of a `Host` header value, lower-cased, without its port.
 *
 * @param host a Host header value such as `localhost:8000` or `[::1]:8000`
 * @returns the name alone
 */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return colon < 0 ? h : h.slice(0, colon);
}

const IPV4_LOOPBACK = /^127\.(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){2}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/**
 * Tells whether a `Host` header names this machine's loopback interface
 * (`localhost`, `127.x.y.z` in dotted form, `[::1]`) or one of `allowed`.
 * Anything else (a rebinding domain, a decimal IP, userinfo) is refused.
 *
 * @param host the Host header value
 * @param allowed extra host names, lower-case
 * @returns whether the admin API may answer it in no-key mode
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLocalHost } from "./auth.ts";
 * assert.equal(isLocalHost("localhost:8000", []), true);
 * assert.equal(isLocalHost("[::1]:8000", []), true);
 * assert.equal(isLocalHost("rebind.attacker.example", []), false);
 * assert.equal(isLocalHost("2130706433:8000", []), false);
 * ```
 */
export function isLocalHost(host: string, allowed: readonly string[]): boolean {
  const name = hostName(host);
  return name === "localhost" || name === "[::1]" || IPV4_LOOPBACK.test(name) || allowed.includes(name);
}

/**
 * Builds the admin guard. With a key, the `X-API-Key` header must match it
 * (401 with `WWW-Authenticate` otherwise). Without one, only loopback clients
 * are answered (403 otherwise), and only when the `Host` header is a loopback
 * name or an allowed host and any `Origin` is the same origin (DNS rebinding
 * and cross-site requests are refused with 403).
 *
 * @param options key, allowed hosts and the audit log
 * @returns a Hono middleware answering 401/403 problems
 */
export function adminGuard(options: AdminGuardOptions = {}): MiddlewareHandler<HostEnv> {
  const { apiKey, allowedHosts = [], audit } = options;
  return async (c, next) => {
    const addr = c.env?.info?.remoteAddr;
    const client = addr && "hostname" in addr ? addr.hostname : undefined;
    const refusal = refuse(apiKey, allowedHosts, c.req.raw, client);
    const target = `${c.req.method} ${c.req.path}`;
    if (refusal) {
      audit?.(`Admin ${target} refused with ${refusal.status} (client ${client ?? "unknown"})`, true);
      return refusal;
    }
    await next();
    audit?.(`Admin ${target} answered ${c.res.status} (client ${client ?? "unknown"})`, false);
  };
}

/** Why an admin request is refused, as a problem response; undefined when it may proceed. */
function refuse(
  apiKey: string | undefined,
  allowedHosts: readonly string[],
  request: Request,
  client: string | undefined,
): Response | undefined {
  if (apiKey) {
    const given = request.headers.get("x-api-key");
    if (!given) {
      return codeProblem("UNAUTHORIZED", "The admin API needs an X-API-Key header", {}, {
        "www-authenticate": WWW_AUTHENTICATE,
      });
    }
    if (!constantTimeEqual(given, apiKey)) {
      return codeProblem("UNAUTHORIZED", "The X-API-Key header is not the admin key", {}, {
        "www-authenticate": WWW_AUTHENTICATE,
      });
    }
    return undefined;
  }
  if (!isLoopback(client)) {
    return codeProblem(
      "FORBIDDEN",
      `No admin key is configured, so the admin API answers loopback clients only (this one is ${
        client ?? "unknown"
      }). Set PLUGBOARD_API_KEY (or the apiKey option) and send it as X-API-Key`,
    );
  }
  const host = request.headers.get("host");
  if (host !== null && !isLocalHost(host, allowedHosts)) {
    return codeProblem(
      "FORBIDDEN",
      `No admin key is configured, so the admin API answers only requests addressed to a loopback name ` +
        `(Host is "${host}"). Use http://127.0.0.1 or http://localhost, add the name to "allowedHosts", ` +
        `or set PLUGBOARD_API_KEY`,
    );
  }
  const origin = request.headers.get("origin");
  if (origin !== null && !sameOrigin(origin, host ?? hostOfUrl(request.url))) {
    return codeProblem(
      "FORBIDDEN",
      `No admin key is configured, so the admin API refuses cross-site requests (Origin is "${origin}"). ` +
        `Call it from the same origin or without a browser, or set PLUGBOARD_API_KEY`,
    );
  }
  return undefined;
}

function hostOfUrl(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

/** Whether an `Origin` header names the same host and port the request was sent to. */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && url.host === host.trim().toLowerCase();
  } catch {
    return false;
  }
}
