/**
 * The content-addressed snapshot of a URL plugin's module graph on disk, the
 * only place its modules are imported from.
 *
 * ```text
 * <root>/<graph-sha256-hex>/
 *   graph.json                          source, entry, modules (url → integrity, path, media type), redirects
 *   http_127.0.0.1_4000/p/mod.js        each module at <scheme>_<host>_<port>/<url path>
 *   http_127.0.0.1_4000/p/lib/util.js   relative imports between modules need no change
 *   http_127.0.0.1_4001/shared.js       another origin is a sibling folder
 *   _original/http_127.0.0.1_4000/p/mod.js   the bytes as served, only for modules whose copy was rewritten
 * ```
 *
 * The folder's name hashes the graph's pins (every module URL with its
 * sha256, and the redirects), so a changed graph gets a new folder and an
 * unchanged one the same. A specifier is rewritten in the copy only when it
 * would not find its target as written: an absolute URL (to another origin, or
 * the same one), a root-relative `/x.js`, an import that the server
 * redirected, or a module whose file name needed an extension. Pins always
 * hash the bytes as served; the original of each rewritten module is kept so
 * an offline start can check it against plugboard.lock.
 *
 * @module
 */

import { dirname, join, posix } from "node:path";
import { pathToFileURL } from "node:url";
import { hexHash, integrityOf } from "./integrity.ts";
import { fileNameFor, type MediaType } from "./media_type.ts";
import type { ModuleGraph } from "./module_graph.ts";

/** Where originals of rewritten modules go, inside a snapshot. */
export const ORIGINALS_DIR = "_original";
/** The description of a snapshot, inside it. */
export const GRAPH_FILE = "graph.json";

/** One module as laid out in a snapshot. */
export interface LaidOutModule {
  url: string;
  /** `sha256-<base64>` of the bytes as served. */
  integrity: string;
  /** Its path inside the snapshot, `/`-separated. */
  path: string;
  mediaType: MediaType;
  /** The bytes as served. */
  original: Uint8Array;
  /** The bytes to import: the original, or a copy with rewritten specifiers. */
  written: Uint8Array;
  /** True when `written` differs from `original`. */
  rewritten: boolean;
}

/** What `graph.json` holds. */
export interface GraphDescription {
  source: string;
  /** The entry's final URL. */
  entry: string;
  modules: Record<string, { integrity: string; path: string; mediaType: MediaType }>;
  redirects: Record<string, string>;
}

/** A graph laid out for a snapshot, not written yet. */
export interface GraphLayout {
  /** The folder name: sha256 hex of the pins. */
  hash: string;
  description: GraphDescription;
  /** Modules, sorted by URL. */
  modules: LaidOutModule[];
}

/**
 * The folder name of a graph: a hash of its source, entry, module pins and redirects.
 *
 * @param source the plugin's source URL
 * @param pins module URL → integrity
 * @param redirects from → to
 * @returns 64 hex digits
 *
 * @example Same pins, same folder
 * ```ts
 * import assert from "node:assert/strict";
 * import { graphHash } from "./snapshot.ts";
 * const a = graphHash("http://h:1/mod.js", { "http://h:1/mod.js": "sha256-x", "http://h:1/a.js": "sha256-y" }, {});
 * const b = graphHash("http://h:1/mod.js", { "http://h:1/a.js": "sha256-y", "http://h:1/mod.js": "sha256-x" }, {});
 * assert.equal(a, b);
 * ```
 */
export function graphHash(source: string, pins: Record<string, string>, redirects: Record<string, string>): string {
  const sorted = (record: Record<string, string>) =>
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return hexHash(JSON.stringify({ v: 1, source, modules: sorted(pins), redirects: sorted(redirects) }));
}

/**
 * The folder of an origin inside a snapshot: `<scheme>_<host>_<port>`.
 *
 * @param url a module URL
 * @returns the folder name
 *
 * @example One folder per origin
 * ```ts
 * import assert from "node:assert/strict";
 * import { originFolder } from "./snapshot.ts";
 * assert.equal(originFolder(new URL("http://127.0.0.1:4000/a/mod.js")), "http_127.0.0.1_4000");
 * assert.equal(originFolder(new URL("https://example.com/mod.js")), "https_example.com_443");
 * ```
 */
export function originFolder(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.protocol.slice(0, -1)}_${url.hostname.replace(/[^a-z0-9.-]/gi, "-")}_${port}`;
}

function modulePath(url: URL, mediaType: MediaType): string {
  const segments = url.pathname.split("/").slice(1).map((s) => (s === "" ? "_" : s));
  if (url.pathname.endsWith("/")) segments[segments.length - 1] = "_index";
  let name = segments.pop()!;
  if (url.search) name = `${name}@${hexHash(url.search).slice(0, 12)}`;
  return [originFolder(url), ...segments, fileNameFor(name, mediaType)].join("/");
}

/**
 * Computes the relative specifier from one snapshot file to another.
 *
 * @param from the importing module's path inside the snapshot
 * @param to the imported module's path
 * @returns a `./` or `../` specifier, percent-encoded as a URL
 *
 * @example Specifiers between snapshot files
 * ```ts
 * import assert from "node:assert/strict";
 * import { relativeSpecifier } from "./snapshot.ts";
 * assert.equal(relativeSpecifier("http_h_1/a/mod.js", "http_h_2/b.js"), "../../http_h_2/b.js");
 * assert.equal(relativeSpecifier("http_h_1/mod.js", "http_h_1/a b.js"), "./a%20b.js");
 * ```
 */
export function relativeSpecifier(from: string, to: string): string {
  const rel = posix.relative(posix.dirname(from), to);
  const encoded = new URL(rel, "file:///s/x/").pathname === `/s/x/${rel}`
    ? rel
    : rel.split("/").map((s) => (s === ".." ? s : encodeURIComponent(s))).join("/");
  return encoded.startsWith("../") ? encoded : `./${encoded}`;
}

/**
 * Lays a walked graph out for its snapshot: paths, rewritten copies, hashes.
 *
 * @param source the plugin's source URL
 * @param graph the walked graph
 * @returns the layout, with the folder name
 *
 * @example Cross-origin import rewritten, relative one kept
 * ```ts
 * import assert from "node:assert/strict";
 * import { layoutGraph } from "./snapshot.ts";
 * import { walkGraph } from "./module_graph.ts";
 * const files: Record<string, string> = {
 *   "http://127.0.0.1:1/p/mod.js": `import "./a.js"; import "http://127.0.0.1:2/b.js";`,
 *   "http://127.0.0.1:1/p/a.js": ``,
 *   "http://127.0.0.1:2/b.js": ``,
 * };
 * const graph = await walkGraph("http://127.0.0.1:1/p/mod.js", {
 *   allowImport: ["127.0.0.1"],
 *   load: (url) => Promise.resolve({ requested: url, url, redirects: [], mediaType: "js", bytes: new TextEncoder().encode(files[url]) }),
 * });
 * const layout = layoutGraph("http://127.0.0.1:1/p/mod.js", graph);
 * const entry = layout.modules.find((m) => m.url.endsWith("/mod.js"))!;
 * assert.equal(new TextDecoder().decode(entry.written), `import "./a.js"; import "../../http_127.0.0.1_2/b.js";`);
 * ```
 */
export function layoutGraph(source: string, graph: ModuleGraph): GraphLayout {
  const paths = new Map<string, string>();
  const taken = new Set<string>();
  const urls = [...graph.modules.keys()].sort();
  for (const url of urls) {
    const mod = graph.modules.get(url)!;
    let path = modulePath(new URL(url), mod.mediaType);
    for (let n = 2; taken.has(path); n++) path = modulePath(new URL(`${url}~${n}`), mod.mediaType);
    taken.add(path);
    paths.set(url, path);
  }
  const encoder = new TextEncoder();
  const modules: LaidOutModule[] = urls.map((url) => {
    const mod = graph.modules.get(url)!;
    const path = paths.get(url)!;
    let text: string | undefined;
    let decoded: string | undefined;
    const edits = mod.imports
      .map((imp) => {
        const wanted = relativeSpecifier(path, paths.get(imp.target)!);
        return wanted === imp.specifier ? undefined : { imp, wanted };
      })
      .filter((e) => e !== undefined)
      .sort((a, b) => b.imp.start - a.imp.start);
    if (edits.length) {
      decoded = new TextDecoder().decode(mod.bytes);
      text = decoded;
      for (const { imp, wanted } of edits) {
        text = text.slice(0, imp.start) + (imp.dynamic ? JSON.stringify(wanted) : wanted) + text.slice(imp.end);
      }
    }
    return {
      url,
      integrity: integrityOf(mod.bytes),
      path,
      mediaType: mod.mediaType,
      original: mod.bytes,
      written: text === undefined ? mod.bytes : encoder.encode(text),
      rewritten: text !== undefined,
    };
  });
  const pins = Object.fromEntries(modules.map((m) => [m.url, m.integrity]));
  const redirects = Object.fromEntries([...graph.redirects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    hash: graphHash(source, pins, redirects),
    description: {
      source,
      entry: graph.entry,
      modules: Object.fromEntries(
        modules.map((m) => [m.url, { integrity: m.integrity, path: m.path, mediaType: m.mediaType }]),
      ),
      redirects,
    },
    modules,
  };
}

/** A snapshot on disk. */
export interface Snapshot {
  /** Its folder. */
  dir: string;
  /** The entry module's absolute path. */
  entryPath: string;
  /** The entry module's `file:` URL, to `import()`. */
  entryUrl: string;
  /** True when the folder was already there, intact. */
  reused: boolean;
}

/**
 * Writes a laid-out graph to `<root>/<hash>/`, or reuses the folder when every
 * file in it is already exactly as laid out. Writes go to a temporary folder
 * renamed into place, so a crash never leaves a half-written snapshot.
 *
 * @param root the snapshot root, such as `.plugboard/remote`
 * @param layout from {@linkcode layoutGraph}
 * @returns the snapshot's folder and entry
 */
export async function writeSnapshot(root: string, layout: GraphLayout): Promise<Snapshot> {
  const dir = join(root, layout.hash);
  const entryPath = join(dir, layout.description.modules[layout.description.entry].path);
  const result = (reused: boolean) => ({ dir, entryPath, entryUrl: pathToFileURL(entryPath).href, reused });
  if (await isIntact(dir, layout)) return result(true);
  await Deno.mkdir(root, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: root, prefix: `.tmp-${layout.hash.slice(0, 12)}-` });
  try {
    for (const mod of layout.modules) {
      await writeFile(join(tmp, mod.path), mod.written);
      if (mod.rewritten) await writeFile(join(tmp, ORIGINALS_DIR, mod.path), mod.original);
    }
    await writeFile(
      join(tmp, GRAPH_FILE),
      new TextEncoder().encode(JSON.stringify(layout.description, null, 2) + "\n"),
    );
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    try {
      await Deno.rename(tmp, dir);
    } catch (error) {
      // Another resolve of the same graph won the race: keep its folder if it is intact.
      if (!(await isIntact(dir, layout))) throw error;
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return result(false);
}

async function writeFile(path: string, bytes: Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeFile(path, bytes);
}

async function isIntact(dir: string, layout: GraphLayout): Promise<boolean> {
  try {
    const described = await Deno.readTextFile(join(dir, GRAPH_FILE));
    if (described !== JSON.stringify(layout.description, null, 2) + "\n") return false;
    for (const mod of layout.modules) {
      if (!sameBytes(await Deno.readFile(join(dir, mod.path)), mod.written)) return false;
      if (mod.rewritten && !sameBytes(await Deno.readFile(join(dir, ORIGINALS_DIR, mod.path)), mod.original)) {
        return false;
      }
    }
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Reads a snapshot's description, or undefined when there is none.
 *
 * @param dir the snapshot folder
 * @returns the parsed `graph.json`
 */
export async function readDescription(dir: string): Promise<GraphDescription | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, GRAPH_FILE))) as GraphDescription;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * Reads the bytes a module was served with, from a snapshot: its original if
 * its copy was rewritten, else the copy.
 *
 * @param dir the snapshot folder
 * @param path the module's path inside it
 * @returns the bytes, or undefined when missing
 */
export async function readOriginal(dir: string, path: string): Promise<Uint8Array | undefined> {
  for (const candidate of [join(dir, ORIGINALS_DIR, path), join(dir, path)]) {
    try {
      return await Deno.readFile(candidate);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return undefined;
}
