/**
 * Subresource-Integrity style hashes (`sha256-<base64>`), the one format used
 * for pins in plugboard.lock, for a source's inline `integrity`, and (as hex)
 * for the content-addressed snapshot folders.
 *
 * @module
 */

import { createHash } from "node:crypto";

const SRI_RE = /^sha256-[A-Za-z0-9+/]{43}=$/;

/**
 * Hashes bytes as an SRI string.
 *
 * @param bytes the content
 * @returns `sha256-<base64>`
 *
 * @example Hash of empty content
 * ```ts
 * import assert from "node:assert/strict";
 * import { integrityOf } from "./integrity.ts";
 * assert.equal(integrityOf(new Uint8Array()), "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
 * ```
 */
export function integrityOf(bytes: Uint8Array): string {
  return `sha256-${createHash("sha256").update(bytes).digest("base64")}`;
}

/**
 * Tells whether a string is a well-formed `sha256-<base64>` SRI hash.
 *
 * @param value the string
 * @returns true when well formed
 *
 * @example Tell SRI sha256 from anything else
 * ```ts
 * import assert from "node:assert/strict";
 * import { isIntegrity } from "./integrity.ts";
 * assert.ok(isIntegrity("sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
 * assert.ok(!isIntegrity("sha384-abc"));
 * ```
 */
export function isIntegrity(value: string): boolean {
  return SRI_RE.test(value);
}

/**
 * Hashes a string as lowercase hex, for folder names.
 *
 * @param text the text
 * @returns 64 hex digits
 *
 * @example A folder name
 * ```ts
 * import assert from "node:assert/strict";
 * import { hexHash } from "./integrity.ts";
 * assert.equal(hexHash("").length, 64);
 * ```
 */
export function hexHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
