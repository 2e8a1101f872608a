/**
 * What an isolated plugin prints goes to the host's log, under the name the
 * host gives it, never straight to the process's stdout: in its worker,
 * before any plugin code runs, `console.*` and `Deno.stdout` / `Deno.stderr`
 * are replaced by functions that send each call as one log line, and
 * Deno's internal namespace (whose `core.print` writes to stdout) is
 * removed. What remains unrouted: writes to file descriptors 1 and 2
 * through `node:fs` (see docs/SECURITY.md).
 *
 * @module
 */

/** One line a plugin printed, as sent to the host. */
export interface PrintedLine {
  /** `debug` for console.debug, `warn` for console.warn, `error` for console.error and stderr, else `info`. */
  level: "debug" | "info" | "warn" | "error";
  /** The text, as console would have shown it, without its final newline. */
  message: string;
}

/** Deno's own console class: it formats like `console` and hands each message to `print`. */
type ConsoleClass = new (print: (text: string, level: number) => void) => Record<string, unknown>;

/** What {@linkcode routeWorkerOutput} installs. */
export interface WorkerOutput {
  /** Sends the lines held so far, and from now on every line at once. */
  open(): void;
}

/** How many lines are held before `open()`; later ones are counted, then reported as dropped. */
export const HELD_LINES = 100;

/** The console methods that print, routed when Deno's console class is not available. */
const PRINTING = [
  "log",
  "info",
  "debug",
  "warn",
  "error",
  "trace",
  "dir",
  "dirxml",
  "table",
  "assert",
  "count",
  "timeLog",
  "timeEnd",
  "group",
  "groupCollapsed",
] as const;

/**
 * Replaces this realm's console methods and `Deno.stdout` / `Deno.stderr`
 * writers with ones that call `send`, one call per line printed. Lines
 * printed before `open()` (a plugin's top-level code, while the host has no
 * log for it yet) are held, up to {@linkcode HELD_LINES}.
 *
 * @param send delivers one line to the host
 * @param options `target` is the console to route (default `console`); `consoleClass`
 *   Deno's console class (default: taken from Deno's internal namespace, which is then removed)
 * @returns the switch that lets held lines through
 *
 * @example Route a console of one's own
 * ```ts
 * import assert from "node:assert/strict";
 * import { type PrintedLine, routeWorkerOutput } from "./worker_console.ts";
 * const lines: PrintedLine[] = [];
 * const target: Record<string, unknown> = {};
 * const output = routeWorkerOutput((l) => lines.push(l), { target, consoleClass: null, streams: false });
 * (target.log as (...a: unknown[]) => void)("a\nb", { n: 1 });
 * assert.equal(lines.length, 0); // held until open()
 * output.open();
 * assert.deepEqual(lines, [{ level: "info", message: "a\nb { n: 1 }" }]);
 * ```
 */
export function routeWorkerOutput(
  send: (line: PrintedLine) => void,
  options: { target?: Record<string, unknown>; consoleClass?: ConsoleClass | null; streams?: boolean } = {},
): WorkerOutput {
  let open = false;
  let held: PrintedLine[] = [];
  let dropped = 0;
  const deliver = (line: PrintedLine) => {
    if (open) send(line);
    else if (held.length < HELD_LINES) held.push(line);
    else dropped++;
  };
  const print = (text: string, level: PrintedLine["level"]) => {
    const message = text.endsWith("\n") ? text.slice(0, -1) : text;
    if (message !== "") deliver({ level, message });
  };
  const target = options.target ?? (console as unknown as Record<string, unknown>);
  const consoleClass = options.consoleClass === undefined ? takeDenoConsole() : options.consoleClass;
  Object.assign(target, consoleClass ? denoConsole(consoleClass, print) : plainConsole(print));
  if (options.streams !== false) {
    routeStream(Deno.stdout, (text) => print(text, "info"));
    routeStream(Deno.stderr, (text) => print(text, "error"));
  }
  return {
    open() {
      if (open) return;
      open = true;
      const lines = held;
      held = [];
      for (const line of lines) send(line);
      if (dropped > 0) send({ level: "warn", message: `${dropped} more lines printed before setup were dropped` });
    },
  };
}

/** Deno's console class from its internal namespace, which is removed so plugin code cannot print through it. */
function takeDenoConsole(): ConsoleClass | null {
  const ns = Deno as unknown as Record<symbol, Record<string, unknown> | undefined>;
  const key = (Deno as unknown as { internal?: symbol }).internal;
  if (typeof key !== "symbol") return null;
  const internal = ns[key];
  delete ns[key];
  return typeof internal?.Console === "function" ? internal.Console as ConsoleClass : null;
}

/** Console methods from Deno's own class: format strings, tables, groups, counters and timers as usual. */
function denoConsole(
  consoleClass: ConsoleClass,
  print: (text: string, level: PrintedLine["level"]) => void,
): Record<string, unknown> {
  const routed = new consoleClass((text, level) =>
    print(String(text), level === 0 ? "debug" : level === 2 ? "warn" : level === 3 ? "error" : "info")
  );
  const methods: Record<string, unknown> = {};
  for (const key of Object.keys(routed)) if (typeof routed[key] === "function") methods[key] = routed[key];
  return methods;
}

/** Console methods that join their arguments as `console.log` would (without format strings). */
function plainConsole(print: (text: string, level: PrintedLine["level"]) => void): Record<string, unknown> {
  const text = (args: unknown[]) =>
    args.map((a) => typeof a === "string" ? a : Deno.inspect(a, { colors: false, depth: 4 })).join(" ");
  const methods: Record<string, unknown> = { clear: () => {} };
  for (const method of PRINTING) {
    const level = method === "debug" ? "debug" : method === "warn" ? "warn" : method === "error" ? "error" : "info";
    methods[method] = method === "assert"
      ? (ok: unknown, ...args: unknown[]) => void (ok || print(`Assertion failed: ${text(args)}`, "error"))
      : (...args: unknown[]) => print(text(args), level);
  }
  return methods;
}

/** Makes one of Deno's standard streams print through `print` instead of writing to the process's. */
function routeStream(stream: object, print: (text: string) => void): void {
  const proto = Object.getPrototypeOf(stream);
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const writeSync = (bytes: Uint8Array) => {
    print(decode(bytes));
    return bytes.byteLength;
  };
  let writable: WritableStream<Uint8Array> | undefined;
  const define = (target: object) => {
    Object.defineProperties(target, {
      writeSync: { value: writeSync, configurable: true },
      write: { value: (bytes: Uint8Array) => Promise.resolve(writeSync(bytes)), configurable: true },
      writable: { get: () => writable ??= new WritableStream({ write: (b) => void writeSync(b) }), configurable: true },
      // The process's stream is the host's: a plugin does not close it.
      close: { value: () => {}, configurable: true },
    });
  };
  define(proto);
  if (Object.hasOwn(stream, "write") || Object.hasOwn(stream, "writeSync")) define(stream);
}
