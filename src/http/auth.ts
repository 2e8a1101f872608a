/**
 * The admin API's guard: an `X-API-Key` compared in constant time, or, with
 * no key configured, loopback clients only.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { problemResponse } from "./problem.ts";

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * Compares two strings in time that does not depend on where they differ
 * (both are hashed first, so their lengths do not leak either).
 *
 * @param a one string
 * @param b the other
 * @returns whether they are equal
 *
 * @example
 * ```ts
 * import { constantTimeEqual } from "./auth.ts";
 * if (!(await constantTimeEqual("k", "k")) || await constantTimeEqual("k", "j")) throw new Error();
 * ```
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
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
  return async (c, next) => {
    if (apiKey) {
      const given = c.req.header("x-api-key");
      if (!given) {
        return problemResponse(c, 401, {
          title: "Unauthorized",
          detail: "The admin API needs an X-API-Key header",
        });
      }
      if (!(await constantTimeEqual(given, apiKey))) {
        return problemResponse(c, 403, { title: "Forbidden", detail: "The X-API-Key header is not the admin key" });
      }
      return next();
    }
    const addr = c.env?.info?.remoteAddr;
    const hostname = addr && "hostname" in addr ? addr.hostname : undefined;
    if (!isLoopback(hostname)) {
      return problemResponse(c, 403, {
        title: "Forbidden",
        detail: `No admin key is configured, so the admin API answers loopback clients only (this one is ${
          hostname ?? "unknown"
        }). Set PLUGBOARD_API_KEY (or the apiKey option) and send it as X-API-Key`,
      });
    }
    return next();
  };
}
