/**
 * Turns a plugin source into a version ready for set-up: permission checks,
 * a fresh snapshot of the folder for a re-import, the import itself (through
 * a {@linkcode PluginRuntime}), and config: `config.json`, the host's
 * overrides, `${VAR}` substitution, and the plugin's schema.
 *
 * @module
 */

import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { configIssuesError, readConfigFile, substituteEnv } from "./config.ts";
import { ConfigError, PermissionError, PluginError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { ResolvedHostOptions } from "./options.ts";
import { type CheckedSource, checkSource } from "./permissions.ts";
import { INLINE_SCHEME } from "./runtime/in_process.ts";
import type { IsolationKind, PluginRuntime, PluginVersion } from "./runtime/runtime.ts";
import type { Capabilities } from "./plugin_permissions.ts";
import { contentHash } from "./plugin_hash.ts";
import type { RemoteImport, RemotePlugin, RemotePlugins } from "./remote/mod.ts";
import { canSnapshot, removeSnapshot, snapshotPlugin } from "./snapshots.ts";

/** A plugin imported and validated, not set up yet. */
export interface PreparedPlugin {
  checked: CheckedSource | { kind: "inline"; url: URL };
  /** The snapshot folder this version was imported from, if any (removed when the version stops). */
  snapshot?: string;
  /** A URL plugin's fetched graph, to pin once the version works. */
  remote?: RemotePlugin;
  version: PluginVersion;
  /** How its code runs. */
  isolation: IsolationKind;
  config: unknown;
  /** False when its config says `"enabled": false`. */
  enabled: boolean;
  importMs: number;
}

/** Options of {@linkcode PluginLoader.prepare}. */
export interface PrepareOptions {
  /** For a URL plugin: fetch its whole graph again and accept changed modules (re-pinned once it works). */
  update?: boolean;
  /**
   * For a new version of an approved plugin: what it asks beyond its approval (see `ImportRequest.unapproved`),
   * given its capabilities and its content hash (`plugin_hash.ts`) when it has a folder.
   */
  unapproved?: (capabilities: Capabilities, contentHash?: string) => Capabilities | undefined;
}

/** Where plugin code runs: in-process (trusted and inline plugins), in its own process (sandboxed), or in a worker. */
export interface Runtimes {
  inProcess: PluginRuntime;
  /** Absent when the host runs every plugin in-process (`isolation: "none"`). */
  worker?: PluginRuntime;
  /** The sandbox tier, for the plugins named in `sandboxed`. */
  process?: PluginRuntime;
}

/** Loads plugin versions for a host. */
export class PluginLoader {
  #options: ResolvedHostOptions;
  #runtimes: Runtimes;
  #log: Logger;
  #remote: (() => Promise<RemotePlugins>) | undefined;
  #generation = 0;
  /** Module URLs imported so far: importing one again needs a fresh URL. */
  #imported = new Set<string>();
  #warned = false;

  /**
   * @param options the host's resolved options
   * @param runtimes where plugin code runs
   * @param log for the one-time snapshot warning
   * @param remote URL plugins' fetcher, lock and snapshots (opened on first use)
   */
  constructor(
    options: ResolvedHostOptions,
    runtimes: Runtimes,
    log: Logger,
    remote?: () => Promise<RemotePlugins>,
  ) {
    this.#options = options;
    this.#runtimes = runtimes;
    this.#log = log;
    this.#remote = remote;
  }

  /**
   * The runtime for a source: in-process for plugins defined in code and for
   * those the operator trusts (by folder name), a process of its own for those
   * the operator sandboxes, a worker for the rest.
   */
  #runtimeFor(hint: string, inline: boolean): PluginRuntime {
    const { worker, inProcess, process } = this.#runtimes;
    if (inline) return inProcess;
    if (process && this.#options.sandboxed.includes(hint)) return process;
    if (!worker || this.#options.trusted.includes(hint)) return inProcess;
    return worker;
  }

  /**
   * Checks, imports and validates a plugin (manifest and config), without
   * setting it up. A source imported before is imported again from a fresh
   * snapshot of its folder (local) or with a cache-busting query (URL).
   *
   * @param source path, URL or `inline:<name>`
   * @param hint the name to report before the manifest is read
   * @returns the plugin, ready for setup
   * @throws {PluginError} why it cannot load (with the manifest, when it was read)
   */
  async prepare(source: string, hint: string, options: PrepareOptions = {}): Promise<PreparedPlugin> {
    const started = performance.now();
    const timeoutMs = this.#options.importTimeout;
    if (source.startsWith(INLINE_SCHEME)) {
      const runtime = this.#runtimes.inProcess;
      const version = await runtime.import({ href: source, shown: source, hint, timeoutMs });
      const { enabled, ...overrides } = this.#options.config[version.manifest.name] ?? {};
      const config = await this.#configure(version, overrides, `host setting config.${version.manifest.name}`);
      return {
        checked: { kind: "inline", url: new URL(source) },
        version,
        isolation: runtime.kind,
        config,
        enabled: enabled !== false,
        importMs: performance.now() - started,
      };
    }
    const checked = await checkSource(source, {
      roots: [...this.#options.readRoots],
      allowImport: [...this.#options.allowImport],
      pluginsDir: this.#options.pluginsDir,
    }, { cwd: this.#options.cwd, plugin: hint });
    const base = checked.url.href;
    const shown = checked.kind === "local" ? checked.path : base;
    const runtime = this.#runtimeFor(hint, false);
    let href: string;
    let snapshot: string | undefined;
    let remote: RemoteImport | undefined;
    if (checked.kind === "remote") {
      // plugboard fetches the whole graph itself, checks it against plugboard.lock, and imports a local snapshot.
      if (!this.#remote) {
        throw new PluginError("IMPORT_FAILED", "URL plugins are not set up on this host", {
          plugin: hint,
          stage: "load",
        });
      }
      remote = await (await this.#remote()).prepare(base, { plugin: hint, update: options.update });
      href = remote.href;
      snapshot = remote.copy;
    } else if (runtime.kind !== "in-process") {
      // A fresh worker (or process) evaluates the whole module graph afresh.
      href = base;
    } else {
      ({ href, snapshot } = await this.#freshHref(checked));
    }
    this.#imported.add(base);
    // The code an approval is bound to: hashed before it is imported (a change after this is another version).
    const folder = checked.kind === "local" ? checked.dir : remote?.copy;
    const hash = options.unapproved && folder ? await contentHash(folder) : undefined;
    const unapproved = options.unapproved;
    let version: PluginVersion | undefined;
    try {
      version = await runtime.import({
        href,
        shown,
        hint,
        timeoutMs,
        unapproved: unapproved && ((capabilities) => unapproved(capabilities, hash)),
        mapPaths: (text) =>
          remote
            ? remote.mapPaths(text)
            : snapshot && checked.kind === "local"
            ? text.replaceAll(toFileUrl(snapshot), toFileUrl(checked.dir)).replaceAll(snapshot, checked.dir)
            : text,
        // An isolated URL plugin reads its snapshot; run-time imports need permissions.import.
        pluginDir: checked.kind === "local" ? checked.dir : remote ? (remote.copy ?? remote.remote.dir) : undefined,
      });
      const name = version.manifest.name;
      if (runtime.kind === "in-process" && this.#runtimes.worker && name !== hint) {
        throw new PermissionError(
          `"trusted" names "${hint}", but the plugin in that place calls itself "${name}". ` +
            `A trusted plugin's name must match its folder; name "${name}" in "trusted" only if you trust it`,
          `trusted: ["${name}"]`,
          { plugin: hint, stage: "load", from: shown },
        );
      }
      let data: Record<string, unknown> = {};
      let enabled = true;
      let file: string | undefined;
      if (checked.kind === "local") {
        ({ data, enabled, file } = await readConfigFile(join(checked.dir, "config.json"), name));
      }
      const { enabled: override, ...overrides } = this.#options.config[name] ?? {};
      if (override !== undefined && typeof override !== "boolean") {
        throw new ConfigError(
          `host setting config.${name} field "enabled" must be true or false: current value is ${
            JSON.stringify(override)
          }`,
          { plugin: name, stage: "load", file: `config.${name}`, field: "enabled" },
        );
      }
      if (override !== undefined) enabled = override;
      data = { ...data, ...overrides };
      const fileOf = (field: string) =>
        Object.hasOwn(overrides, field.split(".")[0]) ? `host setting config.${name}` : file ?? "config";
      const config = enabled ? await this.#configure(version, data, file ?? "config", fileOf) : undefined;
      return {
        checked,
        snapshot,
        remote: remote?.remote,
        version,
        isolation: runtime.kind,
        config,
        enabled,
        importMs: performance.now() - started,
      };
    } catch (error) {
      // Imported, then refused (its config, a trusted name that does not match): its worker ends with it.
      version?.discard?.();
      if (snapshot) await removeSnapshot(snapshot);
      if (version && error instanceof PluginError) throw error.with({ manifest: version.manifest });
      throw error;
    }
  }

  async #configure(
    version: PluginVersion,
    data: Record<string, unknown>,
    file: string,
    fileOf: (field: string) => string = () => file,
  ): Promise<unknown> {
    const plugin = version.manifest.name;
    const substituted = substituteEnv(data, { plugin, file, env: this.#options.env });
    if (!version.hasConfigSchema) return substituted.value;
    const result = await version.validateConfig(substituted.value);
    if (!result.ok) throw configIssuesError(result.issues, substituted, { plugin, file, fileOf });
    const kept = result.value;
    if (kept !== null && typeof kept === "object" && !Array.isArray(kept)) {
      const dropped = Object.keys(substituted.value).filter((k) => !Object.hasOwn(kept, k));
      if (dropped.length) {
        this.#log.warn(
          `Plugin "${plugin}": ${dropped.map((k) => `${fileOf(k)} field "${k}"`).join(", ")} ` +
            `${dropped.length === 1 ? "is" : "are"} not in its config schema and ignored. Check the spelling, ` +
            `or remove ${dropped.length === 1 ? "it" : "them"}`,
        );
      }
    }
    return kept;
  }

  /** The URL to import: the source itself the first time, then a snapshot copy or a cache-busting query. */
  async #freshHref(checked: CheckedSource): Promise<{ href: string; snapshot?: string }> {
    const base = checked.url.href;
    if (!this.#imported.has(base)) return { href: base };
    const generation = ++this.#generation;
    if (checked.kind === "local" && await canSnapshot(checked.dir)) {
      const snapshot = await snapshotPlugin(checked.dir, generation);
      return { href: toFileUrl(join(snapshot, relative(checked.dir, checked.path))), snapshot };
    }
    if (checked.kind === "local" && !this.#warned) {
      this.#warned = true;
      this.#log.warn(
        `Reloads re-import only each plugin's entry module: grant --allow-write=${
          resolve(checked.dir, "..")
        } so that a reload picks up changes in every file of a plugin`,
      );
    }
    return { href: `${base}${checked.url.search ? "&" : "?"}plugboard=${generation}` };
  }
}

function toFileUrl(path: string): string {
  return pathToFileURL(path).href;
}
