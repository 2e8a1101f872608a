/**
 * Log text that cannot forge log lines: control characters shown as escapes,
 * so one record is always one line and a plugin cannot start a line that
 * looks like the host's, colour the terminal or reorder what is shown.
 *
 * @module
 */

/**
 * What is escaped: C0 controls (newline, carriage return, tab, ESC, ...),
 * DEL, C1 controls (0x9B is a one-byte ANSI CSI), the Unicode line and
 * paragraph separators, and the bidirectional overrides and isolates that can
 * show text in another order than it is written.
 */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Escapes control characters: `\n`, `\r` and `\t` by name, others as `\xNN`
 * or `\uNNNN`. Text without any is returned as it is.
 *
 * @param text any text
 * @returns the same text on one line, without terminal escapes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeControl } from "./log_escape.ts";
 * assert.equal(escapeControl("a\n[plugboard] INFO b"), "a\\n[plugboard] INFO b");
 * assert.equal(escapeControl("\x1b[31mred"), "\\x1b[31mred");
 * assert.equal(escapeControl("plain"), "plain");
 * ```
 */
export function escapeControl(text: string): string {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text) ? text.replace(CONTROL, escapeOne) : text;
}

/**
 * One value of a log call as text on one line: a string as it is, an error
 * by its stack, anything else as `Deno.inspect` shows it; control characters
 * escaped in every case.
 *
 * @param value an argument of a log call
 * @returns its text, escaped
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatLogValue } from "./log_escape.ts";
 * assert.equal(formatLogValue("two\nlines"), "two\\nlines");
 * assert.equal(formatLogValue({ port: 8000 }), "{ port: 8000 }");
 * assert.ok(!formatLogValue(new Error("boom")).includes("\n"));
 * ```
 */
export function formatLogValue(value: unknown): string {
  try {
    if (typeof value === "string") return escapeControl(value);
    if (value instanceof Error && typeof value.stack === "string") return escapeControl(value.stack);
    return escapeControl(Deno.inspect(value, { colors: false, depth: 4 }));
  } catch {
    return `(a ${typeof value} that cannot be shown)`;
  }
}
