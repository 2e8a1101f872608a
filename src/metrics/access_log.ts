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
 * @module
 */

import { consoleSink, jsonSink, type Logger } from "../logger.ts";

/** One access line's fields. */
export interface AccessRecord {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestId: string;
}

const FLUSH_AT = 32 * 1024;

/** The most an access line waits before it is written, in ms. */
export const FLUSH_MS = 50;
const encoder = new TextEncoder();

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
 * assert.equal(seen[0].name, "hello");
 * assert.equal(seen[0].message, "access");
 * assert.deepEqual(seen[0].args, [{ method: "GET", path: "/api/plugins/hello/", status: 200, durationMs: 1, requestId: "a-1" }]);
 * ```
 */
export class AccessLog {
  #log: Logger;
  #children = new Map<string, Logger>();
  #pending = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #listening = false;
  #unload = () => this.flush();

  /** @param log the host's logger */
  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Writes one access line at info level, under the plugin's name.
   *
   * @param name the plugin (or `plugboard` when no plugin's route matched)
   * @param record the request's fields
   */
  write(name: string, record: AccessRecord): void {
    const log = this.#log;
    if (log.level === "warn" || log.level === "error" || log.level === "silent") return;
    const sink = log.sink;
    if (sink === consoleSink) this.#buffer(textLine(name, record));
    else if (sink === jsonSink) this.#buffer(jsonLine(name, record));
    else this.#child(name).info("access", { ...record });
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
    const text = this.#pending;
    this.#pending = "";
    if (text === "") return;
    try {
      const bytes = encoder.encode(text);
      for (let written = 0; written < bytes.length;) written += Deno.stdout.writeSync(bytes.subarray(written));
    } catch {
      // stdout closed: nothing to write to.
    }
  }

  #buffer(line: string): void {
    this.#pending += line;
    if (this.#pending.length >= FLUSH_AT) return this.flush();
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

/** As the console sink writes `log.info("access", record)` (strings quoted and escaped as JSON does). */
function textLine(name: string, r: AccessRecord): string {
  return `[${escapeName(name)}] INFO access { method: ${JSON.stringify(r.method)}, path: ${
    JSON.stringify(r.path)
  }, status: ${r.status}, durationMs: ${r.durationMs}, requestId: ${JSON.stringify(r.requestId)} }\n`;
}

/** As the JSON sink writes it. */
function jsonLine(name: string, r: AccessRecord): string {
  return `${JSON.stringify({ time: new Date().toISOString(), level: "info", plugin: name, msg: "access", ...r })}\n`;
}

/** Plugin names are kebab-case; anything else is escaped like the console sink escapes names. */
function escapeName(name: string): string {
  return /^[a-z0-9-]+$/.test(name) ? name : JSON.stringify(name).slice(1, -1);
}
