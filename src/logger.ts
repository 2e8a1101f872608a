/**
 * A small levelled logger; each plugin gets one named after it.
 * `PLUGBOARD_DEBUG=1` (or `*`) turns on debug output; `PLUGBOARD_DEBUG=tasks,hello`
 * only for those plugins, and {@linkcode DebugSwitch} changes that at run
 * time. `PLUGBOARD_LOG=json` writes JSON lines instead. A record is one line: control
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
  /** Receives each record. @default writes to the console ({@linkcode jsonSink} with PLUGBOARD_LOG=json) */
  sink?: LogSink;
  /** Which loggers write debug records whatever their level; shared with children. @default from PLUGBOARD_DEBUG */
  debug?: DebugSwitch;
}

/**
 * The loggers that write debug records whatever their level, by name (a
 * plugin's name, or `plugboard` for the host), or every one with `*`. One
 * switch is shared by a logger and its children, so turning a plugin's debug
 * on or off at run time takes effect at once.
 *
 * @example Debug for one plugin only
 * ```ts
 * import assert from "node:assert/strict";
 * import { DebugSwitch, Logger, type LogRecord } from "./logger.ts";
 * const seen: LogRecord[] = [];
 * const debug = new DebugSwitch(["tasks"]);
 * const host = new Logger("plugboard", { level: "info", sink: (r) => seen.push(r), debug });
 * host.child("tasks").debug("picked");
 * host.child("hello").debug("hidden");
 * debug.set("hello", true);
 * host.child("hello").debug("shown");
 * assert.deepEqual(seen.map((r) => `${r.name} ${r.message}`), ["tasks picked", "hello shown"]);
 * ```
 */
export class DebugSwitch {
  #names: Set<string>;
  #all: boolean;

  /** @param names names to debug; `*` for all */
  constructor(names: Iterable<string> = []) {
    this.#names = new Set(names);
    this.#all = this.#names.delete("*");
  }

  /**
   * Whether a logger of that name writes debug records.
   *
   * @param name the logger's name
   * @returns true when it is switched on (or everything is)
   */
  has(name: string): boolean {
    return this.#all || this.#names.has(name);
  }

  /**
   * Switches debug on or off for one name, or for every name with `*`.
   *
   * @param name a logger's name, or `*`
   * @param on on or off
   */
  set(name: string, on: boolean): void {
    if (name === "*") this.#all = on;
    else if (on) this.#names.add(name);
    else this.#names.delete(name);
  }

  /** The names switched on (`*` first when everything is). */
  get names(): string[] {
    return [...(this.#all ? ["*"] : []), ...this.#names];
  }
}

/**
 * Reads `PLUGBOARD_DEBUG` as a list of names: `tasks,hello`, or `*`.
 *
 * @param value the variable's value
 * @returns the names; `1` and `true` (global debug, see {@linkcode defaultLogLevel}) give none
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDebugNames } from "./logger.ts";
 * assert.deepEqual(parseDebugNames(" tasks, hello ,"), ["tasks", "hello"]);
 * assert.deepEqual(parseDebugNames("1"), []);
 * ```
 */
export function parseDebugNames(value: string | undefined): string[] {
  if (value === undefined || value === "1" || value === "true") return [];
  return value.split(",").map((n) => n.trim()).filter((n) => n !== "");
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** A JSON-safe view of an error: name, message, stack, code and cause. */
function errorJson(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return formatLogValue(error);
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(typeof code === "string" ? { code } : {}),
    ...(error.cause !== undefined && depth < 3 ? { cause: errorJson(error.cause, depth + 1) } : {}),
  };
}

/**
 * The JSON sink (`PLUGBOARD_LOG=json`): one JSON object per line with
 * `time`, `level`, `plugin` (the logger's name), `msg`, the fields of plain
 * object arguments, `error` (name, message, stack) for an error argument, and
 * `args` for anything else. JSON escapes control characters, so a line cannot
 * be forged either.
 */
export const jsonSink: LogSink = ({ level, name, message, args }) => {
  const line: Record<string, unknown> = { time: new Date().toISOString(), level, plugin: name, msg: message };
  const rest: unknown[] = [];
  for (const arg of args) {
    if (arg instanceof Error) line.error ??= errorJson(arg);
    else if (arg !== null && typeof arg === "object" && Object.getPrototypeOf(arg) === Object.prototype) {
      for (const [k, v] of Object.entries(arg)) if (!(k in line)) line[k] = v instanceof Error ? errorJson(v) : v;
    } else rest.push(typeof arg === "string" ? arg : formatLogValue(arg));
  }
  if (rest.length) line.args = rest;
  let text: string;
  try {
    text = JSON.stringify(line);
  } catch {
    text = JSON.stringify({ time: line.time, level, plugin: name, msg: message, args: args.map(formatLogValue) });
  }
  if (level === "error") console.error(text);
  else if (level === "warn") console.warn(text);
  else console.log(text);
};

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
  const v = readEnv("PLUGBOARD_DEBUG");
  return v === "1" || v === "true" ? "debug" : "info";
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
  #debug: DebugSwitch;

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
    this.#sink = options.sink ?? (readEnv("PLUGBOARD_LOG") === "json" ? jsonSink : consoleSink);
    this.#debug = options.debug ?? new DebugSwitch(parseDebugNames(readEnv("PLUGBOARD_DEBUG")));
  }

  /** Where its records go (shared with its children). */
  get sink(): LogSink {
    return this.#sink;
  }

  /** Which loggers (this one and its children) write debug records whatever their level. */
  get debugSwitch(): DebugSwitch {
    return this.#debug;
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
    return new Logger(name, { level: this.#level, sink: this.#sink, debug: this.#debug });
  }

  /** Writes a debug record. @param message text @param args extra values */
  debug(message: string, ...args: unknown[]): void {
    if (this.#rank <= 10 || (this.#rank < 100 && this.#debug.has(this.name))) this.#write("debug", message, args);
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
