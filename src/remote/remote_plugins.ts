/**
 * `RemotePlugins`: what the loader and the host hold for URL plugins, so
 * that wiring them is a few lines. It owns the lock, the snapshot root, the
 * settings, and which snapshots this process has imported (a second import
 * of the same graph needs a fresh copy, as Deno keys modules by URL).
 *
 * @module
 */

import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ModuleChange } from "./errors.ts";
import { PluginLock } from "./lock.ts";
import { type RemotePlugin, type ResolveRemoteOptions, resolveRemotePlugin } from "./resolve.ts";
import { copySnapshot, removeStaleRemoteSnapshots } from "./snapshot_copies.ts";

/** The part of plugboard's `Logger` this uses. */
export interface RemoteLog {
  info(message: string): void;
  warn(message: string): void;
}

/** Options of {@linkcode RemotePlugins.open}. */
export interface RemotePluginsOptions {
  /** The folder relative paths start from. */
  cwd: string;
  /** Hosts URL plugins (and all their imports and redirects) may come from. */
  allowImport: readonly string[];
  /** The lock file. @default "plugboard.lock" */
  lockFile?: string;
  /** The snapshot root. @default ".plugboard/remote" */
  snapshotRoot?: string;
  /** Refuse what the lock does not pin, and never write the lock. @default false */
  frozen?: boolean;
  /** Never touch the network: start from the lock and the snapshots. @default false */
  offline?: boolean;
  /** Inline integrity per source URL (`sha256-<base64>` of the entry). */
  integrity?: Readonly<Record<string, string>>;
  /** Limits and fetch, passed to {@linkcode resolveRemotePlugin}. */
  limits?: Pick<
    ResolveRemoteOptions,
    "timeoutMs" | "maxModuleBytes" | "maxGraphBytes" | "maxModules" | "maxRedirects" | "fetch"
  >;
  /** Where pins and warnings are logged. */
  log?: RemoteLog;
}

/** What the loader imports for one URL plugin. */
export interface RemoteImport {
  /** The `file:` URL to `import()`. */
  href: string;
  /** A copy made for this import, to remove when this version is disposed (never the snapshot itself). */
  copy?: string;
  /** The resolved graph. */
  remote: RemotePlugin;
  /** Maps snapshot paths and `file:` URLs in an error message back to the modules' URLs. */
  mapPaths(text: string): string;
}

/**
 * URL plugins for one host.
 *
 * @example Load, reload and pin a URL plugin
 * ```ts
 * import assert from "node:assert/strict";
 * import { RemotePlugins } from "./remote_plugins.ts";
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *   new Response(`export default { name: "tiny", version: "1.0.0", setup() {} };`, {
 *     headers: { "content-type": "text/javascript" },
 *   }));
 * const cwd = await Deno.makeTempDir();
 * const remote = await RemotePlugins.open({ cwd, allowImport: ["127.0.0.1"] });
 * const source = `http://127.0.0.1:${server.addr.port}/tiny.js`;
 * const first = await remote.prepare(source, { plugin: "tiny" });
 * const mod = await import(first.href);
 * assert.equal(await remote.pin(first.remote, mod.default), true);
 * const again = await remote.prepare(source, { plugin: "tiny" });
 * assert.notEqual(again.href, first.href); // a fresh copy: the module is evaluated again
 * assert.equal(await remote.pin(again.remote, mod.default), false); // already pinned
 * assert.ok((await Deno.readTextFile(`${cwd}/plugboard.lock`)).includes(source));
 * await server.shutdown();
 * await Deno.remove(cwd, { recursive: true });
 * ```
 */
export class RemotePlugins {
  #options: RemotePluginsOptions;
  #lock: PluginLock;
  #root: string;
  #imported = new Set<string>();
  #generation = 0;
  #integrity: Map<string, string>;

  private constructor(options: RemotePluginsOptions, lock: PluginLock) {
    this.#options = options;
    this.#lock = lock;
    this.#root = resolve(options.cwd, options.snapshotRoot ?? ".plugboard/remote");
    this.#integrity = new Map(
      Object.entries(options.integrity ?? {}).map(([source, sri]) => [new URL(source).href, sri]),
    );
  }

  /**
   * Reads the lock and removes what a previous run left in the snapshot root
   * (copies, temporary folders, snapshots of graphs the lock does not pin).
   *
   * @param options settings
   * @returns the instance
   * @throws {RemoteError} `REMOTE_LOCK_INVALID` for a malformed lock file
   */
  static async open(options: RemotePluginsOptions): Promise<RemotePlugins> {
    const lock = await PluginLock.read(resolve(options.cwd, options.lockFile ?? "plugboard.lock"));
    const remote = new RemotePlugins(options, lock);
    await removeStaleRemoteSnapshots(remote.#root, lock);
    return remote;
  }

  /** The lock. */
  get lock(): PluginLock {
    return this.#lock;
  }

  /** The snapshot root. */
  get snapshotRoot(): string {
    return this.#root;
  }

  /**
   * Fetches (or reads offline), checks and snapshots a URL plugin, and says what to import.
   *
   * @param source the plugin's URL
   * @param options `plugin`: the name or a hint for messages; `update`: return changes instead of refusing them
   * @returns the `file:` URL to import, the copy to remove on dispose (if any), the graph, and a path mapper
   * @throws {RemoteError} see {@linkcode resolveRemotePlugin}
   */
  async prepare(source: string, options: { plugin?: string; update?: boolean } = {}): Promise<RemoteImport> {
    const remote = await resolveRemotePlugin(source, {
      allowImport: this.#options.allowImport,
      lock: this.#lock,
      snapshotRoot: this.#root,
      frozen: this.#options.frozen,
      integrity: this.#integrity.get(new URL(source).href),
      network: this.#options.offline ? "never" : "auto",
      mode: options.update ? "update" : "verify",
      plugin: options.plugin,
      ...this.#options.limits,
    });
    const who = options.plugin ? `"${options.plugin}"` : remote.source;
    if (remote.offline) this.#options.log?.warn(`Loading URL plugin ${who} from its snapshot: ${remote.offlineReason}`);
    for (const d of remote.dynamicImports) {
      this.#options.log?.warn(
        `URL plugin ${who}: ${d.module} runs ${d.expression}, which is not fetched, pinned or checked ahead`,
      );
    }
    let href = remote.entryUrl;
    let copy: string | undefined;
    if (this.#imported.has(remote.dir)) {
      const copied = await copySnapshot(remote, ++this.#generation);
      href = copied.entryUrl;
      copy = copied.dir;
    }
    this.#imported.add(remote.dir);
    const root = copy ?? remote.dir;
    const pairs = remote.modules.map((m) => {
      const path = join(root, relative(remote.dir, m.path));
      return [pathToFileURL(path).href, path, m.url] as const;
    });
    const mapPaths = (text: string) =>
      pairs.reduce((t, [fileUrl, path, url]) => t.replaceAll(fileUrl, url).replaceAll(path, url), text);
    return { href, copy, remote, mapPaths };
  }

  /**
   * Records a working plugin's pins (trust on first use, or a re-pin after an
   * update) and writes the lock, unless they are already pinned or the lock is frozen.
   *
   * @param remote from {@linkcode RemotePlugins.prepare}
   * @param meta the plugin's name and version, from its manifest
   * @returns true when the lock was written
   */
  async pin(remote: RemotePlugin, meta: { name: string; version: string }): Promise<boolean> {
    const pinned = this.#lock.get(remote.source);
    if (remote.status === "pinned" && pinned?.name === meta.name && pinned?.version === meta.version) return false;
    if (this.#options.frozen) return false;
    this.#lock.set(remote.source, { ...remote.pins, name: meta.name, version: meta.version });
    // The temporary file goes beside the snapshots (.plugboard/), so --allow-write needs only the lock itself there.
    await this.#lock.write(undefined, dirname(this.snapshotRoot));
    const listed = remote.modules.length <= 5
      ? `: ${remote.modules.map((m) => `${m.url} ${m.integrity}`).join(", ")}`
      : "";
    const verb = remote.status === "new" ? "Pinned" : "Re-pinned";
    this.#options.log?.info(
      `${verb} URL plugin "${meta.name}" ${meta.version} from ${remote.source} in ${this.#lock.path}, ` +
        `${remote.modules.length} module(s)${listed}. Review and commit the lock file`,
    );
    return true;
  }

  /**
   * What changed upstream since a plugin was pinned, without importing anything (`:update` without applying).
   *
   * @param source the plugin's URL
   * @param plugin its name, for messages
   * @returns the status and the changes
   */
  async changes(source: string, plugin?: string): Promise<{ status: RemotePlugin["status"]; changes: ModuleChange[] }> {
    const remote = await resolveRemotePlugin(source, {
      allowImport: this.#options.allowImport,
      lock: this.#lock,
      snapshotRoot: this.#root,
      integrity: this.#integrity.get(new URL(source).href),
      mode: "update",
      plugin,
      ...this.#options.limits,
    });
    return { status: remote.status, changes: remote.changes };
  }
}
