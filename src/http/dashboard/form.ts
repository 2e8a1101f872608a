/**
 * Reads a dashboard form body (`application/x-www-form-urlencoded`), never
 * more than a bound.
 *
 * @module
 */

import { problem } from "../problem.ts";

/**
 * Reads a form.
 *
 * @param request the request
 * @param maxBytes the most bytes read
 * @returns the fields (the last value of a repeated one), or a problem response (413, 415)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readForm } from "./form.ts";
 * const request = new Request("http://x/", {
 *   method: "POST",
 *   headers: { "content-type": "application/x-www-form-urlencoded" },
 *   body: "source=.%2Fplugins%2Fhello&_csrf=t",
 * });
 * assert.deepEqual(await readForm(request, 1024), { source: "./plugins/hello", _csrf: "t" });
 * ```
 */
export async function readForm(request: Request, maxBytes: number): Promise<Record<string, string> | Response> {
  const type = (request.headers.get("content-type") ?? "").split(";", 1)[0].trim().toLowerCase();
  if (request.body === null) return {};
  if (type !== "application/x-www-form-urlencoded") {
    await request.body.cancel();
    return problem(415, {
      title: "Unsupported Media Type",
      detail: `Dashboard actions take an application/x-www-form-urlencoded form: current Content-Type is "${type}"`,
      code: "UNSUPPORTED_MEDIA_TYPE",
    });
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return problem(413, {
        title: "Content Too Large",
        detail: `A dashboard form is at most ${maxBytes} bytes`,
        code: "PAYLOAD_TOO_LARGE",
      });
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return Object.fromEntries(new URLSearchParams(new TextDecoder().decode(bytes)));
}
