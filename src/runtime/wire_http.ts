/**
 * Requests and responses as they cross to and from a plugin's worker: the
 * head as plain data, the body as a transferred stream (or a buffer, for
 * bodies that are complete anyway).
 *
 * @module
 */

import type { PluginError } from "../errors.ts";
import { concat } from "../bytes.ts";
import { Transfer } from "./rpc.ts";

/**
 * A request on the wire: a short array, which clones faster than an object
 * with the same fields. The body is a stream, or the whole body when it is
 * small and its length was told (see {@linkcode readWireRequest}).
 */
export type WireRequest = [
  method: string,
  url: string,
  headers: [string, string][],
  body: ReadableStream<Uint8Array> | ArrayBuffer | null,
];

/** A response on the wire, as a short array too. */
export type WireResponse = [
  status: number,
  statusText: string,
  headers: [string, string][],
  body: ReadableStream<Uint8Array> | ArrayBuffer | null,
];

/** Bodies up to this size are copied with the message rather than transferred. */
const COPIED_BODY_LIMIT = 64 * 1024;
const STREAMING_RE = /^(text\/event-stream|application\/(octet-stream|x-ndjson))/;

/**
 * Puts a request on the wire; its body stream is transferred.
 *
 * @param request the request
 * @param withBody false to leave the body behind (middleware sees heads only)
 * @returns the wire form
 */
export function toWireRequest(request: Request, withBody = true): Transfer<WireRequest> {
  const body = withBody && request.body ? request.body : null;
  let headers = headerPairs(request.headers);
  // The dashboard's session is the operator's: an isolated plugin never sees it (one it could replay).
  const cookie = headers.findIndex((h) => h[0] === "cookie" && h[1].includes(SESSION_COOKIE));
  if (cookie >= 0) {
    const kept = withoutSession(headers[cookie][1]);
    headers = kept ? headers.with(cookie, ["cookie", kept]) : headers.toSpliced(cookie, 1);
  }
  return new Transfer<WireRequest>(
    [request.method, request.url, headers, body],
    body ? [body as unknown as Transferable] : [],
  );
}

/**
 * Puts a request with a body on the wire: a body whose `content-length` is
 * small is read here and copied with the message (a transferred stream costs
 * a message channel and a few messages per request); any other is
 * transferred as a stream, so an upload of unknown length reaches the plugin
 * as it arrives.
 *
 * @param request the request
 * @returns the wire form
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readWireRequest } from "./wire_http.ts";
 * const small = new Request("http://x/", { method: "POST", body: "{}", headers: { "content-length": "2" } });
 * assert.ok((await readWireRequest(small)).value[3] instanceof ArrayBuffer);
 * const unknown = new Request("http://x/", { method: "POST", body: "{}" });
 * assert.ok((await readWireRequest(unknown)).value[3] instanceof ReadableStream);
 * ```
 */
export async function readWireRequest(request: Request): Promise<Transfer<WireRequest>> {
  const told = Number(request.headers.get("content-length") ?? NaN);
  if (!request.body || !(told >= 0 && told <= COPIED_BODY_LIMIT)) return toWireRequest(request);
  const [method, url, headers] = toWireRequest(request, false).value;
  // Read up to the limit: a length told wrong (by the embedding application's own request) still crosses whole, the
  // rest as a stream.
  const body = await wholeOrStream(request.body, COPIED_BODY_LIMIT);
  if (body instanceof ReadableStream) {
    return new Transfer<WireRequest>([method, url, headers, body], [body as unknown as Transferable]);
  }
  return new Transfer<WireRequest>([method, url, headers, body.buffer], []);
}

/**
 * Reads a body whole when it is at most `limit` bytes; a longer one comes
 * back as a stream of what was read, then the rest as the consumer pulls.
 */
async function wholeOrStream(
  body: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(chunks, size);
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) return resumed(chunks, reader);
  }
}

/** The dashboard's session cookie's name (`http/dashboard/session.ts`). */
const SESSION_COOKIE = "plugboard_session";

/** Whether a `Set-Cookie` value is for the session cookie. */
function setsSession(value: string): boolean {
  const eq = value.indexOf("=");
  return (eq < 0 ? value : value.slice(0, eq)).trim() === SESSION_COOKIE;
}

/** A `Cookie` header without the session cookie. */
function withoutSession(cookie: string): string {
  return cookie.split(";").map((p) => p.trim()).filter((p) => p && !p.startsWith(`${SESSION_COOKIE}=`)).join("; ");
}

/**
 * Rebuilds a request from the wire.
 *
 * @param wire the wire form
 * @returns the request
 */
export function fromWireRequest(wire: WireRequest): Request {
  const [method, url, headers, body] = wire;
  const request = method === "GET" && !body ? new Request(url) : new Request(url, {
    method,
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
  appendAll(request.headers, headers);
  return request;
}

/**
 * A header list as `[name, value]` pairs, in the order iterating it gives.
 * Read with `forEach`: spreading it (`[...headers]`) walks Web IDL's iterator
 * objects, which costs several times more (~2.7 µs against ~0.45 µs for three
 * headers here).
 *
 * @param headers the headers
 * @returns the pairs
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headerPairs } from "./wire_http.ts";
 * const headers = new Headers([["set-cookie", "a=1"], ["set-cookie", "b=2"], ["X-Id", "7"]]);
 * assert.deepEqual(headerPairs(headers), [...headers]);
 * ```
 */
export function headerPairs(headers: Headers): [string, string][] {
  const pairs: [string, string][] = [];
  headers.forEach((value, name) => {
    pairs.push([name, value]);
  });
  return pairs;
}

/**
 * Adds headers one by one: a list given to a constructor is converted as a
 * Web IDL sequence first, which costs a few times more per header.
 */
function appendAll(headers: Headers, list: readonly (readonly [string, string])[]): void {
  for (let i = 0; i < list.length; i++) headers.append(list[i][0], list[i][1]);
}

/**
 * Puts a response on the wire: streaming kinds (server-sent events, NDJSON,
 * binary) and bodies over {@linkcode INLINE_BODY_LIMIT} as a transferred
 * stream, others read into a buffer first.
 *
 * @param response the response
 * @returns the wire form
 */
export async function toWireResponse(response: Response): Promise<Transfer<WireResponse>> {
  const { status, statusText } = response;
  const headers = headerPairs(response.headers);
  const wire = (body: WireResponse[3], transfer: Transferable[]) =>
    new Transfer<WireResponse>([status, statusText, headers, body], transfer);
  if (!response.body) return wire(null, []);
  if (STREAMING_RE.test(response.headers.get("content-type") ?? "")) {
    return wire(response.body, [response.body as unknown as Transferable]);
  }
  // Small bodies cross whole, in one message. A body past INLINE_BODY_LIMIT crosses as a stream, so the host never
  // holds more than a chunk of it at a time for a slow client (the stream's backpressure reaches the plugin).
  const body = await wholeOrStream(response.body, INLINE_BODY_LIMIT);
  if (body instanceof ReadableStream) return wire(body, [body as unknown as Transferable]);
  // A small body is copied with the message: a transfer list costs a round trip more than copying a few KiB.
  if (body.byteLength <= COPIED_BODY_LIMIT) return wire(body.buffer, []);
  return wire(body.buffer, [body.buffer]);
}

/** The largest response body sent to the host in one message; larger ones are streamed. */
export const INLINE_BODY_LIMIT = 1024 * 1024;

/** A stream of the chunks already read, then the rest of `reader`, read as the consumer pulls. */
function resumed(read: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i < read.length) return controller.enqueue(read[i++]);
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

/**
 * Rebuilds a response from the wire.
 *
 * @param wire the wire form
 * @returns the response
 */
export function fromWireResponse(wire: WireResponse): Response {
  const [status, statusText, headers, body] = wire;
  const nullBody = status === 204 || status === 304 || status === 101;
  // A body of bytes sets no content type of its own: the headers below are all the response has.
  const response = new Response(nullBody ? null : body, { status, statusText });
  const out = response.headers;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i];
    // The dashboard's session cookie is the operator's: an isolated plugin may neither set nor clear it.
    if (name.length === 10 && name.toLowerCase() === "set-cookie" && setsSession(String(value))) continue;
    out.append(name, value);
  }
  // An isolated plugin's page runs in an opaque origin: it shares the server's origin with the dashboard, and a
  // script of its own must not act there with the operator's session. Added to any policy the plugin sets (a
  // browser enforces every one).
  response.headers.append("content-security-policy", ISOLATED_PAGE_POLICY);
  return response;
}

/**
 * The Content-Security-Policy every isolated plugin's response carries: its
 * pages may run scripts, forms, pop-ups and downloads, but in a sandbox
 * without the server's origin (no cookies of the dashboard, no same-origin
 * requests to `/admin`).
 */
export const ISOLATED_PAGE_POLICY = "sandbox allow-scripts allow-forms allow-popups allow-downloads";

/**
 * A plugboard error as an `application/problem+json` response.
 *
 * @param error the error
 * @param headers more headers (such as `retry-after`)
 * @returns the response
 */
export function problemResponse(error: PluginError, headers: Record<string, string>): Response {
  return new Response(
    JSON.stringify({
      type: "about:blank",
      status: error.status,
      title: error.code,
      detail: error.message,
      plugin: error.plugin,
    }),
    { status: error.status, headers: { ...headers, "content-type": "application/problem+json" } },
  );
}

/**
 * What a host-wide middleware run in a worker leaves of the answer: `current`
 * (the rest of the chain's) with the status and headers of the middleware's
 * own answer (rebuilt in its worker, without a body), or undefined when it
 * changed neither. An unchanged status keeps its status text.
 *
 * @param current the answer of the rest of the chain
 * @param answer the middleware's answer, from its worker
 * @returns the answer to give, or undefined to keep `current`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { afterMiddleware } from "./wire_http.ts";
 * const route = new Response("made", { status: 202, statusText: "Custom" });
 * assert.equal(afterMiddleware(route, new Response(null, { status: 202 })), undefined);
 * const after = afterMiddleware(route, new Response(null, { status: 202, headers: { "x-mw": "seen" } }))!;
 * assert.deepEqual([after.status, after.statusText, after.headers.get("x-mw")], [202, "Custom", "seen"]);
 * ```
 */
export function afterMiddleware(current: Response, answer: Response): Response | undefined {
  const changed = answer.status !== current.status ||
    [...answer.headers].some(([k, v]) => current.headers.get(k) !== v);
  if (!changed) return undefined;
  const statusText = answer.status === current.status ? current.statusText : answer.statusText;
  return new Response(current.body, { status: answer.status, statusText, headers: answer.headers });
}
