/**
 * One line of text for any thrown value, without ever throwing.
 *
 * @module
 */

/**
 * Describes what a plugin threw or rejected with: its `message` when that
 * is a string (an `Error`, or an object shaped like one), otherwise
 * `String(value)`. A value that cannot be turned into text (an
 * object without a prototype, a `toString` or `message` getter that
 * throws, a revoked Proxy) is named by its type instead, so that reporting
 * a failure cannot fail in turn.
 *
 * @param error the thrown value
 * @returns its text
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorText } from "./error_text.ts";
 * assert.equal(errorText(new Error("boom")), "boom");
 * assert.equal(errorText("plain"), "plain");
 * assert.equal(errorText(Object.create(null)), "a thrown object that cannot be shown as text");
 * ```
 */
export function errorText(error: unknown): string {
  try {
    if (typeof error === "object" && error !== null) {
      const message = (error as { message?: unknown }).message;
      if (typeof message === "string") return message;
    }
    return String(error);
  } catch {
    return `a thrown ${typeof error} that cannot be shown as text`;
  }
}
