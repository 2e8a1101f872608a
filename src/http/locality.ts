/**
 * Where an admin request comes from and whom it is addressed to: the client
 * address (loopback or not), the `Host` header (this machine's loopback
 * names, parsed as the URL standard parses a host) and the `Origin` header
 * (scheme, host and port of the server itself). Built only from functions
 * captured before any plugin loads.
 *
 * @module
 */

import { HostURL, includes, matches, slice, startsWith, toLowerCase, urlPart } from "./_primordials.ts";

/**
 * Tells whether a client address is loopback (127.0.0.0/8 or ::1).
 *
 * @param hostname the client address
 * @returns true for loopback
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./locality.ts";
 * assert.equal(isLoopback("127.0.0.1"), true);
 * assert.equal(isLoopback("10.9.9.9"), false);
 * ```
 */
export function isLoopback(hostname: string | undefined): boolean {
  if (!hostname) return false;
  return hostname === "::1" || startsWith(hostname, "127.") || startsWith(hostname, "::ffff:127.");
}

const IPV4_LOOPBACK = /^127\.(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){2}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const PORT = /^\d{1,5}$/;

/**
 * Parses a `Host` header as the URL standard parses the authority of
 * `http://<host>/`, and keeps it only when it is a plain, canonical host and
 * port: no userinfo (`localhost:80@evil.example` names evil.example), no
 * path, query or fragment, and written as the parser reads it (no decimal or
 * hex IPv4, percent-escapes or stripped tabs that a parser would turn into
 * a loopback address).
 *
 * @param host a Host header value
 * @returns the host name, lower-case (IPv6 in brackets), or undefined when it is not a plain host
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostNameOf } from "./locality.ts";
 * assert.equal(hostNameOf("LocalHost:8000"), "localhost");
 * assert.equal(hostNameOf("[::1]:8000"), "[::1]");
 * assert.equal(hostNameOf("localhost:80@evil.example"), undefined);
 * assert.equal(hostNameOf("localhost/x"), undefined);
 * assert.equal(hostNameOf("2130706433"), undefined);
 * ```
 */
export function hostNameOf(host: string): string | undefined {
  const written = toLowerCase(host);
  let url: URL;
  try {
    url = new HostURL(`http://${written}/`);
  } catch {
    return undefined;
  }
  if (urlPart(url, "username") !== "" || urlPart(url, "password") !== "") return undefined;
  if (urlPart(url, "pathname") !== "/" || urlPart(url, "search") !== "" || urlPart(url, "hash") !== "") {
    return undefined;
  }
  const name = urlPart(url, "hostname");
  if (written === name) return name;
  if (startsWith(written, `${name}:`) && matches(PORT, slice(written, name.length + 1))) return name;
  return undefined;
}

/**
 * Tells whether a `Host` header names this machine's loopback interface
 * (`localhost`, `127.x.y.z` in dotted form, `[::1]`) or one of `allowed`,
 * with an optional port and nothing else.
 *
 * @param host the Host header value
 * @param allowed extra host names, lower-case
 * @returns whether the admin API may answer it in local mode
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLocalHost } from "./locality.ts";
 * assert.equal(isLocalHost("localhost:8000", []), true);
 * assert.equal(isLocalHost("[::1]:8000", []), true);
 * assert.equal(isLocalHost("box.lan:8000", ["box.lan"]), true);
 * assert.equal(isLocalHost("rebind.attacker.example", []), false);
 * assert.equal(isLocalHost("localhost:80@evil.example", []), false);
 * ```
 */
export function isLocalHost(host: string, allowed: readonly string[]): boolean {
  const name = hostNameOf(host);
  if (name === undefined) return false;
  return name === "localhost" || name === "[::1]" || matches(IPV4_LOOPBACK, name) || includes(allowed, name);
}

/**
 * The origin (scheme, host and port) a request was sent to: the scheme the
 * server answered it on and the host it was addressed to.
 *
 * @param requestUrl the request's URL (its scheme is the server's)
 * @param host the request's Host header, when it has one
 * @returns the serialised origin, such as `http://127.0.0.1:8000`, or undefined when it has none
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverOrigin } from "./locality.ts";
 * assert.equal(serverOrigin("http://127.0.0.1:8000/api/plugins", null), "http://127.0.0.1:8000");
 * assert.equal(serverOrigin("http://x/api/plugins", "localhost:80"), "http://localhost");
 * ```
 */
export function serverOrigin(requestUrl: string, host: string | null): string | undefined {
  try {
    const url = new HostURL(requestUrl);
    const scheme = urlPart(url, "protocol");
    if (host === null) return urlPart(url, "origin");
    return urlPart(new HostURL(`${scheme}//${toLowerCase(host)}/`), "origin");
  } catch {
    return undefined;
  }
}

/**
 * Tells whether an `Origin` header is exactly the server's own origin: the
 * same scheme (an `https://` page is not the `http://` server), host and port.
 * `null` and anything that is not a serialised origin are foreign.
 *
 * @param origin the Origin header value
 * @param server the server's origin, from {@linkcode serverOrigin}
 * @returns whether the request comes from a page of the server itself
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sameOrigin } from "./locality.ts";
 * assert.equal(sameOrigin("http://127.0.0.1:8000", "http://127.0.0.1:8000"), true);
 * assert.equal(sameOrigin("https://127.0.0.1:8000", "http://127.0.0.1:8000"), false);
 * assert.equal(sameOrigin("http://127.0.0.1:9999", "http://127.0.0.1:8000"), false);
 * assert.equal(sameOrigin("null", "http://127.0.0.1:8000"), false);
 * ```
 */
export function sameOrigin(origin: string, server: string | undefined): boolean {
  if (server === undefined) return false;
  try {
    const parsed = urlPart(new HostURL(origin), "origin");
    return parsed !== "null" && parsed === toLowerCase(origin) && parsed === server;
  } catch {
    return false;
  }
}
