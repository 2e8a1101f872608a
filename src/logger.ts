/**
 * A small levelled logger; each plugin gets one named after it.
 * `PLUGBOARD_DEBUG=1` turns on debug output.
 *
 * @module
 */

/** Log levels, quietest last. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** One log line, as handed to a {@linkcode LogSink}. */
export interface LogRecord {
  /** The level it was written at (never `silent`, which only turns output off). */
  level: Exclude<LogLevel, "silent">;
  /** `plugboard` for the host, else the plugin's name. */
  name: string;
  /** The first argument of the call, such as `"ready"` for `log.info("ready", { port })`. */
  message: string;
  /** The rest of the call's arguments, as passed (not formatted). */
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

/** The console sink: `[name] LEVEL message`. */
export const consoleSink: LogSink = ({ level, name, message, args }) => {
  const line = `[${name}] ${level.toUpperCase()} ${message}`;
  if (level === "error") console.error(line, ...args);
  else if (level === "warn") console.warn(line, ...args);
  else console.log(line, ...args);
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
 * assert.equal(seen.length, 1);
 * assert.equal(seen[0].message, "ready");
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
    this.name = name;
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
    if (this.#rank <= 10) this.#sink({ level: "debug", name: this.name, message, args });
  }

  /** Writes an info record. @param message text @param args extra values */
  info(message: string, ...args: unknown[]): void {
    if (this.#rank <= 20) this.#sink({ level: "info", name: this.name, message, args });
  }

  /** Writes a warning. @param message text @param args extra values */
  warn(message: string, ...args: unknown[]): void {
    if (this.#rank <= 30) this.#sink({ level: "warn", name: this.name, message, args });
  }

  /** Writes an error. @param message text @param args extra values */
  error(message: string, ...args: unknown[]): void {
    if (this.#rank <= 40) this.#sink({ level: "error", name: this.name, message, args });
  }
}
