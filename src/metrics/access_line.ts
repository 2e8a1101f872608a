/**
 * How an access line reads: as the console sink writes
 * `log.info("access", record)` under the plugin's name (strings quoted and
 * escaped as JSON does), or as the JSON sink writes it.
 *
 * The console line of a request is also written straight into the access
 * log's batch as bytes, without a string: at tens of thousands of lines a
 * second, the strings of a batch (a rope of hundreds of concatenated lines,
 * kept alive across garbage collections until the batch is written) cost more
 * to flatten and encode at the flush than the line costs to format, where
 * bytes written in place cost neither. That path takes the line whose fields
 * need no escaping (the common methods, a path of printable ASCII without
 * quote or backslash: any path of a parsed URL); any other line is formatted
 * as a string.
 *
 * @module
 */

/** One access line's fields. */
export interface AccessRecord {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestId: string;
}

const encoder = new TextEncoder();

/**
 * The console line of one request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textLine } from "./access_line.ts";
 * assert.equal(
 *   textLine("hello", { method: "GET", path: "/api/plugins/hello/", status: 200, durationMs: 1, requestId: "a-1" }),
 *   '[hello] INFO access { method: "GET", path: "/api/plugins/hello/", status: 200, durationMs: 1, requestId: "a-1" }\n',
 * );
 * ```
 *
 * @param name the plugin (or `plugboard`)
 * @param r the request's fields
 * @returns the line, its newline included
 */
export function textLine(name: string, r: AccessRecord): string {
  return `${lineStart(name)}${JSON.stringify(r.method)}, path: ${JSON.stringify(r.path)}, status: ${r.status}, ` +
    `durationMs: ${r.durationMs}, requestId: ${JSON.stringify(r.requestId)} }\n`;
}

/**
 * The JSON line of one request.
 *
 * @param name the plugin (or `plugboard`)
 * @param r the request's fields
 * @returns the line, its newline included
 */
export function jsonLine(name: string, r: AccessRecord): string {
  return `${JSON.stringify({ time: new Date().toISOString(), level: "info", plugin: name, msg: "access", ...r })}\n`;
}

/**
 * The start of a plugin's console lines, up to the method's value: `[name] INFO access { method: `.
 *
 * @param name the plugin (or `plugboard`)
 * @returns the text
 */
export function lineStart(name: string): string {
  return `[${escapeName(name)}] INFO access { method: `;
}

/** Plugin names are kebab-case; anything else is escaped like the console sink escapes names. */
function escapeName(name: string): string {
  return /^[a-z0-9-]+$/.test(name) ? name : JSON.stringify(name).slice(1, -1);
}

const PATH = encoder.encode(", path: ");
const STATUS = encoder.encode(", status: ");
const DURATION = encoder.encode(", durationMs: ");
const REQUEST_ID = encoder.encode(", requestId: ");
const END = encoder.encode(" }\n");
const QUOTE = 0x22;

/**
 * The most bytes {@linkcode writeTextLine} may write past `at`, for a line of
 * these parts (every character of them one byte, as that path requires).
 *
 * @param start the line start's bytes
 * @param method the method
 * @param path the path
 * @param requestId the request id
 * @returns a bound on the line's length in bytes
 */
export function textLineBound(start: Uint8Array, method: string, path: string, requestId: string): number {
  // The fixed parts (54 bytes), and two numbers of 24 characters at most (`-1.7976931348623157e+308`).
  return start.length + method.length + path.length + requestId.length + 54 + 2 * 24;
}

/**
 * Writes a request's console line into `bytes` at `at`, exactly as
 * {@linkcode textLine} reads, when none of its fields needs escaping.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineStart, textLine, writeTextLine } from "./access_line.ts";
 * const bytes = new Uint8Array(256);
 * const start = new TextEncoder().encode(lineStart("hello"));
 * const end = writeTextLine(bytes, 0, start, "GET", "/api/plugins/hello/", 200, 1, "a-1");
 * const line = textLine("hello", { method: "GET", path: "/api/plugins/hello/", status: 200, durationMs: 1, requestId: "a-1" });
 * assert.equal(new TextDecoder().decode(bytes.subarray(0, end)), line);
 * assert.equal(writeTextLine(bytes, 0, start, "GET", '/say/"hi"', 200, 1, "a-1"), -1); // a quote: not this path
 * ```
 *
 * @param bytes where to write; room for {@linkcode textLineBound} bytes from `at`
 * @param at where the line starts
 * @param start the UTF-8 of {@linkcode lineStart} for the plugin
 * @param method the request's method
 * @param path the request's path
 * @param status the response's status
 * @param durationMs the duration
 * @param requestId the request id (letters, digits and dashes: written as it is)
 * @returns where the line ends, or -1 when a field needs escaping (nothing usable written: format it as a string)
 */
export function writeTextLine(
  bytes: Uint8Array,
  at: number,
  start: Uint8Array,
  method: string,
  path: string,
  status: number,
  durationMs: number,
  requestId: string,
): number {
  if (!isCommonMethod(method)) return -1;
  at = copy(bytes, at, start);
  bytes[at++] = QUOTE;
  at = ascii(bytes, at, method);
  bytes[at++] = QUOTE;
  at = copy(bytes, at, PATH);
  bytes[at++] = QUOTE;
  at = plainAscii(bytes, at, path);
  if (at < 0) return -1;
  bytes[at++] = QUOTE;
  at = copy(bytes, at, STATUS);
  at = number(bytes, at, status);
  at = copy(bytes, at, DURATION);
  at = number(bytes, at, durationMs);
  at = copy(bytes, at, REQUEST_ID);
  bytes[at++] = QUOTE;
  at = ascii(bytes, at, requestId);
  bytes[at++] = QUOTE;
  return copy(bytes, at, END);
}

/** The methods written as they are (a request's method is an HTTP token; any other string is escaped as JSON). */
function isCommonMethod(method: string): boolean {
  switch (method) {
    case "GET":
    case "POST":
    case "HEAD":
    case "PUT":
    case "DELETE":
    case "PATCH":
    case "OPTIONS":
      return true;
    default:
      return false;
  }
}

function copy(bytes: Uint8Array, at: number, from: Uint8Array): number {
  for (let i = 0; i < from.length; i++) bytes[at + i] = from[i];
  return at + from.length;
}

/** Text known to be ASCII (a number's, a method's, a request id's). */
function ascii(bytes: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** Printable ASCII but `"` and `\`, which JSON writes as they are; -1 at any other character. */
function plainAscii(bytes: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) return -1;
    bytes[at + i] = c;
  }
  return at + text.length;
}

/** A number as template literals write it: small whole numbers digit by digit, any other through `String`. */
function number(bytes: Uint8Array, at: number, n: number): number {
  if (n >= 0 && n < 1000 && n === Math.floor(n)) {
    if (n >= 100) bytes[at++] = 0x30 + Math.floor(n / 100);
    if (n >= 10) bytes[at++] = 0x30 + Math.floor(n / 10) % 10;
    bytes[at++] = 0x30 + n % 10;
    return at;
  }
  return ascii(bytes, at, String(n));
}
