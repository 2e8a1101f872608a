/**
 * Fetches one module of a URL plugin: redirects followed by hand so that
 * every hop's host is checked against `allowImport`, a timeout, a size
 * limit, and only JavaScript or TypeScript content types.
 *
 * @module
 */

import { assertAllowed, hostWithPort, isAllowedHost, isDowngrade } from "./allow.ts";
import { cannotLoad, RemoteError } from "./errors.ts";
import { looksLikeHtml, type MediaType, mediaTypeOf } from "./media_type.ts";
import { readUpTo } from "../bytes.ts";

/** Default time one module may take, redirects and body included, in ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Default size limit of one module, in bytes (2 MiB). */
export const DEFAULT_MAX_MODULE_BYTES = 2 * 1024 * 1024;
/** Default number of redirects followed for one module. */
export const DEFAULT_MAX_REDIRECTS = 10;

/** Options of {@linkcode fetchModule}. */
export interface FetchModuleOptions {
  /** Hosts (`name` for any port, or `name:port`) every hop must be on. */
  allowImport: readonly string[];
  /** The plugin's source URL, for messages. */
  source: string;
  /** The plugin's name or hint, for messages. */
  plugin?: string;
  /** The module that imports this one, for messages. */
  importer?: string;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Time for the whole module, redirects and body included, in ms. @default 10000 */
  timeoutMs?: number;
  /** Size limit of the body, in bytes. @default 2097152 */
  maxModuleBytes?: number;
  /** Redirects to follow. @default 10 */
  maxRedirects?: number;
  /** Aborts the fetch (the graph walk aborts the others when one fails). */
  signal?: AbortSignal;
}

/** One fetched module. */
export interface FetchedModule {
  /** The URL asked for. */
  requested: string;
  /** The final URL, after redirects: the module's identity, as for Deno. */
  url: string;
  /** Each redirect as `[from, to]`, in order. */
  redirects: [string, string][];
  /** The body, exactly as served (pins hash these bytes). */
  bytes: Uint8Array;
  /** JavaScript or TypeScript, from the Content-Type. */
  mediaType: MediaType;
}

/**
 * Fetches one module, checking every hop.
 *
 * @param url the module URL
 * @param options allowed hosts, limits, and message context
 * @returns the module's final URL, bytes and media type
 * @throws {RemoteError} `REMOTE_NOT_ALLOWED`, `REMOTE_FETCH_FAILED`, `REMOTE_TOO_LARGE` or `REMOTE_BAD_CONTENT_TYPE`
 *
 * @example Fetch from a local server
 * ```ts
 * import assert from "node:assert/strict";
 * import { fetchModule } from "./fetch_module.ts";
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) =>
 *   new URL(req.url).pathname === "/old.js"
 *     ? new Response(null, { status: 301, headers: { location: "/mod.js" } })
 *     : new Response("export default 1;", { headers: { "content-type": "text/javascript" } }));
 * const base = `http://127.0.0.1:${server.addr.port}`;
 * const mod = await fetchModule(`${base}/old.js`, { allowImport: ["127.0.0.1"], source: `${base}/old.js` });
 * assert.equal(mod.url, `${base}/mod.js`);
 * assert.equal(new TextDecoder().decode(mod.bytes), "export default 1;");
 * await server.shutdown();
 * ```
 */
export async function fetchModule(url: string, options: FetchModuleOptions): Promise<FetchedModule> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const doFetch = options.fetch ?? fetch;
  const prefix = cannotLoad(options.source, options.plugin);
  const context = { plugin: options.plugin, source: options.source };
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(new DOMException("timed out", "TimeoutError")), timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timer.signal]) : timer.signal;
  const redirects: [string, string][] = [];
  let current = new URL(url);
  const by = options.importer ? ` (imported by "${options.importer}")` : "";
  try {
    assertAllowed(current, options.allowImport, { prefix, importer: options.importer, ...context });
    for (;;) {
      let response: Response;
      try {
        response = await doFetch(current.href, { redirect: "manual", signal });
      } catch (cause) {
        throw unreachable(cause, current.href, prefix, timeoutMs, signal, context);
      }
      if (response.status >= 300 && response.status < 400 && response.status !== 304) {
        await response.body?.cancel();
        const location = response.headers.get("location");
        if (!location) {
          throw new RemoteError(
            "REMOTE_FETCH_FAILED",
            `${prefix}: "${current.href}" answered ${response.status} without a Location header; fix the server's redirect`,
            { ...context, url: current.href },
          );
        }
        const next = new URL(location, current);
        const seen = [url, ...redirects.map(([, to]) => to)];
        if (seen.includes(next.href)) {
          throw new RemoteError(
            "REMOTE_FETCH_FAILED",
            `${prefix}: redirect loop: ${
              [...seen, next.href].map((u) => `"${u}"`).join(" → ")
            }; fix the server's redirects`,
            { ...context, url: next.href },
          );
        }
        if (redirects.length >= maxRedirects) {
          throw new RemoteError(
            "REMOTE_FETCH_FAILED",
            `${prefix}: more than ${maxRedirects} redirects from "${url}"; fix the server's redirects`,
            { ...context, url },
          );
        }
        if (!isAllowedHost(next, options.allowImport)) {
          const hostPort = hostWithPort(next);
          const scheme = next.protocol === "http:" || next.protocol === "https:";
          throw new RemoteError(
            "REMOTE_NOT_ALLOWED",
            scheme
              ? `${prefix}: redirect from "${current.href}" to "${next.href}" leaves the allowed hosts; ` +
                `add "${hostPort}" to allowImport if you trust it`
              : `${prefix}: redirect from "${current.href}" to "${next.href}": only http and https are allowed`,
            { ...context, url: next.href, fix: scheme ? `allowImport: ["${hostPort}"]` : undefined },
          );
        }
        if (isDowngrade(current, next)) {
          throw new RemoteError(
            "REMOTE_NOT_ALLOWED",
            `${prefix}: redirect from "${current.href}" to "${next.href}" downgrades https to http; serve it over https`,
            { ...context, url: next.href },
          );
        }
        redirects.push([current.href, next.href]);
        current = next;
        continue;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new RemoteError(
          "REMOTE_FETCH_FAILED",
          `${prefix}: "${current.href}"${by} answered ${response.status} ${response.statusText}; ` +
            `check the URL, and that the server publishes it`,
          { ...context, url: current.href },
        );
      }
      const contentType = response.headers.get("content-type");
      const mediaType = mediaTypeOf(contentType);
      if (!mediaType) {
        await response.body?.cancel();
        throw badType(current.href, contentType, prefix, context);
      }
      const bytes = await readLimited(response, current.href, options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES, {
        prefix,
        context,
        timeoutMs,
        signal,
      });
      if (looksLikeHtml(new TextDecoder().decode(bytes.subarray(0, 512)))) {
        throw badType(current.href, "text/html", prefix, context, contentType);
      }
      return { requested: url, url: current.href, redirects, bytes, mediaType };
    }
  } finally {
    clearTimeout(timeout);
  }
}

function badType(
  url: string,
  contentType: string | null,
  prefix: string,
  context: { plugin?: string; source: string },
  declared?: string | null,
): RemoteError {
  const type = (contentType ?? "").split(";")[0].trim();
  const message = type === "text/html"
    ? `${prefix}: "${url}" is an HTML page${
      declared && !declared.startsWith("text/html") ? ` (served as "${declared}")` : ""
    }, not a module: probably an error or login page; check the URL`
    : `${prefix}: "${url}" has Content-Type "${type || "none"}", not JavaScript or TypeScript; ` +
      `serve it as application/javascript or application/typescript`;
  return new RemoteError("REMOTE_BAD_CONTENT_TYPE", message, { ...context, url });
}

function unreachable(
  cause: unknown,
  url: string,
  prefix: string,
  timeoutMs: number,
  signal: AbortSignal,
  context: { plugin?: string; source: string },
): RemoteError {
  if (cause instanceof RemoteError) return cause;
  if (signal.aborted && (signal.reason as Error)?.name === "TimeoutError") {
    return new RemoteError(
      "REMOTE_FETCH_FAILED",
      `${prefix}: "${url}" did not answer within ${timeoutMs} ms; check that the server is up, or raise timeoutMs`,
      { ...context, url, cause, unreachable: true },
    );
  }
  if (signal.aborted) {
    return new RemoteError("REMOTE_FETCH_FAILED", `${prefix}: fetching "${url}" was cancelled`, {
      ...context,
      url,
      cause: signal.reason ?? cause,
    });
  }
  return new RemoteError(
    "REMOTE_FETCH_FAILED",
    `${prefix}: cannot reach "${url}": ${(cause as Error)?.message ?? cause}; check that the server is up ` +
      `(with plugboard.lock and a snapshot on disk, a pinned plugin starts without it)`,
    { ...context, url, cause, unreachable: true },
  );
}

async function readLimited(
  response: Response,
  url: string,
  limit: number,
  ctx: { prefix: string; context: { plugin?: string; source: string }; timeoutMs: number; signal: AbortSignal },
): Promise<Uint8Array> {
  const tooLarge = () =>
    new RemoteError(
      "REMOTE_TOO_LARGE",
      `${ctx.prefix}: "${url}" is larger than the limit of ${limit} bytes per module; ` +
        `raise maxModuleBytes if the module is expected to be this big`,
      { ...ctx.context, url, fix: "maxModuleBytes" },
    );
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array();
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readUpTo(response.body.getReader(), limit);
  } catch (cause) {
    throw unreachable(cause, url, ctx.prefix, ctx.timeoutMs, ctx.signal, ctx.context);
  }
  if (bytes === undefined) throw tooLarge();
  return bytes;
}
