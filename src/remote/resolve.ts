/**
 * `resolveRemotePlugin`: from a URL plugin's source to a checked snapshot on
 * disk that the loader imports. It walks the graph (from the network, or
 * from the snapshot when offline or when the server cannot be reached),
 * compares every module with its pin in plugboard.lock and with the source's
 * inline `integrity`, and writes the snapshot.
 *
 * @module
 */

import { join } from "node:path";
import { assertAllowed } from "./allow.ts";
import { cannotLoad, type ModuleChange, RemoteError } from "./errors.ts";
import { fetchModule } from "./fetch_module.ts";
import { integrityOf, isIntegrity } from "./integrity.ts";
import { diffPins, formatChanges, type LockEntry, type PluginLock } from "./lock.ts";
import { type ModuleGraph, type ModuleLoader, walkGraph } from "./module_graph.ts";
import { graphHash, layoutGraph, readDescription, readOriginal, writeSnapshot } from "./snapshot.ts";

/** Options of {@linkcode resolveRemotePlugin}. */
export interface ResolveRemoteOptions {
  /** Hosts (`name` for any port, or `name:port`) that the entry, every import and every redirect hop must be on. */
  allowImport: readonly string[];
  /** The pins (plugboard.lock). Read only: the caller records `pins` once the plugin works. */
  lock: PluginLock;
  /** Where snapshots live, such as `.plugboard/remote`. */
  snapshotRoot: string;
  /**
   * `verify`: a module that differs from its pin throws `REMOTE_INTEGRITY_MISMATCH`.
   * `update`: changes are returned in `changes` (the caller shows them, and re-pins when asked).
   * @default "verify"
   */
  mode?: "verify" | "update";
  /** Refuse a plugin, or a module, that has no pin: `REMOTE_NOT_PINNED`. @default false */
  frozen?: boolean;
  /** The entry's expected `sha256-<base64>` (SRI), from the source's settings. */
  integrity?: string;
  /**
   * `auto`: fetch; when the server cannot be reached, start from the snapshot if the lock pins it.
   * `never`: do not touch the network; the lock and the snapshot must be complete.
   * @default "auto"
   */
  network?: "auto" | "never";
  /** The plugin's name, or a hint, for messages. */
  plugin?: string;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Time per module, redirects and body included, in ms. @default 10000 */
  timeoutMs?: number;
  /** Size limit per module, in bytes. @default 2097152 */
  maxModuleBytes?: number;
  /** Size limit of the graph, in bytes. @default 20971520 */
  maxGraphBytes?: number;
  /** Module-count limit of the graph. @default 1000 */
  maxModules?: number;
  /** Redirects followed per module. @default 10 */
  maxRedirects?: number;
}

/** One module of a resolved plugin. */
export interface ResolvedModule {
  /** Its URL, after redirects. */
  url: string;
  /** `sha256-<base64>` of its bytes as served. */
  integrity: string;
  /** Its absolute path in the snapshot. */
  path: string;
  /** True when the snapshot's copy has rewritten specifiers. */
  rewritten: boolean;
}

/** A URL plugin ready to import. */
export interface RemotePlugin {
  /** The source URL as given. */
  source: string;
  /** The entry's URL after redirects. */
  entry: string;
  /** The snapshot folder, `<snapshotRoot>/<graph sha256>`. */
  dir: string;
  /** The entry module's absolute path in the snapshot. */
  entryPath: string;
  /** The entry module's `file:` URL: `import()` this. */
  entryUrl: string;
  /** The graph's hash (the snapshot folder's name). */
  graphHash: string;
  /** Every module, sorted by URL. */
  modules: ResolvedModule[];
  /** `pinned`: matches the lock. `new`: not in the lock (record `pins`). `changed` (update mode only): see `changes`. */
  status: "pinned" | "new" | "changed";
  /** What differs from the lock (update mode); empty otherwise. */
  changes: ModuleChange[];
  /** The entry to record in the lock once the plugin works (add `name` and `version`). */
  pins: LockEntry;
  /** Dynamic imports computed at run time, which were not fetched: the caller decides. */
  dynamicImports: { module: string; expression: string }[];
  /** True when the graph came from the snapshot, not the network. */
  offline: boolean;
  /** Why the network was not used, when `offline`. */
  offlineReason?: string;
  /** True when the snapshot folder was already on disk, intact. */
  reused: boolean;
}

/**
 * Fetches (or reads offline), checks and snapshots a URL plugin's module graph.
 *
 * @param source the plugin's entry URL
 * @param options allowed hosts, lock, mode, limits
 * @returns the snapshot to import and what was checked
 * @throws {RemoteError} `REMOTE_NOT_ALLOWED`, `REMOTE_FETCH_FAILED`, `REMOTE_TOO_LARGE`, `REMOTE_BAD_CONTENT_TYPE`,
 *   `REMOTE_INTEGRITY_MISMATCH` (with `changes`), `REMOTE_NOT_PINNED`, `REMOTE_SNAPSHOT_MISSING`
 *
 * @example Trust on first use, then verify
 * ```ts
 * import assert from "node:assert/strict";
 * import { PluginLock, resolveRemotePlugin } from "./mod.ts";
 * const files: Record<string, string> = {
 *   "/p/mod.js": `import { n } from "./lib/n.js"; export default { name: "p", version: "1.0.0", setup() {}, n };`,
 *   "/p/lib/n.js": `export const n = 42;`,
 * };
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
 *   const body = files[new URL(req.url).pathname];
 *   return body === undefined ? new Response("no", { status: 404 }) : new Response(body, { headers: { "content-type": "text/javascript" } });
 * });
 * const source = `http://127.0.0.1:${server.addr.port}/p/mod.js`;
 * const snapshotRoot = await Deno.makeTempDir();
 * const lock = new PluginLock();
 * const first = await resolveRemotePlugin(source, { allowImport: ["127.0.0.1"], lock, snapshotRoot });
 * assert.equal(first.status, "new");
 * const mod = await import(first.entryUrl);
 * assert.equal(mod.default.n, 42);
 * lock.set(source, { ...first.pins, name: mod.default.name, version: mod.default.version });
 * files["/p/lib/n.js"] = `export const n = 43;`;
 * const err = await resolveRemotePlugin(source, { allowImport: ["127.0.0.1"], lock, snapshotRoot }).catch((e) => e);
 * assert.equal(err.code, "REMOTE_INTEGRITY_MISMATCH");
 * assert.equal(err.changes[0].url, `http://127.0.0.1:${server.addr.port}/p/lib/n.js`);
 * await server.shutdown();
 * await Deno.remove(snapshotRoot, { recursive: true });
 * ```
 */
export async function resolveRemotePlugin(source: string, options: ResolveRemoteOptions): Promise<RemotePlugin> {
  source = new URL(source).href;
  const prefix = cannotLoad(source, options.plugin);
  const context = { plugin: options.plugin, source };
  const mode = options.mode ?? "verify";
  const pinned = options.lock.get(source);
  if (options.integrity !== undefined && !isIntegrity(options.integrity)) {
    throw new TypeError(
      `${prefix}: its "integrity" must be "sha256-<base64>": current value is ${JSON.stringify(options.integrity)}`,
    );
  }
  if (options.frozen && !pinned && options.integrity === undefined) {
    throw new RemoteError(
      "REMOTE_NOT_PINNED",
      `${prefix}: it is not pinned in plugboard.lock, and the lock is frozen; ` +
        `load it once without --frozen (or frozen: false) to pin it, review and commit plugboard.lock`,
      { ...context, url: source, fix: "plugboard.lock" },
    );
  }

  let graph: ModuleGraph;
  let offline = false;
  let offlineReason: string | undefined;
  const walkOptions = {
    allowImport: options.allowImport,
    plugin: options.plugin,
    maxGraphBytes: options.maxGraphBytes,
    maxModules: options.maxModules,
  };
  if (options.network === "never") {
    offline = true;
    offlineReason = "network: never";
    graph = await fromSnapshot(source, pinned, options, prefix, "the network is off (offline start)");
  } else {
    const load: ModuleLoader = (url, importer, signal) =>
      fetchModule(url, {
        allowImport: options.allowImport,
        source,
        plugin: options.plugin,
        importer,
        fetch: options.fetch,
        timeoutMs: options.timeoutMs,
        maxModuleBytes: options.maxModuleBytes,
        maxRedirects: options.maxRedirects,
        signal,
      });
    try {
      graph = await walkGraph(source, { ...walkOptions, load });
    } catch (error) {
      if (!(error instanceof RemoteError) || !error.unreachable || !pinned || mode === "update") throw error;
      offline = true;
      offlineReason = error.message;
      graph = await fromSnapshot(source, pinned, options, prefix, `the server cannot be reached (${error.message})`);
    }
  }

  const layout = layoutGraph(source, graph);
  const current = { modules: layout.description.modules, redirects: layout.description.redirects };
  const pins: LockEntry = {
    modules: Object.fromEntries(layout.modules.map((m) => [m.url, m.integrity])),
    redirects: current.redirects,
  };
  const entryIntegrity = layout.description.modules[graph.entry].integrity;
  if (options.integrity !== undefined && options.integrity !== entryIntegrity) {
    throw new RemoteError(
      "REMOTE_INTEGRITY_MISMATCH",
      `${prefix}: its entry "${graph.entry}" does not match the source's integrity: expected ${options.integrity}, ` +
        `got ${entryIntegrity}. If the change is expected, update "integrity" in the plugin's settings`,
      {
        ...context,
        url: graph.entry,
        fix: "integrity",
        changes: [{ url: graph.entry, kind: "changed", pinned: options.integrity, current: entryIntegrity }],
      },
    );
  }
  const changes = pinned ? diffPins(pinned, { modules: pins.modules, redirects: pins.redirects ?? {} }) : [];
  if (changes.length && mode === "verify") {
    const n = changes.length;
    throw new RemoteError(
      "REMOTE_INTEGRITY_MISMATCH",
      `${prefix}: ${n} module${n === 1 ? "" : "s"} changed since ${n === 1 ? "it was" : "they were"} pinned in ` +
        `plugboard.lock:\n${formatChanges(changes)}\nReview the change, then update the plugin ` +
        `(POST /api/plugins/<name>:update) to re-pin it`,
      { ...context, url: changes[0].url, fix: ":update", changes },
    );
  }
  if (options.frozen && !pinned) {
    const unpinned = layout.modules.filter((m) => m.url !== graph.entry);
    if (unpinned.length) {
      throw new RemoteError(
        "REMOTE_NOT_PINNED",
        `${prefix}: its integrity pins only the entry, and the lock is frozen: ${unpinned.length} more module(s) ` +
          `have no pin (${unpinned.map((m) => `"${m.url}"`).join(", ")}); pin the plugin in plugboard.lock`,
        { ...context, url: unpinned[0].url, fix: "plugboard.lock" },
      );
    }
  }

  const snapshot = await writeSnapshot(options.snapshotRoot, layout);
  return {
    source,
    entry: graph.entry,
    dir: snapshot.dir,
    entryPath: snapshot.entryPath,
    entryUrl: snapshot.entryUrl,
    graphHash: layout.hash,
    modules: layout.modules.map((m) => ({
      url: m.url,
      integrity: m.integrity,
      path: join(snapshot.dir, m.path),
      rewritten: m.rewritten,
    })),
    status: !pinned ? "new" : changes.length ? "changed" : "pinned",
    changes,
    pins,
    dynamicImports: graph.computed,
    offline,
    offlineReason,
    reused: snapshot.reused,
  };
}

/** Walks the graph from the snapshot that the lock's pins name. */
async function fromSnapshot(
  source: string,
  pinned: LockEntry | undefined,
  options: ResolveRemoteOptions,
  prefix: string,
  why: string,
): Promise<ModuleGraph> {
  const context = { plugin: options.plugin, source, url: source };
  if (!pinned) {
    throw new RemoteError(
      "REMOTE_SNAPSHOT_MISSING",
      `${prefix}: ${why}, and plugboard.lock does not pin it, so there is no snapshot to start from; ` +
        `load it once with the server up`,
      { ...context, fix: "plugboard.lock" },
    );
  }
  const dir = join(options.snapshotRoot, graphHash(source, pinned.modules, pinned.redirects ?? {}));
  const description = await readDescription(dir);
  if (!description || description.source !== source) {
    throw new RemoteError(
      "REMOTE_SNAPSHOT_MISSING",
      `${prefix}: ${why}, and its snapshot ${dir} is missing; restore ${options.snapshotRoot} from a machine ` +
        `that loaded it (or load it once with the server up)`,
      { ...context, fix: options.snapshotRoot },
    );
  }
  const redirects = pinned.redirects ?? {};
  const load: ModuleLoader = async (url) => {
    const hops: [string, string][] = [];
    let final = url;
    while (redirects[final] !== undefined && hops.length <= 20) {
      hops.push([final, redirects[final]]);
      final = redirects[final];
      assertAllowed(new URL(final), options.allowImport, { prefix, plugin: options.plugin, source });
    }
    const described = description.modules[final];
    const bytes = described && await readOriginal(dir, described.path);
    if (!described || !bytes) {
      throw new RemoteError(
        "REMOTE_SNAPSHOT_MISSING",
        `${prefix}: ${why}, and its snapshot ${dir} has no copy of "${final}"; delete the folder and load the ` +
          `plugin once with the server up`,
        { ...context, url: final, fix: options.snapshotRoot },
      );
    }
    const integrity = integrityOf(bytes);
    if (pinned.modules[final] !== undefined && integrity !== pinned.modules[final]) {
      throw new RemoteError(
        "REMOTE_INTEGRITY_MISMATCH",
        `${prefix}: ${why}, and its snapshot's copy of "${final}" does not match plugboard.lock: pinned ` +
          `${pinned.modules[final]}, on disk ${integrity}. The snapshot was altered: delete ${dir} and load the ` +
          `plugin once with the server up`,
        {
          ...context,
          url: final,
          changes: [{ url: final, kind: "changed", pinned: pinned.modules[final], current: integrity }],
        },
      );
    }
    return { requested: url, url: final, redirects: hops, bytes, mediaType: described.mediaType };
  };
  return await walkGraph(source, {
    load,
    allowImport: options.allowImport,
    plugin: options.plugin,
    maxGraphBytes: options.maxGraphBytes,
    maxModules: options.maxModules,
  });
}
