/**
 * The access log's writer. One line per plugin request is the busiest log
 * there is: written through the logger's console or JSON sink, each line
 * costs a formatted value and a synchronous write, which at tens of thousands
 * of requests a second is most of the request's cost. So when the host logs to
 * the console, access lines are formatted by hand, exactly as those sinks
 * would write them, and written in batches: every
 * {@linkcode FLUSH_MS} ms, at 32 KiB, when the host stops and when the
 * process exits (one timer and one write per batch, not per request, as a
 * web server buffers its access log); with any other sink, each line is
 * handed to the logger.
 *
 * The batch is bytes: a request's console line is written into it in place
 * (`access_line.ts`), any other line encoded into it as it comes.
 *
 * @module
 */

import { consoleSink, jsonSink, type Logger } from "../logger.ts";
import { type AccessRecord, jsonLine, lineStart, textLine, textLineBound, writeTextLine } from "./access_line.ts";
import { RequestIds } from "./request_ids.ts";

export type { AccessRecord } from "./access_line.ts";

const FLUSH_AT = 32 * 1024;
/** The batch's room: a batch, and a line of any request under the URL limit (8 KiB) past it. */
const BATCH_BYTES = 64 * 1024;

/** The most an access line waits before it is written, in ms. */
export const FLUSH_MS = 50;
const encoder = new TextEncoder();

/** Where lines go: nowhere (the level is above info), batched as console or JSON lines, or the logger's own sink. */
const OFF = 0, CONSOLE = 1, JSON_LINES = 2, SINK = 3;

/**
 * Writes access lines for a host's logger.
 *
 * @example Lines go to the logger's own sink when it has one
 * ```ts
 * import assert from "node:assert/strict";
 * import { Logger, type LogRecord } from "../../mod.ts";
 * import { AccessLog } from "./access_log.ts";
 * const seen: LogRecord[] = [];
 * const access = new AccessLog(new Logger("plugboard", { level: "info", sink: (r) => seen.push(r) }));
 * access.write("hello", { method: "GET", path: "/api/plugins/hello/", status: 200, durationMs: 1, requestId: "a-1" });
 * access.request("hello", "POST", "/api/plugins/hello/tasks", 201, 3);
 * assert.equal(seen[0].name, "hello");
 * assert.equal(seen[0].message, "access");
 * assert.deepEqual(seen[0].args, [{ method: "GET", path: "/api/plugins/hello/", status: 200, durationMs: 1, requestId: "a-1" }]);
 * assert.match((seen[1].args[0] as { requestId: string }).requestId, /^[0-9a-f]{4}-1$/);
 * ```
 */
export class AccessLog {
  #log: Logger;
  #mode: number;
  #ids: RequestIds;
  #children = new Map<string, Logger>();
  /** Each plugin's console line start (`[name] INFO access { method: `), as UTF-8. */
  #starts = new Map<string, Uint8Array>();
  /** The batch: `#bytes` up to `#used`. */
  #bytes = new Uint8Array(BATCH_BYTES);
  #used = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #listening = false;
  #unload = () => this.flush();

  /**
   * @param log the host's logger (its level and sink are fixed for its life)
   * @param ids the request ids of {@linkcode AccessLog.request} @default a random prefix
   */
  constructor(log: Logger, ids: RequestIds = new RequestIds()) {
    this.#log = log;
    this.#ids = ids;
    const level = log.level;
    const sink = log.sink;
    this.#mode = level === "warn" || level === "error" || level === "silent"
      ? OFF
      : sink === consoleSink
      ? CONSOLE
      : sink === jsonSink
      ? JSON_LINES
      : SINK;
  }

  /** Whether lines are written at all (the logger's level is info or debug). */
  get enabled(): boolean {
    return this.#mode !== OFF;
  }

  /**
   * Writes one access line at info level, under the plugin's name.
   *
   * @param name the plugin (or `plugboard` when no plugin's route matched)
   * @param record the request's fields
   */
  write(name: string, record: AccessRecord): void {
    const mode = this.#mode;
    if (mode === CONSOLE) this.#buffer(textLine(name, record));
    else if (mode === JSON_LINES) this.#buffer(jsonLine(name, record));
    else if (mode === SINK) this.#child(name).info("access", { ...record });
  }

  /**
   * Writes the access line of one request, with the next request id: what
   * {@linkcode AccessLog.write} writes, without a record to build first.
   *
   * @param name the plugin (or `plugboard` when no plugin's route matched)
   * @param method the request's method
   * @param path the request's path
   * @param status the response's status
   * @param durationMs how long it took, in whole ms
   */
  request(name: string, method: string, path: string, status: number, durationMs: number): void {
    const mode = this.#mode;
    if (mode === OFF) return;
    const requestId = this.#ids.next();
    if (mode === CONSOLE) {
      let start = this.#starts.get(name);
      if (start === undefined) {
        if (this.#starts.size >= 1000) this.#starts.clear();
        this.#starts.set(name, start = encoder.encode(lineStart(name)));
      }
      const bound = textLineBound(start, method, path, requestId);
      if (this.#used + bound > BATCH_BYTES) this.flush();
      if (bound <= BATCH_BYTES) {
        const end = writeTextLine(this.#bytes, this.#used, start, method, path, status, durationMs, requestId);
        if (end >= 0) {
          this.#used = end;
          return this.#added();
        }
      }
    }
    this.write(name, { method, path, status, durationMs, requestId });
  }

  /** Writes what is buffered, and stops listening for the process's exit (the host stops). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
    if (this.#listening) globalThis.removeEventListener("unload", this.#unload);
    this.#listening = false;
  }

  /** Writes what is buffered now. */
  flush(): void {
    const used = this.#used;
    this.#used = 0;
    if (used > 0) writeAll(this.#bytes.subarray(0, used));
  }

  /** Adds a line given as text. */
  #buffer(line: string): void {
    const bytes = encoder.encode(line);
    if (this.#used + bytes.length > BATCH_BYTES) this.flush();
    if (bytes.length > BATCH_BYTES) return writeAll(bytes);
    this.#bytes.set(bytes, this.#used);
    this.#used += bytes.length;
    this.#added();
  }

  /** After a line is added: the batch is written when full, else within FLUSH_MS. */
  #added(): void {
    if (this.#used >= FLUSH_AT) return this.flush();
    if (this.#timer !== undefined) return;
    if (!this.#listening) globalThis.addEventListener("unload", this.#unload);
    this.#listening = true;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
      // Nothing waits now: the exit listener goes too (a stopped host must not stay referenced by it).
      globalThis.removeEventListener("unload", this.#unload);
      this.#listening = false;
    }, FLUSH_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #child(name: string): Logger {
    let log = this.#children.get(name);
    if (!log) {
      if (this.#children.size > 1000) this.#children.clear();
      this.#children.set(name, log = this.#log.child(name));
    }
    return log;
  }
}

/** Writes bytes to stdout, all of them; nothing when stdout is closed. */
function writeAll(bytes: Uint8Array): void {
  try {
    for (let written = 0; written < bytes.length;) written += Deno.stdout.writeSync(bytes.subarray(written));
  } catch {
    // stdout closed: nothing to write to.
  }
}
