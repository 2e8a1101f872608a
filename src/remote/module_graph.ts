/**
 * Walks a URL plugin's module graph: the entry, every static import and
 * every string-literal dynamic import, each loaded once (by its URL after
 * redirects), in parallel, within a byte and a module-count limit for the
 * whole graph. The loader is a parameter: the network ({@linkcode fetchModule})
 * or a snapshot on disk.
 *
 * @module
 */

import { assertAllowed } from "./allow.ts";
import { cannotLoad, RemoteError } from "./errors.ts";
import type { FetchedModule } from "./fetch_module.ts";
import type { MediaType } from "./media_type.ts";
import { findImports, type FoundImport } from "./specifiers.ts";

/** Default size limit of a whole graph, in bytes (20 MiB). */
export const DEFAULT_MAX_GRAPH_BYTES = 20 * 1024 * 1024;
/** Default limit on the number of modules in a graph. */
export const DEFAULT_MAX_MODULES = 1000;

/** An import, with the URL its target was finally loaded from. */
export interface GraphImport extends FoundImport {
  /** The target module's final URL (after redirects). */
  target: string;
}

/** One module of a graph. */
export interface GraphModule {
  /** Its final URL. */
  url: string;
  mediaType: MediaType;
  /** The bytes as served. */
  bytes: Uint8Array;
  /** Its fetched imports, in source order. */
  imports: GraphImport[];
}

/** A walked graph. */
export interface ModuleGraph {
  /** The entry's final URL. */
  entry: string;
  /** Modules by final URL. */
  modules: Map<string, GraphModule>;
  /** Every redirect hop seen, `from → to`. */
  redirects: Map<string, string>;
  /** Dynamic imports computed at run time, which no one can fetch ahead: `{ module, expression }`. */
  computed: { module: string; expression: string }[];
  /** Total bytes. */
  bytes: number;
}

/** Loads one module: `fetchModule` bound to its options, or a snapshot reader. */
export type ModuleLoader = (url: string, importer: string | undefined, signal: AbortSignal) => Promise<FetchedModule>;

/** Options of {@linkcode walkGraph}. */
export interface WalkGraphOptions {
  /** Loads one module. */
  load: ModuleLoader;
  /** Hosts every module must be on (checked before `load` is called). */
  allowImport: readonly string[];
  /** The plugin's name or hint, for messages. */
  plugin?: string;
  /** Byte limit of the whole graph. @default 20971520 */
  maxGraphBytes?: number;
  /** Module-count limit. @default 1000 */
  maxModules?: number;
  /** Loads in flight at once. @default 8 */
  concurrency?: number;
}

/**
 * Walks the graph from an entry URL.
 *
 * @param entry the plugin's source URL
 * @param options the loader, allowed hosts and limits
 * @returns every module, the redirects and the computed dynamic imports
 * @throws {RemoteError} the first failure; the other loads in flight are aborted
 *
 * @example Walk an in-memory graph
 * ```ts
 * import assert from "node:assert/strict";
 * import { walkGraph } from "./module_graph.ts";
 * const files: Record<string, string> = {
 *   "http://127.0.0.1:1/mod.js": `import "./a.js"; export default 1;`,
 *   "http://127.0.0.1:1/a.js": `import "./mod.js";`,
 * };
 * const graph = await walkGraph("http://127.0.0.1:1/mod.js", {
 *   allowImport: ["127.0.0.1"],
 *   load: (url) => Promise.resolve({ requested: url, url, redirects: [], mediaType: "js", bytes: new TextEncoder().encode(files[url]) }),
 * });
 * assert.deepEqual([...graph.modules.keys()], ["http://127.0.0.1:1/mod.js", "http://127.0.0.1:1/a.js"]);
 * ```
 */
export async function walkGraph(entry: string, options: WalkGraphOptions): Promise<ModuleGraph> {
  const prefix = cannotLoad(entry, options.plugin);
  const context = { prefix, source: entry, plugin: options.plugin };
  const maxGraphBytes = options.maxGraphBytes ?? DEFAULT_MAX_GRAPH_BYTES;
  const maxModules = options.maxModules ?? DEFAULT_MAX_MODULES;
  const abort = new AbortController();
  const slots = semaphore(options.concurrency ?? 8);
  const requested = new Map<string, Promise<FetchedModule & { found: Awaited<ReturnType<typeof findImports>> }>>();
  const modules = new Map<string, GraphModule>();
  const redirects = new Map<string, string>();
  const computed: { module: string; expression: string }[] = [];
  let bytes = 0;

  const load = (url: string, importer: string | undefined) => {
    let pending = requested.get(url);
    if (!pending) {
      pending = (async () => {
        assertAllowed(new URL(url), options.allowImport, { ...context, importer });
        if (requested.size > maxModules) {
          throw new RemoteError(
            "REMOTE_TOO_LARGE",
            `${prefix}: the graph has more than ${maxModules} modules; raise maxModules if it is expected to be this big`,
            { plugin: options.plugin, source: entry, url, fix: "maxModules" },
          );
        }
        const mod = await slots(() => options.load(url, importer, abort.signal));
        bytes += mod.bytes.byteLength;
        if (bytes > maxGraphBytes) {
          throw new RemoteError(
            "REMOTE_TOO_LARGE",
            `${prefix}: the module graph is larger than the limit of ${maxGraphBytes} bytes (reached at "${mod.url}"); ` +
              `raise maxGraphBytes if it is expected to be this big`,
            { plugin: options.plugin, source: entry, url: mod.url, fix: "maxGraphBytes" },
          );
        }
        const text = new TextDecoder().decode(mod.bytes);
        return { ...mod, found: await findImports(text, mod.url, context) };
      })();
      requested.set(url, pending);
    }
    return pending;
  };

  const walk = async (url: string, importer: string | undefined): Promise<string> => {
    const mod = await load(url, importer);
    for (const [from, to] of mod.redirects) redirects.set(from, to);
    if (modules.has(mod.url)) return mod.url;
    const node: GraphModule = { url: mod.url, mediaType: mod.mediaType, bytes: mod.bytes, imports: [] };
    modules.set(mod.url, node);
    for (const expression of mod.found.computed) computed.push({ module: mod.url, expression });
    const targets = await Promise.all(mod.found.fetched.map((found) => walk(found.url, mod.url)));
    node.imports = mod.found.fetched.map((found, i) => ({ ...found, target: targets[i] }));
    return mod.url;
  };

  try {
    const final = await walk(entry, undefined);
    return { entry: final, modules, redirects, computed, bytes };
  } catch (error) {
    abort.abort(error);
    // Let the loads in flight settle, so no fetch outlives the walk.
    await Promise.allSettled(requested.values());
    throw error;
  }
}

function semaphore(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
