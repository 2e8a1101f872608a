/**
 * The admin API's guard: an `X-API-Key` compared in constant time, or, with
 * no key configured, loopback clients only.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { codeProblem } from "./problem.ts";
import {
  charCodeAt,
  header,
  HostURL,
  includes,
  indexOf,
  lastIndexOf,
  matches,
  slice,
  startsWith,
  toLowerCase,
  trim,
} from "./_primordials.ts";

// Captured when the host starts, before any plugin loads: a plugin that
// patches globals or prototypes (crypto.subtle, node:crypto's Hmac,
// String.prototype, Headers.prototype) cannot change how keys compare.

/**
 * Compares a given string with a secret in time that depends only on the
 * given string's length, never on where they differ or on the secret's
 * length; it uses only functions captured before any plugin loaded.
 *
 * @param given what the client sent
 * @param secret the key
 * @returns whether they are equal
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { constantTimeEqual } from "./auth.ts";
 * assert.equal(constantTimeEqual("k", "k"), true);
 * assert.equal(constantTimeEqual("k", "j"), false);
 * assert.equal(constantTimeEqual("kk", "k"), false);
 * ```
 */
export function constantTimeEqual(given: string, secret: string): boolean {
  const n = given.length;
  const m = secret.length;
  if (m === 0) return false;
  let diff = n ^ m;
  for (let i = 0; i < n; i++) {
    diff |= charCodeAt(given, i) ^ charCodeAt(secret, i % m);
  }
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
  return hostname === "::1" || startsWith(hostname, "127.") || startsWith(hostname, "::ffff:127.");
}

/** The Hono environment the host's app runs with. */
export interface HostEnv {
  /** `route`: the pattern of the plugin route that answered, noted only while response observers exist. */
  Bindings: { info?: Deno.ServeHandlerInfo; route?: string };
  /** `audit`: what an admin handler adds to the audit line (such as the source a load came from). */
  Variables: { audit?: string };
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
  const h = toLowerCase(trim(host));
  if (startsWith(h, "[")) return slice(h, 0, indexOf(h, "]") + 1);
  const colon = lastIndexOf(h, ":");
  return colon < 0 ? h : slice(h, 0, colon);
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
  return name === "localhost" || name === "[::1]" || matches(IPV4_LOOPBACK, name) || includes(allowed, name);
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
    const more = c.get("audit");
    audit?.(`Admin ${target}${more ? ` ${more}` : ""} answered ${c.res.status} (client ${client ?? "unknown"})`, false);
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
    const given = header(request.headers, "x-api-key");
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
  const host = header(request.headers, "host");
  if (host !== null && !isLocalHost(host, allowedHosts)) {
    return codeProblem(
      "FORBIDDEN",
      `No admin key is configured, so the admin API answers only requests addressed to a loopback name ` +
        `(Host is "${host}"). Use http://127.0.0.1 or http://localhost, add the name to "allowedHosts", ` +
        `or set PLUGBOARD_API_KEY`,
    );
  }
  const origin = header(request.headers, "origin");
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
    return new HostURL(url).host;
  } catch {
    return "";
  }
}

/** Whether an `Origin` header names the same host and port the request was sent to. */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new HostURL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && url.host === toLowerCase(trim(host));
  } catch {
    return false;
  }
}
