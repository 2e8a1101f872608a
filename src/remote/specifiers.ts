/**
 * Finds a module's imports with es-module-lexer (which reads JavaScript and
 * erasable TypeScript) and sorts each specifier: fetched by plugboard
 * (relative, or http(s) on an allowed host), left to Deno (`npm:`, `node:`),
 * or refused (`jsr:`, `file:`, `data:`, bare names).
 *
 * @module
 */

import { init, parse } from "es-module-lexer";
import { isDowngrade } from "./allow.ts";
import { RemoteError } from "./errors.ts";

/** An import plugboard fetches, pins and rewrites in the snapshot. */
export interface FoundImport {
  /** The specifier as written. */
  specifier: string;
  /** The URL it resolves to, before any redirect (fragment dropped). */
  url: string;
  /** Where the specifier sits in the text (for a dynamic import, quotes included). */
  start: number;
  /** End of the specifier in the text. */
  end: number;
  /** True for `import("literal")`. */
  dynamic: boolean;
}

/** What a module imports. */
export interface ModuleImports {
  /** Imports to fetch: static ones and string-literal dynamic ones. */
  fetched: FoundImport[];
  /** Dynamic imports whose target is computed at run time, as written (`import(name)`). */
  computed: string[];
}

/** Message context of {@linkcode findImports}. */
export interface FindImportsContext {
  /** `Cannot load plugin ... from "<source>"` */
  prefix: string;
  /** The plugin's source URL. */
  source: string;
  /** The plugin's name or hint. */
  plugin?: string;
}

const EXTERNAL_RE = /^(npm|node):/;

/**
 * Lists a module's imports and checks their specifiers.
 *
 * @param text the module's source (JavaScript or TypeScript)
 * @param url the module's URL, the base of relative specifiers
 * @param context message context
 * @returns the imports to fetch and the computed dynamic imports
 * @throws {RemoteError} `REMOTE_NOT_ALLOWED` for a specifier a URL plugin cannot use; `REMOTE_BAD_CONTENT_TYPE` when the lexer cannot read the text
 *
 * @example Relative, npm and type-only imports
 * ```ts
 * import assert from "node:assert/strict";
 * import { findImports } from "./specifiers.ts";
 * const found = await findImports(
 *   `import type { T } from "./types.ts"; import { z } from "npm:zod@4"; import h from "./h.ts"; await import(name);`,
 *   "http://127.0.0.1:4000/p/mod.ts",
 *   { prefix: "Cannot load plugin", source: "http://127.0.0.1:4000/p/mod.ts" },
 * );
 * assert.deepEqual(found.fetched.map((i) => i.url), ["http://127.0.0.1:4000/p/h.ts"]);
 * assert.deepEqual(found.computed, ["import(name)"]);
 * ```
 */
export async function findImports(text: string, url: string, context: FindImportsContext): Promise<ModuleImports> {
  await init();
  let imports;
  try {
    [imports] = parse(text, url);
  } catch (cause) {
    throw new RemoteError(
      "REMOTE_BAD_CONTENT_TYPE",
      `${context.prefix}: cannot read the imports of "${url}": ${(cause as Error).message}. ` +
        `Serve plain JavaScript or TypeScript modules (JSX, enums with bodies and other non-erasable syntax are not read)`,
      { plugin: context.plugin, source: context.source, url, cause },
    );
  }
  const fetched: FoundImport[] = [];
  const computed: string[] = [];
  for (const found of imports) {
    if (found.type === "import-meta") continue;
    if (found.type === "dynamic") {
      if (found.probablyTypeOnly) continue;
      if (found.specifier === undefined || found.glob) {
        computed.push(`import(${text.slice(found.start, found.end)})`);
        continue;
      }
      const target = resolveSpecifier(found.specifier, url, context);
      if (target) {
        fetched.push({ specifier: found.specifier, url: target, start: found.start, end: found.end, dynamic: true });
      }
      continue;
    }
    if (found.typeOnly) continue;
    const where = `"${url}" imports "${found.specifier}"`;
    if (found.phase === "source") {
      throw refuse(
        `${context.prefix}: ${where} as a source-phase import, which URL plugins do not support`,
        url,
        context,
      );
    }
    const type = found.attributes?.find(([key]) => key === "type")?.[1];
    if (type) {
      throw refuse(
        `${context.prefix}: ${where} with type "${type}"; URL plugins can import only JavaScript and TypeScript modules: ` +
          `inline the data in a module`,
        url,
        context,
      );
    }
    const target = resolveSpecifier(found.specifier, url, context);
    if (target) {
      fetched.push({ specifier: found.specifier, url: target, start: found.start, end: found.end, dynamic: false });
    }
  }
  return { fetched, computed };
}

/**
 * Resolves a specifier against its module: the URL to fetch, or undefined for one left to Deno.
 *
 * @param specifier as written
 * @param base the importing module's URL
 * @param context message context
 * @returns the URL (no fragment), or undefined for `npm:` and `node:`
 * @throws {RemoteError} `REMOTE_NOT_ALLOWED` for other schemes, bare names, and https → http
 *
 * @example Resolve, keep, or refuse a specifier
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveSpecifier } from "./specifiers.ts";
 * const ctx = { prefix: "Cannot load", source: "s" };
 * assert.equal(resolveSpecifier("../b.js#x", "http://h:1/a/mod.js", ctx), "http://h:1/b.js");
 * assert.equal(resolveSpecifier("node:fs", "http://h:1/a/mod.js", ctx), undefined);
 * assert.throws(() => resolveSpecifier("jsr:@std/path", "http://h:1/a/mod.js", ctx), /jsr:/);
 * ```
 */
export function resolveSpecifier(specifier: string, base: string, context: FindImportsContext): string | undefined {
  if (EXTERNAL_RE.test(specifier)) return undefined;
  const where = `${context.prefix}: "${base}" imports "${specifier}"`;
  const relative = specifier.startsWith("./") || specifier.startsWith("../") || specifier.startsWith("/");
  if (!relative && !/^https?:\/\//i.test(specifier)) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(specifier)?.[1];
    throw refuse(
      scheme
        ? `${where}, and the "${scheme}:" scheme is not allowed in URL plugins: use relative paths, http(s) URLs on ` +
          `allowed hosts, npm: or node: specifiers`
        : `${where}, a bare name, which URL plugins cannot resolve (they have no import map): use npm:${specifier}, ` +
          `a relative path or a URL`,
      base,
      context,
    );
  }
  const url = new URL(specifier, base);
  url.hash = "";
  if (isDowngrade(new URL(base), url)) {
    throw refuse(`${where}: an https module cannot import over http; serve it over https`, base, context);
  }
  return url.href;
}

function refuse(message: string, url: string, context: FindImportsContext): RemoteError {
  return new RemoteError("REMOTE_NOT_ALLOWED", message, { plugin: context.plugin, source: context.source, url });
}
