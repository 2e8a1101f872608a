/**
 * Decides whether a plugin source may be imported, before anything is read
 * or fetched: the host's own settings first (allowed local roots, allowed
 * import hosts), then Deno's permission state. A refusal names the flag or
 * option to add.
 *
 * @module
 */

import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PermissionError, PluginError } from "./errors.ts";

/** The host's own limits on plugin sources. */
export interface SourcePolicy {
  /** Absolute folders local plugins may be loaded from. */
  roots: readonly string[];
  /** Hosts (`name` or `name:port`) that URL plugins may come from. */
  allowImport: readonly string[];
}

/** A source that passed the checks. */
export type CheckedSource =
  | { kind: "local"; url: URL; path: string; dir: string }
  | { kind: "remote"; url: URL }
  | { kind: "inline"; url: URL };

const SCHEME_RE = /^[a-z][a-z0-9+.-]+:/i;

/**
 * Tells a URL source (`https:`, `file:`, `inline:`, ...) from a path. A
 * Windows drive letter (`C:\\`) is a path.
 *
 * @param source a path or URL
 * @returns true for a URL
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isUrlSource } from "./permissions.ts";
 * assert.equal(isUrlSource("https://cdn.example.com/p.js"), true);
 * assert.equal(isUrlSource("./plugins/p/mod.ts"), false);
 * ```
 */
export function isUrlSource(source: string): boolean {
  return SCHEME_RE.test(source) && !/^[a-z]:[\\/]/i.test(source);
}

/**
 * Parses a path or URL into a URL; relative paths resolve against `cwd`.
 *
 * @param source a path, a `file:` URL or an `http(s):` URL
 * @param cwd the folder relative paths start from
 * @returns the URL
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toSourceUrl } from "./permissions.ts";
 * assert.equal(toSourceUrl("./plugins/a/mod.ts", "/srv").href, "file:///srv/plugins/a/mod.ts");
 * ```
 */
export function toSourceUrl(source: string, cwd: string): URL {
  if (isUrlSource(source)) return new URL(source);
  return pathToFileURL(resolve(cwd, source));
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Checks that a source may be imported.
 *
 * @param source the path or URL as given
 * @param policy the host's roots and import hosts
 * @param options `cwd` for relative paths and `plugin` (a name hint) for messages
 * @returns the checked source
 * @throws {PermissionError} naming the flag or option to add
 * @throws {PluginError} `NOT_FOUND` for a local file that does not exist
 *
 * @example Refuse a host that is not allowed
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSource } from "./permissions.ts";
 * const err = await checkSource("https://cdn.example.com/p.js", { roots: [], allowImport: [] }, { cwd: "/", plugin: "p" })
 *   .catch((e) => e);
 * assert.equal(err.fix, 'allowImport: ["cdn.example.com"]');
 * ```
 */
export async function checkSource(
  source: string,
  policy: SourcePolicy,
  options: { cwd: string; plugin: string },
): Promise<CheckedSource> {
  const { plugin } = options;
  let url: URL;
  try {
    url = toSourceUrl(source, options.cwd);
  } catch (cause) {
    throw new PluginError("NOT_FOUND", `"${source}" is not a valid path or URL`, {
      plugin,
      stage: "load",
      source,
      cause,
    });
  }
  if (url.protocol === "http:" || url.protocol === "https:") {
    const allowed = policy.allowImport.some((h) => h === url.host || h === url.hostname);
    if (!allowed) {
      const fix = `allowImport: ["${url.host}"]`;
      throw new PermissionError(
        `host "${url.host}" is not in the host's allowImport list. ` +
          `Add it with the option ${fix} (or --allow-import-host=${url.host} on the command line)`,
        fix,
        { plugin, source: url.href, stage: "load", from: url.href },
      );
    }
    // plugboard fetches a URL plugin's modules itself (and imports them from a local snapshot).
    const status = await Deno.permissions.query({ name: "net", host: url.host });
    if (status.state !== "granted") {
      const fix = `--allow-net=${url.host}`;
      throw new PermissionError(
        `Deno may not fetch from "${url.host}". Run Deno with ${fix}`,
        fix,
        { plugin, source: url.href, stage: "load", from: url.href },
      );
    }
    return { kind: "remote", url };
  }
  if (url.protocol !== "file:") {
    throw new PermissionError(
      `the "${url.protocol}" scheme is not supported. Use a local path or an http(s) URL`,
      "a local path or an http(s) URL",
      { plugin, source, stage: "load", from: source },
    );
  }
  const path = fileURLToPath(url);
  const root = policy.roots.find((r) => isInside(r, path));
  if (!root) {
    const fix = `allowRead: ["${resolve(path, "..")}"]`;
    throw new PermissionError(
      `it is outside the allowed plugin folders (${
        policy.roots.join(", ") || "none"
      }). Move it into one, or add its folder with the option ${fix}`,
      fix,
      { plugin, source: path, stage: "load", from: path },
    );
  }
  const status = await Deno.permissions.query({ name: "read", path });
  if (status.state !== "granted") {
    const fix = `--allow-read=${root}`;
    throw new PermissionError(
      `Deno may not read it. Run Deno with ${fix}`,
      fix,
      { plugin, source: path, stage: "load", from: path },
    );
  }
  let real: string;
  try {
    real = await Deno.realPath(path);
  } catch (cause) {
    throw new PluginError("NOT_FOUND", `${path} does not exist`, {
      plugin,
      stage: "load",
      source: path,
      cause,
    });
  }
  if (!policy.roots.some((r) => isInside(r, real) || isInside(safeRealPath(r), real))) {
    throw new PermissionError(
      `it links to ${real}, outside the allowed plugin folders`,
      `allowRead: ["${resolve(real, "..")}"]`,
      { plugin, source: path, stage: "load", from: path },
    );
  }
  return { kind: "local", url, path, dir: resolve(path, "..") };
}

function safeRealPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}
