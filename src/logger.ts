/**
 * A small levelled logger; each plugin gets one named after it.
 * `PLUGBOARD_DEBUG=1` turns on debug output. A record is one line: control
 * characters in its name, message and text arguments are escaped before any
 * sink sees them, and the console sink writes every record on one line, so
 * text that came from a plugin cannot forge a line of the host's.
 *
 * @module
 */

import { escapeControl, formatLogValue } from "./log_escape.ts";

/** Log levels, quietest last. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** One log line, as handed to a {@linkcode LogSink}. */
export interface LogRecord {
  /** The level it was written at (never `silent`, which only turns output off). */
  level: Exclude<LogLevel, "silent">;
  /** `plugboard` for the host, else the plugin's name (control characters escaped). */
  name: string;
  /** The first argument of the call, such as `"ready"` for `log.info("ready", { port })` (control characters escaped). */
  message: string;
  /** The rest of the call's arguments, as passed (not formatted), except that strings have control characters escaped. */
  args: unknown[];
}

/** Where log records go. */
export type LogSink = (record: LogRecord) => void;

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  /** The lowest level written. @default "debug" when PLUGBOARD_DEBUG=1, else "info" */
  level?: LogLevel;
  /** Receives each record. @default writes to the console */
  sink?: LogSink;
}

/**
 * The console sink: `[name] LEVEL message args...` on one line, every part
 * escaped (an error argument shows its stack with `\n` between frames).
 * Errors and warnings go to stderr, the rest to stdout.
 */
export const consoleSink: LogSink = ({ level, name, message, args }) => {
  let line = `[${escapeControl(name)}] ${level.toUpperCase()} ${escapeControl(message)}`;
  for (const arg of args) line += ` ${formatLogValue(arg)}`;
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

/**
 * Reads the default level from `PLUGBOARD_DEBUG`, without needing `--allow-env`.
 *
 * @returns "debug" when PLUGBOARD_DEBUG is 1 or true, else "info"
 */
export function defaultLogLevel(): LogLevel {
  try {
    const v = Deno.env.get("PLUGBOARD_DEBUG");
    return v === "1" || v === "true" ? "debug" : "info";
  } catch {
    return "info";
  }
}

/**
 * A named, levelled logger.
 *
 * @example Collect records
 * ```ts
 * import assert from "node:assert/strict";
 * import { Logger, type LogRecord } from "../mod.ts";
 * const seen: LogRecord[] = [];
 * const log = new Logger("hello", { level: "info", sink: (r) => seen.push(r) });
 * log.debug("hidden");
 * log.info("ready", { port: 8000 });
 * log.warn("two\nlines");
 * assert.equal(seen.length, 2);
 * assert.equal(seen[0].message, "ready");
 * assert.equal(seen[1].message, "two\\nlines"); // one record, one line
 * ```
 */
export class Logger {
  /** Whose logger this is. */
  readonly name: string;
  #rank: number;
  #sink: LogSink;
  #level: LogLevel;

  /**
   * Creates a logger that hands every record at or above `options.level` to
   * `options.sink`.
   *
   * @param name `plugboard` or a plugin name
   * @param options level and sink
   */
  constructor(name: string, options: LoggerOptions = {}) {
    this.name = escapeControl(String(name));
    this.#level = options.level ?? defaultLogLevel();
    this.#rank = RANK[this.#level];
    this.#sink = options.sink ?? consoleSink;
  }

  /** The lowest level written. */
  get level(): LogLevel {
    return this.#level;
  }

  /**
   * A logger with the same level and sink under another name.
   *
   * @param name the new name
   * @returns the child logger
   */
  child(name: string): Logger {
    return new Logger(name, { level: this.#level, sink: this.#sink });
  }

  /** Writes a debug record. @param message text @param args extra values */
  debug(message: string, ...args: unknown[]): void {
    if (this.#rank <= 10) this.#write("debug", message, args);
  }

  /** Writes an info record. @param message text @param args extra values */
  info(message: string, ...args: unknown[]): void {
    if (this.#rank <= 20) this.#write("info", message, args);
  }

  /** Writes a warning. @param message text @param args extra values */
  warn(message: string, ...args: unknown[]): void {
    if (this.#rank <= 30) this.#write("warn", message, args);
  }

  /** Writes an error. @param message text @param args extra values */
  error(message: string, ...args: unknown[]): void {
    if (this.#rank <= 40) this.#write("error", message, args);
  }

  /** Hands one record to the sink, its text escaped (a plugin may have written any of it). */
  #write(level: LogRecord["level"], message: unknown, args: unknown[]): void {
    const text = typeof message === "string" ? escapeControl(message) : formatLogValue(message);
    for (let i = 0; i < args.length; i++) {
      if (typeof args[i] === "string") args[i] = escapeControl(args[i] as string);
    }
    this.#sink({ level, name: this.name, message: text, args });
  }
}
