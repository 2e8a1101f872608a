/**
 * Reading a body of bytes with a bound: the shared step of request bodies,
 * fetched modules and plugin responses, none of which may hold more than
 * its limit in memory.
 *
 * @module
 */

/**
 * Reads a stream to its end, unless it passes `limit` bytes: then the
 * stream is cancelled and `undefined` returned.
 *
 * @param reader the stream's reader
 * @param limit the most bytes accepted
 * @returns the bytes, or undefined when there were more than `limit`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readUpTo } from "./bytes.ts";
 * const body = () => new Response("hello").body!.getReader();
 * assert.equal(new TextDecoder().decode(await readUpTo(body(), 5)), "hello");
 * assert.equal(await readUpTo(body(), 4), undefined);
 * ```
 */
export async function readUpTo(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(chunks, size);
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
}

/**
 * Joins chunks into one array.
 *
 * @param chunks the chunks, in order
 * @param size their total length
 * @returns the bytes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat } from "./bytes.ts";
 * assert.deepEqual(concat([new Uint8Array([1]), new Uint8Array([2, 3])], 3), new Uint8Array([1, 2, 3]));
 * ```
 */
export function concat(chunks: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
