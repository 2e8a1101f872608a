/**
 * The byte framing of a sandboxed plugin's channel (a Unix socket between
 * the host and the plugin's own process): each frame is a 1-byte type, a
 * 4-byte stream id and a 4-byte length, then that many bytes. A message is
 * JSON when it holds only JSON values, else V8's serialisation; bodies
 * cross as numbered streams of chunk frames, pulled one chunk at a time
 * (streams cannot be transferred between processes).
 *
 * @module
 */

import v8 from "node:v8";

/** What a frame carries. */
export const FrameType = {
  /** A message (or a batch), as JSON. */
  json: 1,
  /** A message (or a batch), as V8's serialisation (it holds bytes, `undefined`, a `Map`...). */
  v8: 2,
  /** A chunk of a stream. */
  chunk: 3,
  /** A stream ended. */
  end: 4,
  /** A stream failed (the body is the reason, UTF-8). */
  error: 5,
  /** The reader wants the next chunk of a stream. */
  pull: 6,
  /** The reader gave up on a stream. */
  cancel: 7,
} as const;

/** One frame's type. */
export type FrameKind = typeof FrameType[keyof typeof FrameType];

/** The header: type (1), stream id (4), length (4). */
export const HEADER_BYTES = 9;
/**
 * The largest frame either side accepts: a longer one is garbage (or an attack), and ends the channel. Bodies over
 * 1 MiB cross as streams, so only a service call's or an event's payload comes near it.
 */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** One frame read off the channel. */
export interface Frame {
  type: FrameKind;
  stream: number;
  body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Builds one frame.
 *
 * @param type what it carries
 * @param stream its stream id (0 for messages)
 * @param body its bytes
 * @returns the frame's bytes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrame, FrameReader, FrameType } from "./process_frames.ts";
 * const reader = new FrameReader();
 * const [frame] = reader.push(encodeFrame(FrameType.chunk, 7, new Uint8Array([1, 2])));
 * assert.deepEqual([frame.type, frame.stream, [...frame.body]], [FrameType.chunk, 7, [1, 2]]);
 * ```
 */
export function encodeFrame(type: FrameKind, stream: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, type);
  view.setUint32(1, stream);
  view.setUint32(5, body.byteLength);
  out.set(body, HEADER_BYTES);
  return out;
}

/**
 * Encodes a message: JSON when it is plain, else V8's serialisation.
 *
 * @param message the message (streams already taken out)
 * @param plain whether it holds only JSON values
 * @returns its frame
 */
export function encodeMessage(message: unknown, plain: boolean): Uint8Array {
  return plain
    ? encodeFrame(FrameType.json, 0, encoder.encode(JSON.stringify(message)))
    : encodeFrame(FrameType.v8, 0, new Uint8Array(v8.serialize(message)));
}

/**
 * Decodes a message frame.
 *
 * @param frame a `json` or `v8` frame
 * @returns the message
 * @throws {SyntaxError} bytes that are not a message
 */
export function decodeMessage(frame: Frame): unknown {
  if (frame.type === FrameType.json) return JSON.parse(decoder.decode(frame.body));
  return v8.deserialize(frame.body);
}

/** Text for an `error` frame, and back. */
export const frameText = {
  encode: (text: string): Uint8Array => encoder.encode(text.slice(0, 2000)),
  decode: (bytes: Uint8Array): string => new TextDecoder().decode(bytes).slice(0, 2000),
};

/** Cuts a byte stream into frames; refuses what cannot be one. Each byte is copied once. */
export class FrameReader {
  #header = new Uint8Array(HEADER_BYTES);
  #headerFill = 0;
  #type: FrameKind = FrameType.json;
  #stream = 0;
  #body: Uint8Array | undefined;
  #bodyFill = 0;

  /**
   * Adds bytes read off the channel.
   *
   * @param bytes what was read
   * @returns every frame now complete
   * @throws {RangeError} an unknown frame type, or a frame over {@linkcode MAX_FRAME_BYTES}
   */
  push(bytes: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let at = 0;
    while (at < bytes.byteLength) {
      if (!this.#body) {
        const take = Math.min(HEADER_BYTES - this.#headerFill, bytes.byteLength - at);
        this.#header.set(bytes.subarray(at, at + take), this.#headerFill);
        this.#headerFill += take;
        at += take;
        if (this.#headerFill < HEADER_BYTES) break;
        const view = new DataView(this.#header.buffer);
        const type = view.getUint8(0);
        const length = view.getUint32(5);
        if (type < FrameType.json || type > FrameType.cancel) throw new RangeError(`a frame of unknown type ${type}`);
        if (length > MAX_FRAME_BYTES) throw new RangeError(`a frame of ${length} bytes, over ${MAX_FRAME_BYTES}`);
        this.#type = type as FrameKind;
        this.#stream = view.getUint32(1);
        this.#body = new Uint8Array(length);
        this.#bodyFill = 0;
      }
      const take = Math.min(this.#body.byteLength - this.#bodyFill, bytes.byteLength - at);
      this.#body.set(bytes.subarray(at, at + take), this.#bodyFill);
      this.#bodyFill += take;
      at += take;
      if (this.#bodyFill === this.#body.byteLength) {
        frames.push({ type: this.#type, stream: this.#stream, body: this.#body });
        this.#body = undefined;
        this.#headerFill = 0;
      }
    }
    return frames;
  }
}
