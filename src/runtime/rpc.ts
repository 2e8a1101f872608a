/**
 * Calls over `postMessage`: numbered requests, their replies, and one-way
 * notes, in both directions between the host and a plugin's worker. Errors
 * cross as `{ name, message, code, stack }` and are rebuilt on the other side.
 *
 * @module
 */

import { errorText } from "../error_text.ts";

/** The most messages one batch may hold: far more than one turn of an honest sender posts. */
export const MAX_BATCH = 100_000;

/** How many slots for waiting calls are kept once none waits (more were needed in a burst). */
const IDLE_SLOTS = 1024;

/** Anything with `postMessage` (a Worker, or a worker's `self`). */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

/** Handles one kind of call; the returned value is the reply. */
export type RpcHandler = (payload: never) => unknown;

/**
 * A value to send with transferables (streams, buffers) moved rather than
 * copied. Only plugboard's own code builds one, of plain data: it is sent
 * without the trial clone other values get.
 */
export class Transfer<T = unknown> {
  /**
   * @param value the value
   * @param transfer the transferables in it
   */
  constructor(readonly value: T, readonly transfer: Transferable[]) {}
}

/** An error as it crosses the channel. */
export interface WireError {
  name: string;
  message: string;
  /** The code of a plugboard error. */
  code?: string;
  /** A plugboard error's reason (its message without "Cannot load plugin ..."). */
  reason?: string;
  /** The plugin the error is about (for a service call: the plugin that provides the service). */
  plugin?: string;
  stack?: string;
}

/** A message's kind, its first element. */
const CALL = 0, NOTE = 1, OK = 2, ERR = 3;

/**
 * A message on the channel: a short array rather than an object (an array
 * of four clones in about two thirds of the time of an object with the same
 * fields). A batch is an array of these.
 */
export type Wire =
  | [kind: typeof CALL, id: number, method: string, payload: unknown]
  | [kind: typeof NOTE, method: string, payload: unknown]
  | [kind: typeof OK, id: number, value: unknown]
  | [kind: typeof ERR, id: number, error: WireError];

/**
 * A one-way note as it is posted, for a sender that is not an {@linkcode Rpc}.
 *
 * @param method the handler's name
 * @param payload its argument
 * @returns the message
 */
export function noteMessage(method: string, payload: unknown): Wire {
  return [NOTE, method, payload];
}

/** An error thrown on the other side of a channel. */
export class RemoteError extends Error {
  /** The code of the original error, when it had one. */
  readonly code: string | undefined;
  /** The original plugboard error's reason, when it had one. */
  readonly reason: string | undefined;
  /** The plugin the error is about, when the other side named one. */
  readonly plugin: string | undefined;

  /** @param wire the error as it crossed */
  constructor(wire: WireError) {
    super(wire.message);
    this.name = wire.name;
    this.code = wire.code;
    this.reason = wire.reason;
    this.plugin = wire.plugin;
    if (wire.stack) this.stack = wire.stack;
  }
}

/**
 * Serialises an error for the wire: strings only, so that posting it cannot
 * fail. A plugin may throw anything (an `Error` whose `stack` is a function,
 * a revoked Proxy); a description that could not be cloned would leave the
 * caller waiting for a reply until its timeout.
 *
 * @param error anything thrown
 * @returns a cloneable description
 */
export function toWireError(error: unknown): WireError {
  const text = (value: unknown) => typeof value === "string" ? value : undefined;
  try {
    if (error instanceof Error) {
      const { name, stack, code, reason, plugin } = error as Error & {
        code?: unknown;
        reason?: unknown;
        plugin?: unknown;
      };
      return {
        name: text(name) ?? "Error",
        message: errorText(error),
        code: text(code),
        reason: text(reason),
        plugin: text(plugin),
        stack: text(stack),
      };
    }
  } catch { /* its fields cannot be read: described below as any other value */ }
  // Anything else thrown (a string, null, `{ code, message }`): its text, and its code when it has one.
  const wire: WireError = { name: "Error", message: errorText(error) };
  try {
    const code = typeof error === "object" && error !== null ? text((error as { code?: unknown }).code) : undefined;
    if (code !== undefined) wire.code = code;
  } catch { /* a code that cannot be read is none */ }
  return wire;
}

/**
 * One end of a channel.
 *
 * @example Two ends over a MessageChannel
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rpc } from "./rpc.ts";
 * const { port1, port2 } = new MessageChannel();
 * const a = new Rpc(port1, {});
 * const b = new Rpc(port2, { double: (n: number) => n * 2 });
 * port1.onmessage = (e) => a.receive(e.data);
 * port2.onmessage = (e) => b.receive(e.data);
 * assert.equal(await a.call("double", 21), 42);
 * port1.close();
 * port2.close();
 * ```
 */
export class Rpc {
  #endpoint: MessageEndpoint;
  #handlers: Record<string, RpcHandler>;
  /**
   * The calls waiting for a reply: a call's id is the index of its slot, free again once its reply came. Not a `Map`:
   * under load, a `Map` that each call was added to and deleted from kept the calls' objects (their promises, and the
   * requests waiting on them) alive past the next young-generation collection, ~0.7 KB a request promoted to the old
   * generation in a probe under wrk, and ~4 µs a request of the host's garbage collection.
   */
  #slots: (Pending | undefined)[] = [];
  #free: number[] = [];
  #waiting = 0;
  #closed: Error | undefined;
  /** Messages posted in this microtask turn, sent together (one wake-up of the other thread for many). */
  #outbox: Wire[] = [];
  #outboxTransfer: Transferable[] = [];
  #flushQueued = false;

  /**
   * @param endpoint where to post
   * @param handlers calls and notes this end answers
   */
  constructor(endpoint: MessageEndpoint, handlers: Record<string, RpcHandler>) {
    this.#endpoint = endpoint;
    this.#handlers = handlers;
  }

  /** How many calls are waiting for a reply. */
  get pending(): number {
    return this.#waiting;
  }

  /**
   * Calls the other side.
   *
   * @param method the handler's name
   * @param payload its argument (structured-cloned, or a {@linkcode Transfer})
   * @param settled called once the call is settled, before its promise is (so a counter needs no promise of its own)
   * @returns the reply
   * @throws {RemoteError} what the handler threw; `DataCloneError` for a payload that cannot cross
   */
  call<T = unknown>(method: string, payload?: unknown, settled?: () => void): Promise<T> {
    if (this.#closed) {
      settled?.();
      return Promise.reject(this.#closed);
    }
    const id = this.#free.length > 0 ? this.#free.pop()! : this.#slots.length;
    return new Promise<T>((resolve, reject) => {
      this.#slots[id] = { resolve: resolve as (v: unknown) => void, reject, settled };
      this.#waiting++;
      try {
        this.#post([CALL, id, method, unwrap(payload)], transfers(payload), payload instanceof Transfer);
      } catch (error) {
        this.#settle(id);
        reject(error);
      }
    });
  }

  /**
   * Sends a one-way note.
   *
   * @param method the handler's name
   * @param payload its argument
   * @throws {DOMException} `DataCloneError` for a payload that cannot cross
   */
  notify(method: string, payload?: unknown): void {
    if (this.#closed) return;
    this.#post([NOTE, method, unwrap(payload)], transfers(payload), payload instanceof Transfer);
  }

  /**
   * Sends what waits to go out now, rather than at the end of this turn: for
   * a side about to end (a worker whose plugin calls `Deno.exit`).
   */
  flush(): void {
    if (this.#flushQueued) this.#flush();
  }

  /**
   * Handles a message from the other side.
   *
   * @param data the message
   * @returns false for a batch longer than {@linkcode MAX_BATCH} (not handled: the other side is not honest)
   */
  receive(data: unknown): boolean {
    if (!Array.isArray(data)) return true;
    // One message starts with its kind (a number); a batch with a message.
    if (typeof data[0] !== "number") {
      // A batch is what one turn of the other side posted; a longer one (or a sparse one, whose length is free to
      // forge) is not a batch this channel makes, and would hold this thread for as long as it claims to be.
      if (data.length > MAX_BATCH) return false;
      for (let i = 0; i < data.length; i++) this.#receiveOne(data[i]);
      return true;
    }
    this.#receiveOne(data);
    return true;
  }

  #receiveOne(data: unknown): void {
    if (!Array.isArray(data)) return;
    const msg = data as Wire;
    switch (msg[0]) {
      case OK:
        this.#settle(msg[1])?.resolve(msg[2]);
        return;
      case ERR:
        this.#settle(msg[1])?.reject(
          new RemoteError(msg[2] ?? { name: "Error", message: "The other side failed without saying why" }),
        );
        return;
      case NOTE: {
        // A name the other side chose: only a handler of this end's own (never one inherited from Object).
        const handler = typeof msg[1] === "string" && Object.hasOwn(this.#handlers, msg[1])
          ? this.#handlers[msg[1]] as (p: unknown) => unknown
          : undefined;
        try {
          // A handler meant for calls, sent as a note, may fail later: nobody waits for that, so it is dropped here
          // (left unhandled, the rejection would end this thread's process).
          const done = handler?.(msg[2]) as PromiseLike<unknown> | undefined;
          if (typeof done?.then === "function") done.then(undefined, ignore);
        } catch { /* notes have no reply */ }
        return;
      }
      case CALL:
        this.#answer(msg[1], msg[2], msg[3]);
        return;
    }
  }

  /**
   * Fails every pending call and refuses new ones.
   *
   * @param error the reason
   */
  close(error: Error): void {
    this.#closed = error;
    const pending = this.#slots.filter((p) => p !== undefined);
    this.#slots = [];
    this.#free = [];
    this.#waiting = 0;
    for (const p of pending) {
      p.settled?.();
      p.reject(error);
    }
  }

  async #answer(id: number, method: string, payload: unknown): Promise<void> {
    const handler = typeof method === "string" && Object.hasOwn(this.#handlers, method)
      ? this.#handlers[method] as (p: unknown) => unknown
      : undefined;
    try {
      if (!handler) throw new TypeError(`No handler for "${method}"`);
      const value = await handler(payload);
      this.#post([OK, id, unwrap(value)], transfers(value), value instanceof Transfer);
    } catch (error) {
      try {
        this.#post([ERR, id, toWireError(error)], [], true);
      } catch { /* closed */ }
    }
  }

  /** Takes the call waiting under an id (one the other side sent: anything but a waiting call's id is none). */
  #settle(id: number): Pending | undefined {
    const p = typeof id === "number" ? this.#slots[id] : undefined;
    if (p === undefined) return undefined;
    this.#slots[id] = undefined;
    this.#waiting--;
    // Idle after a burst: the slots go back to nothing rather than keep the burst's length.
    if (this.#waiting === 0 && this.#slots.length > IDLE_SLOTS) {
      this.#slots = [];
      this.#free = [];
    } else this.#free.push(id);
    p.settled?.();
    return p;
  }

  #post(message: Wire, transfer: Transferable[], vouched: boolean): void {
    if (this.#closed) return;
    // Fail fast on what cannot be cloned, at the call that sent it (not at the batch).
    if (!vouched && transfer.length === 0 && !isPlain(message)) structuredClone(message);
    this.#outbox.push(message);
    for (const t of transfer) this.#outboxTransfer.push(t);
    // A batch never grows past what the other side accepts: a full one goes now.
    if (this.#outbox.length >= MAX_BATCH) return this.#flush();
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushQueued = false;
    const batch = this.#outbox;
    const transfer = this.#outboxTransfer;
    this.#outbox = [];
    this.#outboxTransfer = [];
    if (this.#closed || batch.length === 0) return;
    const message = batch.length === 1 ? batch[0] : batch;
    try {
      // Without a transfer list when there is nothing to move: in a worker, passing one (even empty) makes Deno load
      // what transfers need, ~0.5 MiB per worker that most never use.
      if (transfer.length) this.#endpoint.postMessage(message, transfer);
      else this.#endpoint.postMessage(message);
    } catch (error) {
      // Nothing of the batch was sent: its calls fail now, not at their deadline (a receiver that is gone fails the
      // rest through close()).
      for (const msg of batch) if (msg[0] === CALL) this.#settle(msg[1])?.reject(error);
    }
  }
}

function ignore(): void {}

/** A call waiting for its reply. */
interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  settled: (() => void) | undefined;
}

function unwrap(value: unknown): unknown {
  return value instanceof Transfer ? value.value : value;
}

function transfers(value: unknown): Transferable[] {
  return value instanceof Transfer ? value.transfer : [];
}

/**
 * Whether a message holds only JSON-like values and bytes, which always
 * clone (skips a trial clone on the hot path: a response's body is bytes).
 */
function isPlain(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== "object") return typeof value !== "function" && typeof value !== "symbol";
  if (depth > 8) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto === ArrayBuffer.prototype) return !(value as ArrayBuffer).detached; // a detached one cannot be cloned
  if (Array.isArray(value)) return value.every((v) => isPlain(v, depth + 1));
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) if (!isPlain((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}
