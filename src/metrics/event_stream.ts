/**
 * Server-Sent Events streams of the host's events, one per client, each with
 * a bounded queue: a client that reads slower than events arrive loses the
 * oldest ones (and is told how many) instead of holding host memory. Streams
 * are fed from the host's bus, not from a plugin, so they survive reloads;
 * {@linkcode EventStreams.close} ends every one (on shutdown).
 *
 * @module
 */

import { formatLogValue } from "../log_escape.ts";

/** Options for {@linkcode EventStreams}. */
export interface EventStreamsOptions {
  /** The most bytes of unsent events one client may hold. @default 262144 (256 KiB) */
  maxQueueBytes?: number;
  /** The longest payload text sent, in characters; longer ones are cut. @default 4096 */
  maxPayloadChars?: number;
  /** How often an idle stream gets a comment line (keeps proxies and dead clients honest), in ms. @default 15000 */
  keepAliveMs?: number;
}

/** Options for one stream. */
export interface StreamOptions {
  /** Send each event's payload (as JSON) besides its name. @default false */
  payloads?: boolean;
  /** Only events whose name passes. @default every event */
  filter?: (name: string) => boolean;
  /**
   * Name each frame with an `event:` field; without it every frame is a plain
   * message (what a browser's `EventSource.onmessage` receives). @default true
   */
  named?: boolean;
}

/** What a stream's client holds right now. */
export interface StreamStats {
  /** Bytes queued, not yet read by the client. */
  queuedBytes: number;
  /** Events dropped because the client read too slowly. */
  dropped: number;
}

interface Client {
  payloads: boolean;
  named: boolean;
  filter?: (name: string) => boolean;
  queue: string[];
  bytes: number;
  dropped: number;
  wake?: () => void;
  closed: boolean;
}

const encoder = new TextEncoder();

/**
 * The host's event streams.
 *
 * @example A stream sees events published after it opened
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventStreams } from "./event_stream.ts";
 * const streams = new EventStreams();
 * const body = streams.open({ payloads: true });
 * streams.publish("task.created", { taskId: "t1" });
 * streams.close();
 * const text = await new Response(body).text();
 * assert.match(text, /event: task\.created\n/);
 * assert.match(text, /"taskId":"t1"/);
 * ```
 */
export class EventStreams {
  #clients = new Set<Client>();
  #seq = 0;
  #maxBytes: number;
  #maxPayload: number;
  #keepAliveMs: number;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** @param options the per-client bound, payload cut and keep-alive period */
  constructor(options: EventStreamsOptions = {}) {
    this.#maxBytes = options.maxQueueBytes ?? 256 * 1024;
    this.#maxPayload = options.maxPayloadChars ?? 4096;
    this.#keepAliveMs = options.keepAliveMs ?? 15_000;
  }

  /** Whether any stream is open (publishing costs nothing otherwise). */
  get active(): boolean {
    return this.#clients.size > 0;
  }

  /** Each open stream's queue, in the order opened. */
  stats(): StreamStats[] {
    return [...this.#clients].map((c) => ({ queuedBytes: c.bytes, dropped: c.dropped }));
  }

  /**
   * Opens a stream: Server-Sent Events, one per host event (`event:` its
   * name, `data:` JSON with `time`, `name` and, when asked, `payload`).
   *
   * @param options payloads or names only, and a filter
   * @returns the body of the response; closed by {@linkcode EventStreams.close} or when the client goes away
   */
  open(options: StreamOptions = {}): ReadableStream<Uint8Array> {
    const client: Client = {
      payloads: options.payloads ?? false,
      named: options.named ?? true,
      filter: options.filter,
      queue: [": plugboard events\n\n"],
      bytes: 0,
      dropped: 0,
      closed: this.#closed,
    };
    if (!this.#closed) this.#clients.add(client);
    this.#startKeepAlive();
    const remove = () => {
      client.closed = true;
      this.#clients.delete(client);
      if (this.#clients.size === 0) this.#stopKeepAlive();
    };
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        while (client.queue.length === 0 && !client.closed) {
          await new Promise<void>((resolve) => client.wake = resolve);
        }
        client.wake = undefined;
        if (client.queue.length === 0) return controller.close();
        let text = "";
        if (client.dropped > 0) {
          text += `event: dropped\ndata: {"count":${client.dropped}}\n\n`;
          client.dropped = 0;
        }
        text += client.queue.join("");
        client.queue = [];
        client.bytes = 0;
        controller.enqueue(encoder.encode(text));
      },
      cancel: remove,
    }, { highWaterMark: 0 });
  }

  /**
   * Sends an event to every open stream that wants it.
   *
   * @param name the event's name
   * @param payload its payload (sent only to streams that asked for payloads)
   */
  publish(name: string, payload?: unknown): void {
    if (this.#clients.size === 0) return;
    const id = ++this.#seq;
    const time = new Date().toISOString();
    const frames = new Map<number, string>();
    for (const client of this.#clients) {
      if (client.filter && !client.filter(name)) continue;
      const kind = (client.payloads ? 1 : 0) + (client.named ? 2 : 0);
      let text = frames.get(kind);
      if (text === undefined) {
        const data = client.payloads ? { time, name, payload: this.#payloadOf(payload) } : { time, name };
        frames.set(kind, text = frame(id, client.named ? name : undefined, data));
      }
      this.#enqueue(client, text);
    }
  }

  /** Ends every stream (the clients see the end of the response) and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const client of this.#clients) {
      client.closed = true;
      client.wake?.();
    }
    this.#clients.clear();
    this.#stopKeepAlive();
  }

  #enqueue(client: Client, text: string): void {
    if (text.length > this.#maxBytes) {
      client.dropped++;
      return;
    }
    client.queue.push(text);
    client.bytes += text.length;
    while (client.bytes > this.#maxBytes) {
      client.bytes -= client.queue.shift()!.length;
      client.dropped++;
    }
    client.wake?.();
  }

  #payloadOf(payload: unknown): unknown {
    let text: string | undefined;
    try {
      text = JSON.stringify(payload, (_k, v) => v instanceof Error ? { name: v.name, message: v.message } : v);
    } catch {
      text = undefined;
    }
    if (text === undefined) return formatLogValue(payload).slice(0, this.#maxPayload);
    return text.length > this.#maxPayload ? { truncated: text.slice(0, this.#maxPayload) } : JSON.parse(text);
  }

  #startKeepAlive(): void {
    if (this.#keepAlive !== undefined || this.#clients.size === 0) return;
    const timer = this.#keepAlive = setInterval(() => {
      for (const client of this.#clients) if (client.queue.length === 0) this.#enqueue(client, ": keep-alive\n\n");
    }, this.#keepAliveMs);
    Deno.unrefTimer(timer);
  }

  #stopKeepAlive(): void {
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }
}

function frame(id: number, name: string | undefined, data: unknown): string {
  // Event names are checked by the bus only loosely: keep the field on one line.
  const event = name === undefined ? "" : `event: ${name.replace(/[\r\n]/g, " ")}\n`;
  return `id: ${id}\n${event}data: ${JSON.stringify(data)}\n\n`;
}
