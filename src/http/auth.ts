/**
 * The admin API's guard: an `X-API-Key` compared in constant time, or, with
 * no key configured, loopback clients only.
 *
 * @module
 */

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { problem } from "./problem.ts";

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

/**
 * Builds the admin guard.
 *
 * @param apiKey the key; undefined or empty for loopback-only access
 * @returns a Hono middleware answering 401/403 problems
 */
export function adminGuard(apiKey: string | undefined): MiddlewareHandler<HostEnv> {
  return (c, next) => {
    const refusal = refuse(apiKey, c.req.header("x-api-key"), c.env?.info?.remoteAddr);
    return refusal ? Promise.resolve(refusal) : next();
  };
}

/** Why an admin request is refused, as a problem response; undefined when it may proceed. */
function refuse(
  apiKey: string | undefined,
  given: string | undefined,
  addr: Deno.Addr | undefined,
): Response | undefined {
  if (apiKey) {
    if (!given) return problem(401, { title: "Unauthorized", detail: "The admin API needs an X-API-Key header" });
    if (!constantTimeEqual(given, apiKey)) {
      return problem(403, { title: "Forbidden", detail: "The X-API-Key header is not the admin key" });
    }
    return undefined;
  }
  const hostname = addr && "hostname" in addr ? addr.hostname : undefined;
  if (isLoopback(hostname)) return undefined;
  return problem(403, {
    title: "Forbidden",
    detail: `No admin key is configured, so the admin API answers loopback clients only (this one is ${
      hostname ?? "unknown"
    }). Set PLUGBOARD_API_KEY (or the apiKey option) and send it as X-API-Key`,
  });
}
