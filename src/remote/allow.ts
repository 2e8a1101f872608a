/**
 * Which URLs a URL plugin may reach: the host's `allowImport` list (a host
 * name, which covers every port, or `name:port`), http(s) only, and never
 * from https down to http (as Deno refuses for its own imports).
 *
 * @module
 */

import { RemoteError } from "./errors.ts";

/**
 * Tells whether a URL's host is in an `allowImport` list.
 *
 * @param url the URL
 * @param allowImport `name` (any port) or `name:port` entries
 * @returns true when allowed
 *
 * @example A host name covers every port; name:port one
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAllowedHost } from "./allow.ts";
 * assert.ok(isAllowedHost(new URL("http://127.0.0.1:4000/mod.js"), ["127.0.0.1:4000"]));
 * assert.ok(!isAllowedHost(new URL("http://127.0.0.1:4002/mod.js"), ["127.0.0.1:4000"]));
 * assert.ok(isAllowedHost(new URL("http://127.0.0.1:4002/mod.js"), ["127.0.0.1"]));
 * assert.ok(!isAllowedHost(new URL("http://localhost:4000/mod.js"), ["127.0.0.1:4000"]));
 * ```
 */
export function isAllowedHost(url: URL, allowImport: readonly string[]): boolean {
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const withPort = `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
  return allowImport.some((h) => h === url.host || h === url.hostname || h === withPort);
}

/**
 * Tells whether going from one URL to another downgrades https to http.
 *
 * @param from the importer or the redirecting URL
 * @param to the target
 * @returns true for https → http
 *
 * @example https to http is a downgrade
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDowngrade } from "./allow.ts";
 * assert.ok(isDowngrade(new URL("https://a.example/x.js"), new URL("http://a.example/y.js")));
 * ```
 */
export function isDowngrade(from: URL, to: URL): boolean {
  return from.protocol === "https:" && to.protocol === "http:";
}

/**
 * The host and port of a URL, the port always written out.
 *
 * @param url the URL
 * @returns `hostname:port`
 *
 * @example Default ports are written out
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostWithPort } from "./allow.ts";
 * assert.equal(hostWithPort(new URL("https://example.com/x.js")), "example.com:443");
 * ```
 */
export function hostWithPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/**
 * Throws unless a module URL's host is allowed.
 *
 * @param url the module URL
 * @param allowImport the allowed hosts
 * @param context message prefix, importer, plugin and source
 * @throws {RemoteError} `REMOTE_NOT_ALLOWED`, naming the host to add
 *
 * @example Refuse a port that is not allowed
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertAllowed } from "./allow.ts";
 * assert.throws(
 *   () => assertAllowed(new URL("http://127.0.0.1:4002/x.js"), ["127.0.0.1:4000"], { prefix: "Cannot load", source: "s" }),
 *   /add "127.0.0.1:4002" to allowImport/,
 * );
 * ```
 */
export function assertAllowed(
  url: URL,
  allowImport: readonly string[],
  context: { prefix: string; importer?: string; plugin?: string; source: string },
): void {
  if (isAllowedHost(url, allowImport)) return;
  const hostPort = hostWithPort(url);
  const by = context.importer ? ` (imported by "${context.importer}")` : "";
  throw new RemoteError(
    "REMOTE_NOT_ALLOWED",
    `${context.prefix}: "${url.href}"${by} is on host "${hostPort}", which is not in allowImport; ` +
      `add "${hostPort}" to allowImport if you trust it`,
    { plugin: context.plugin, source: context.source, url: url.href, fix: `allowImport: ["${hostPort}"]` },
  );
}
