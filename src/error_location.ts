/**
 * Finds the file, line and column an error points at (a syntax error's
 * position, or the first stack frame inside the plugin).
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** A position in a source file. */
export interface SourceLocation {
  /** A path for local files, the URL for remote ones. */
  file: string;
  line: number;
  column: number;
}

// A path only where one starts: not the rest of a specifier such as `node:internal/timers.mjs` or `ext:deno_web/...`.
const LOCATION_RE = /((?:file|https?):\/\/[^\s()'"]+?|(?<![\w:.])\/[^\s()'":]+):(\d+):(\d+)/g;

function texts(error: unknown, depth = 0): string[] {
  try {
    if (depth > 3 || error === null || typeof error !== "object") return error ? [String(error)] : [];
    const e = error as { message?: unknown; stack?: unknown; cause?: unknown };
    return [String(e.message ?? ""), String(e.stack ?? ""), ...texts(e.cause, depth + 1)];
  } catch {
    return []; // a value that cannot be read as text points nowhere
  }
}

/**
 * Finds where an error points, preferring a location inside `within`.
 *
 * @param error the error (its message, stack and causes are searched)
 * @param within a folder path or URL prefix the location should be inside
 * @param mapPath rewrites a found path (from a snapshot back to the original)
 * @param skip files never to point at (such as plugboard's own code, for a failure it describes)
 * @returns the location, or undefined when there is none
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findLocation } from "./error_location.ts";
 * const loc = findLocation(new Error("Expected ',' at file:///srv/plugins/a/mod.ts:6:3"), "/srv/plugins/a");
 * assert.equal(loc?.file, "/srv/plugins/a/mod.ts");
 * assert.equal(loc?.line, 6);
 * assert.equal(loc?.column, 3);
 * ```
 */
export function findLocation(
  error: unknown,
  within?: string,
  mapPath: (path: string) => string = (p) => p,
  skip?: (file: string) => boolean,
): SourceLocation | undefined {
  let fallback: SourceLocation | undefined;
  for (const found of locations(error)) {
    const loc = { ...found, file: mapPath(found.file) };
    if (skip?.(loc.file)) continue;
    if (!within || loc.file.startsWith(within)) return loc;
    fallback ??= loc;
  }
  return within ? undefined : fallback;
}

/** Every location an error's message, stack and causes point to, in order; `file:` URLs as paths. */
function* locations(error: unknown): Generator<SourceLocation> {
  for (const text of texts(error)) {
    for (const m of text.matchAll(LOCATION_RE)) {
      let file = m[1];
      if (file.startsWith("file:")) {
        try {
          file = fileURLToPath(file);
        } catch {
          continue;
        }
      }
      yield { file, line: Number(m[2]), column: Number(m[3]) };
    }
  }
}

/**
 * Every file (path, or URL for remote modules) an error's message, stack and
 * causes point to, in order.
 *
 * @param error anything thrown
 * @returns the files, without repeats
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filesOf } from "./error_location.ts";
 * const err = new Error("x");
 * err.stack = "Error: x\n    at f (file:///srv/plugins/a/mod.ts:3:9)\n    at g (file:///srv/plugins/a/lib.ts:1:1)";
 * assert.deepEqual(filesOf(err), ["/srv/plugins/a/mod.ts", "/srv/plugins/a/lib.ts"]);
 * ```
 */
export function filesOf(error: unknown): string[] {
  return [...new Set([...locations(error)].map((l) => l.file))];
}
