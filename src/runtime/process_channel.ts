/**
 * One end of a sandboxed plugin's channel: `postMessage`-style messages over
 * a pair of pipes (the process's stdin and stdout), in frames
 * (`process_frames.ts`). Streams in a message's
 * transfer list cross as numbered streams the reader pulls chunk by chunk,
 * so a slow reader holds back the writer (backpressure) and neither side
 * buffers more than a chunk per stream. The frames written in one
 * microtask turn go out in one write. Both ends use this: the host
 * (`process_worker.ts`) and the plugin's process (`process_prelude.ts`).
 *
 * @module
 */

import { concat } from "../bytes.ts";
import {
  decodeMessage,
  encodeFrame,
  encodeMessage,
  type Frame,
  FrameReader,
  frameText,
  FrameType,
} from "./process_frames.ts";

/** The largest chunk frame sent; a larger chunk goes as several. */
const CHUNK_BYTES = 256 * 1024;
const encoder = new TextEncoder();

/** Stream places one message may carry, how deep one may be, and streams open at once: a sender never needs more. */
const MAX_PLACES = 8;
const MAX_PLACE_DEPTH = 8;
const MAX_INCOMING = 1024;
/** Keys a stream place may never go through: they lead out of the message, to prototypes. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Whether a value is a plain object or an array (what a decoded message is made of). */
function isPlainContainer(value: unknown): value is object {
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Where a stream sat in a message: its path of keys, and its id on the channel. */
type StreamPlace = [path: (string | number)[], id: number];

/** An incoming stream: its controller, and the pull waiting for the next chunk. */
interface Incoming {
  controller: ReadableStreamDefaultController<Uint8Array>;
  wake?: () => void;
}

/**
 * `postMessage` over a socket.
 *
 * @example Two ends over a pair of in-memory pipes
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameChannel } from "./process_channel.ts";
 * const ab = new TransformStream<Uint8Array, Uint8Array>();
 * const ba = new TransformStream<Uint8Array, Uint8Array>();
 * const a = new FrameChannel(ba.readable, ab.writable);
 * const b = new FrameChannel(ab.readable, ba.writable);
 * const got = new Promise((resolve) => b.onmessage = resolve);
 * const body = new Blob(["a body that crosses as a stream"]).stream();
 * a.post({ id: 1, body }, [body]);
 * const message = await got as { id: number; body: ReadableStream };
 * assert.equal(await new Response(message.body).text(), "a body that crosses as a stream");
 * a.close();
 * b.close();
 * ```
 */
export class FrameChannel {
  /** Each message read. */
  onmessage?: (data: unknown) => void;
  /** The channel closed: `reason` is set when it broke (garbage, a failed write), unset at a clean end. */
  onclose?: (reason?: string) => void;
  #readable: ReadableStream<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #frames = new FrameReader();
  #out: Uint8Array[] = [];
  #flushing = false;
  #closed = false;
  #nextStream = 1;
  /** Streams this side sends, by id: read one chunk per pull. */
  #outgoing = new Map<number, ReadableStreamDefaultReader<unknown>>();
  /** What is left of a chunk larger than one frame, by stream id: sent on the next pulls. */
  #leftover = new Map<number, Uint8Array>();
  /** Streams this side receives, by id. */
  #incoming = new Map<number, Incoming>();
  /** The highest incoming stream id seen: ids only grow. */
  #lastIncoming = 0;

  /**
   * @param readable what the other side writes
   * @param writable where this side writes
   */
  constructor(readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>) {
    this.#readable = readable;
    this.#writer = writable.getWriter();
    this.#writer.closed.catch(() => {});
    this.#readLoop();
  }

  /** Whether the channel is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a message; the streams in `transfer` cross as channel streams.
   *
   * @param message the message (a stream in it is replaced by `null` here and rebuilt on the other side)
   * @param transfer its transferables: streams cross, buffers are copied
   * @throws {DOMException} `DataCloneError` for a message that cannot be serialised
   */
  post(message: unknown, transfer: readonly unknown[] = []): void {
    if (this.#closed) return;
    const streams = transfer.filter((t): t is ReadableStream => t instanceof ReadableStream);
    let places: StreamPlace[] = [];
    if (streams.length) places = this.#takeStreams(message, streams);
    const body = places.length ? { m: message, s: places } : message;
    let frame: Uint8Array;
    try {
      frame = encodeMessage(body, isJsonExact(body));
    } catch (cause) {
      throw new DOMException(`a message could not be serialised: ${(cause as Error)?.message}`, "DataCloneError");
    }
    // A message with streams has its frame's stream field set, so the reader knows to rebuild them.
    if (places.length) new DataView(frame.buffer).setUint32(1, 1);
    this.#write(frame);
  }

  /**
   * Closes the channel: streams in flight fail, both pipes are closed.
   *
   * @param reason why, for the streams it fails
   */
  close(reason = "the channel closed"): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { controller, wake } of this.#incoming.values()) {
      try {
        controller.error(new Error(reason));
      } catch { /* already closed */ }
      wake?.();
    }
    this.#incoming.clear();
    for (const reader of this.#outgoing.values()) reader.cancel(reason).catch(() => {});
    this.#outgoing.clear();
    this.#writer.close().catch(() => {});
    this.#reader?.cancel().catch(() => {});
  }

  /** Finds each stream in the message, puts `null` in its place, and registers it to be pulled. */
  #takeStreams(message: unknown, streams: ReadableStream[]): StreamPlace[] {
    const places: StreamPlace[] = [];
    const walk = (value: unknown, path: (string | number)[], depth: number) => {
      if (value === null || typeof value !== "object" || depth > 6) return;
      for (const [key, child] of Object.entries(value)) {
        const at = [...path, Array.isArray(value) ? Number(key) : key];
        if (child instanceof ReadableStream && streams.includes(child)) {
          const id = this.#nextStream++;
          this.#outgoing.set(id, child.getReader());
          places.push([at, id]);
          (value as Record<string, unknown>)[key] = null;
        } else walk(child, at, depth + 1);
      }
    };
    walk(message, [], 0);
    return places;
  }

  #write(frame: Uint8Array): void {
    this.#out.push(frame);
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => this.#flush());
  }

  async #flush(): Promise<void> {
    try {
      while (this.#out.length && !this.#closed) {
        const frames = this.#out;
        this.#out = [];
        await this.#writer.write(frames.length === 1 ? frames[0] : concat(frames, sizeOf(frames)));
      }
    } catch (error) {
      this.#broke(`a write failed: ${(error as Error)?.message ?? error}`);
    } finally {
      this.#flushing = false;
    }
  }

  async #readLoop(): Promise<void> {
    const reader = this.#reader = this.#readable.getReader();
    try {
      while (!this.#closed) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const frame of this.#frames.push(value)) this.#dispatch(frame);
      }
    } catch (error) {
      if (!this.#closed) this.#broke(`what it sent is not a message: ${(error as Error)?.message ?? error}`);
      return;
    }
    if (!this.#closed) {
      this.close();
      this.onclose?.();
    }
  }

  #broke(reason: string): void {
    if (this.#closed) return;
    this.close(reason);
    this.onclose?.(reason);
  }

  #dispatch(frame: Frame): void {
    switch (frame.type) {
      case FrameType.json:
      case FrameType.v8: {
        const decoded = decodeMessage(frame);
        const message = frame.stream === 1 ? this.#rebuild(decoded) : decoded;
        try {
          this.onmessage?.(message);
        } catch { /* the receiver's own failure: not the sender's fault, and not the channel's end */ }
        return;
      }
      case FrameType.chunk: {
        const incoming = this.#incoming.get(frame.stream);
        if (!incoming) return; // cancelled here meanwhile
        // One chunk per pull, no more: a sender that pushes what was not asked for is not honest.
        if (!incoming.wake) throw new RangeError(`a chunk of stream ${frame.stream} that was not pulled`);
        incoming.controller.enqueue(frame.body);
        incoming.wake();
        return;
      }
      case FrameType.end:
      case FrameType.error: {
        const incoming = this.#incoming.get(frame.stream);
        if (!incoming) return;
        this.#incoming.delete(frame.stream);
        try {
          if (frame.type === FrameType.end) incoming.controller.close();
          else incoming.controller.error(new Error(frameText.decode(frame.body)));
        } catch { /* cancelled meanwhile */ }
        incoming.wake?.();
        return;
      }
      case FrameType.pull:
        this.#sendChunk(frame.stream);
        return;
      case FrameType.cancel: {
        const reader = this.#outgoing.get(frame.stream);
        this.#outgoing.delete(frame.stream);
        this.#leftover.delete(frame.stream);
        reader?.cancel().catch(() => {});
        return;
      }
    }
  }

  /**
   * Puts a stream back in each place the other side took one from. The other
   * side is not trusted: a place is a short path through the message's own
   * plain objects and arrays (never `__proto__`, `constructor` or
   * `prototype`), a message carries few of them, and each id is new.
   */
  #rebuild(decoded: unknown): unknown {
    const { m, s } = (decoded ?? {}) as { m: unknown; s: StreamPlace[] };
    if (!Array.isArray(s) || s.length === 0 || s.length > MAX_PLACES) {
      throw new TypeError(`a message must carry 1 to ${MAX_PLACES} stream places`);
    }
    for (const place of s) {
      const [path, id] = (Array.isArray(place) ? place : []) as [unknown, unknown];
      if (!Array.isArray(path) || !path.length || path.length > MAX_PLACE_DEPTH) {
        throw new TypeError("a bad stream place");
      }
      if (typeof id !== "number" || !Number.isInteger(id) || id <= this.#lastIncoming) {
        throw new TypeError("a stream id that is not new");
      }
      if (this.#incoming.size >= MAX_INCOMING) throw new TypeError(`over ${MAX_INCOMING} streams open at once`);
      let parent: unknown = m;
      for (const [i, key] of path.entries()) {
        if (!isPlainContainer(parent) || FORBIDDEN_KEYS.has(String(key))) {
          throw new TypeError("a stream place outside the message");
        }
        if (i === path.length - 1) break;
        if (!Object.hasOwn(parent, key)) throw new TypeError("a stream place outside the message");
        parent = (parent as Record<string | number, unknown>)[key];
      }
      this.#lastIncoming = id;
      (parent as Record<string | number, unknown>)[path[path.length - 1]] = this.#incomingStream(id);
    }
    return m;
  }

  #incomingStream(id: number): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      start: (controller) => void this.#incoming.set(id, { controller }),
      pull: (controller) => {
        const incoming = this.#incoming.get(id);
        if (!incoming || controller.desiredSize === null || controller.desiredSize <= 0) return;
        return new Promise<void>((resolve) => {
          incoming.wake = () => {
            incoming.wake = undefined;
            resolve();
          };
          this.#write(encodeFrame(FrameType.pull, id, new Uint8Array(0)));
        });
      },
      cancel: () => {
        this.#incoming.delete(id);
        this.#write(encodeFrame(FrameType.cancel, id, new Uint8Array(0)));
      },
    }, { highWaterMark: 1 });
  }

  async #sendChunk(id: number): Promise<void> {
    const reader = this.#outgoing.get(id);
    if (!reader) return;
    try {
      let bytes = this.#leftover.get(id);
      this.#leftover.delete(id);
      while (!bytes?.byteLength) {
        const { done, value } = await reader.read();
        if (this.#closed) return;
        if (done) {
          this.#outgoing.delete(id);
          this.#write(encodeFrame(FrameType.end, id, new Uint8Array(0)));
          return;
        }
        // An empty chunk: the reader is still owed one, or it would wait forever.
        bytes = toBytes(value);
      }
      // One frame per pull: the rest of a large chunk waits for the next.
      if (bytes.byteLength > CHUNK_BYTES) this.#leftover.set(id, bytes.subarray(CHUNK_BYTES));
      this.#write(encodeFrame(FrameType.chunk, id, bytes.subarray(0, CHUNK_BYTES)));
    } catch (error) {
      this.#outgoing.delete(id);
      this.#write(encodeFrame(FrameType.error, id, frameText.encode(String((error as Error)?.message ?? error))));
    }
  }
}

/** A stream chunk as bytes: bytes and strings cross, anything else fails the stream. */
function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return encoder.encode(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError("a body chunk must be bytes or a string");
}

/**
 * Whether JSON carries this value exactly as a structured clone would: only
 * plain objects, arrays, strings, booleans, null and finite numbers (no
 * `undefined`, which JSON drops or turns into `null`).
 */
function isJsonExact(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (depth > 16) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !isJsonExact(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) if (!isJsonExact((value as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

function sizeOf(frames: readonly Uint8Array[]): number {
  let size = 0;
  for (const f of frames) size += f.byteLength;
  return size;
}
