/**
 * Requests and responses as they cross to and from a plugin's worker: the
 * head as plain data, the body as a transferred stream (or a buffer, for
 * bodies that are complete anyway).
 *
 * @module
 */

import { Transfer } from "./rpc.ts";

/** A request on the wire. */
export interface WireRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: ReadableStream<Uint8Array> | null;
}

/** A response on the wire. */
export interface WireResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: ReadableStream<Uint8Array> | ArrayBuffer | null;
}

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
  return new Transfer(
    { method: request.method, url: request.url, headers: [...request.headers], body },
    body ? [body as unknown as Transferable] : [],
  );
}

/**
 * Rebuilds a request from the wire.
 *
 * @param wire the wire form
 * @returns the request
 */
export function fromWireRequest(wire: WireRequest): Request {
  return new Request(wire.url, {
    method: wire.method,
    headers: wire.headers,
    body: wire.body,
    ...(wire.body ? { duplex: "half" } : {}),
  } as RequestInit);
}

/**
 * Puts a response on the wire: streaming kinds (server-sent events, NDJSON,
 * binary) as a transferred stream, others read into a buffer first.
 *
 * @param response the response
 * @returns the wire form
 */
export async function toWireResponse(response: Response): Promise<Transfer<WireResponse>> {
  const head = {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers] as [string, string][],
  };
  if (!response.body) return new Transfer({ ...head, body: null }, []);
  if (STREAMING_RE.test(response.headers.get("content-type") ?? "")) {
    return new Transfer({ ...head, body: response.body }, [response.body as unknown as Transferable]);
  }
  const buffer = await response.arrayBuffer();
  return new Transfer({ ...head, body: buffer }, [buffer]);
}

/**
 * Rebuilds a response from the wire.
 *
 * @param wire the wire form
 * @returns the response
 */
export function fromWireResponse(wire: WireResponse): Response {
  const nullBody = wire.status === 204 || wire.status === 304 || wire.status === 101;
  return new Response(nullBody ? null : wire.body, {
    status: wire.status,
    statusText: wire.statusText,
    headers: wire.headers,
  });
}
