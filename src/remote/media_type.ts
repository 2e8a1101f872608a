/**
 * Which content types a URL plugin's module may have, and which file
 * extension its snapshot copy needs so that Deno reads it the same way
 * (Deno picks a remote module's media type from its Content-Type, a local
 * file's from its extension).
 *
 * @module
 */

/** The module kinds a URL plugin may contain. */
export type MediaType = "js" | "ts";

const BY_CONTENT_TYPE: Record<string, MediaType> = {
  "application/javascript": "js",
  "text/javascript": "js",
  "application/ecmascript": "js",
  "text/ecmascript": "js",
  "application/x-javascript": "js",
  "application/node": "js",
  "application/typescript": "ts",
  "text/typescript": "ts",
  "application/x-typescript": "ts",
  "video/vnd.dlna.mpeg-tts": "ts",
  "video/mp2t": "ts",
};

const EXTENSIONS: Record<MediaType, readonly string[]> = { js: [".js", ".mjs"], ts: [".ts", ".mts"] };

/**
 * Reads the media type from a Content-Type header.
 *
 * @param contentType the header, possibly with parameters, or null
 * @returns the media type, or undefined for anything that is not JavaScript or TypeScript
 *
 * @example Content types Deno reads as JavaScript or TypeScript
 * ```ts
 * import assert from "node:assert/strict";
 * import { mediaTypeOf } from "./media_type.ts";
 * assert.equal(mediaTypeOf("text/javascript; charset=utf-8"), "js");
 * assert.equal(mediaTypeOf("video/mp2t"), "ts");
 * assert.equal(mediaTypeOf("text/html"), undefined);
 * ```
 */
export function mediaTypeOf(contentType: string | null): MediaType | undefined {
  if (!contentType) return undefined;
  return BY_CONTENT_TYPE[contentType.split(";")[0].trim().toLowerCase()];
}

/**
 * Gives a file name the extension its media type needs, keeping a fitting one.
 *
 * @param name the last path segment of the module URL
 * @param mediaType what its Content-Type said
 * @returns the name, with `.js` or `.ts` appended when its extension does not fit
 *
 * @example Extensions that fit are kept
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileNameFor } from "./media_type.ts";
 * assert.equal(fileNameFor("mod.js", "js"), "mod.js");
 * assert.equal(fileNameFor("mod", "ts"), "mod.ts");
 * assert.equal(fileNameFor("mod.ts", "js"), "mod.ts.js");
 * ```
 */
export function fileNameFor(name: string, mediaType: MediaType): string {
  const lower = name.toLowerCase();
  if (lower.endsWith(".d.ts") || lower.endsWith(".d.mts")) return `${name}.${mediaType}`;
  return EXTENSIONS[mediaType].some((ext) => lower.endsWith(ext)) ? name : `${name}.${mediaType}`;
}

/**
 * Tells whether text looks like an HTML page (an error or login page served in place of a module).
 *
 * @param text the start of the body
 * @returns true for `<!doctype html`, `<html` or `<head`/`<body` openings
 *
 * @example Spot an error page
 * ```ts
 * import assert from "node:assert/strict";
 * import { looksLikeHtml } from "./media_type.ts";
 * assert.ok(looksLikeHtml("\n<!DOCTYPE html><html>"));
 * assert.ok(!looksLikeHtml("export default 1"));
 * ```
 */
export function looksLikeHtml(text: string): boolean {
  return /^\s*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])/i.test(text.slice(0, 512).replace(/^\uFEFF/, ""));
}
