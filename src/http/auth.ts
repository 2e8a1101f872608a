/**
 * The admin API's guard. Every admin request carries the admin key, as
 * `X-API-Key` or `Authorization: Bearer`, compared in constant time: the
 * operator's key (`PLUGBOARD_API_KEY`, the `apiKey` option), or, when none is
 * configured, the token the host made at start. With a made token the guard
 * is also local: loopback clients only, addressed to a loopback name, from no
 * other origin. Being on loopback is never enough: isolated plugins are on
 * loopback too.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { codeProblem } from "./problem.ts";
import { charCodeAt, header, slice, toLowerCase, trim } from "./_primordials.ts";
import { isLocalHost, isLoopback, sameOrigin, serverOrigin } from "./locality.ts";

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

/** The Hono environment the host's app runs with. */
export interface HostEnv {
  /** `route`: the pattern of the plugin route that answered, noted only while response observers exist. */
  Bindings: { info?: Deno.ServeHandlerInfo; route?: string };
  /** `audit`: what an admin handler adds to the audit line (such as the source a load came from). */
  Variables: { audit?: string };
}

/** Options for {@linkcode adminGuard}. */
export interface AdminGuardOptions {
  /** The secret every admin request must carry. */
  key: string;
  /**
   * The key is a token the host made, not the operator's: also answer only
   * loopback clients, a `Host` that is a loopback name or one of
   * `allowedHosts`, and no `Origin` but the server's own. @default false
   */
  local?: boolean;
  /** Host names accepted in the `Host` header in local mode, besides loopback names. @default [] */
  allowedHosts?: readonly string[];
  /** Receives one line per admin request: what, which plugin, result, client. @default nothing */
  audit?: (line: string, refused: boolean) => void;
}

/** The challenges sent with every 401 (RFC 9110, section 11.6.1): the key as `X-API-Key`, or as a bearer token. */
export const WWW_AUTHENTICATE =
  'APIKey realm="plugboard admin API", header="X-API-Key", Bearer realm="plugboard admin API"';

/**
 * The key a request presents: its `X-API-Key` header, else the token of an
 * `Authorization: Bearer <token>` header. A key in the query string or under
 * another authorization scheme does not count.
 *
 * @param headers the request's headers
 * @returns the key, or undefined when it presents none
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { presentedKey } from "./auth.ts";
 * assert.equal(presentedKey(new Headers({ "x-api-key": "k1" })), "k1");
 * assert.equal(presentedKey(new Headers({ authorization: "Bearer k2" })), "k2");
 * assert.equal(presentedKey(new Headers({ authorization: "Basic azM6" })), undefined);
 * ```
 */
export function presentedKey(headers: Headers): string | undefined {
  const key = header(headers, "x-api-key");
  if (key !== null) return key;
  const authorization = header(headers, "authorization");
  if (authorization === null || toLowerCase(slice(authorization, 0, 7)) !== "bearer ") return undefined;
  const token = trim(slice(authorization, 7));
  return token === "" ? undefined : token;
}

/**
 * Builds the admin guard: 401 with `WWW-Authenticate` for a missing or wrong
 * key; in local mode, first 403 for a non-loopback client, a foreign `Host`
 * (DNS rebinding) or a foreign `Origin` (a page of another site, another
 * scheme or another port).
 *
 * @param options the key, local mode, allowed hosts and the audit log
 * @returns a Hono middleware answering 401/403 problems
 */
export function adminGuard(options: AdminGuardOptions): MiddlewareHandler<HostEnv> {
  const { key, local = false, allowedHosts = [], audit } = options;
  const id = keyId(key);
  return async (c, next) => {
    const addr = c.env?.info?.remoteAddr;
    const client = addr && "hostname" in addr ? addr.hostname : undefined;
    const request = c.req.raw;
    const refusal = (local ? refuseNonLocal(allowedHosts, request, client) : undefined) ??
      refuseKey(key, local, request);
    const target = `${c.req.method} ${c.req.path}`;
    if (refusal) {
      audit?.(`Admin ${target} refused with ${refusal.status} (client ${client ?? "unknown"})`, true);
      return refusal;
    }
    await next();
    const more = c.get("audit");
    audit?.(
      `Admin ${target}${more ? ` ${more}` : ""} answered ${c.res.status} (key ${id}, client ${client ?? "unknown"})`,
      false,
    );
  };
}

/**
 * The key's id in audit lines: the first 8 hex digits of its SHA-256, which
 * tells keys apart (across a rotation, say) without revealing them.
 *
 * @param key the admin key
 * @returns 8 hex digits
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyId } from "./auth.ts";
 * assert.match(keyId("a-long-admin-key-0123456789abcdef"), /^[0-9a-f]{8}$/);
 * assert.notEqual(keyId("key-one-0123456789abcdef"), keyId("key-two-0123456789abcdef"));
 * ```
 */
export function keyId(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

/** 401 unless the request presents the key. */
function refuseKey(key: string, local: boolean, request: Request): Response | undefined {
  const given = presentedKey(request.headers);
  if (given !== undefined && constantTimeEqual(given, key)) return undefined;
  const which = local
    ? "the token the server made at start (printed at startup; deno task start keeps it in .plugboard/admin-token, " +
      "new at each start)"
    : "the key set in PLUGBOARD_API_KEY (or the apiKey option)";
  return codeProblem(
    "UNAUTHORIZED",
    given === undefined
      ? `The admin API needs the admin key, sent as X-API-Key or Authorization: Bearer: ${which}`
      : `The key sent is not the admin key: send ${which}`,
    {},
    { "www-authenticate": WWW_AUTHENTICATE },
  );
}

/** 403 for a request that is not local: another machine, a foreign Host, another origin. */
function refuseNonLocal(
  allowedHosts: readonly string[],
  request: Request,
  client: string | undefined,
): Response | undefined {
  if (!isLoopback(client)) {
    return codeProblem(
      "FORBIDDEN",
      `No admin key is configured, so the admin API answers loopback clients only (this one is ${
        client ?? "unknown"
      }). Set PLUGBOARD_API_KEY (or the apiKey option) to manage plugins from elsewhere`,
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
  if (origin !== null && !sameOrigin(origin, serverOrigin(request.url, host))) {
    return codeProblem(
      "FORBIDDEN",
      `No admin key is configured, so the admin API refuses requests from other origins (Origin is "${origin}"; ` +
        `scheme, host and port must be the server's own). Call it without a browser, or set PLUGBOARD_API_KEY`,
    );
  }
  return undefined;
}
