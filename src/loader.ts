/**
 * Turns a plugin source into a plugin ready for setup: permission checks,
 * import (with a fresh snapshot of the folder for a re-import), manifest and
 * config validation.
 *
 * @module
 */

import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type EnvReader, readConfigFile, resolveConfig } from "./config.ts";
import { PluginError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { type NormalizedPlugin, normalizePlugin } from "./manifest.ts";
import { type CheckedSource, checkSource } from "./permissions.ts";
import { canSnapshot, removeSnapshot, snapshotPlugin } from "./snapshots.ts";
import { withTimeout } from "./timeout.ts";

/** The source scheme of plugins defined in code. */
export const INLINE_SCHEME = "inline:";

const DEFAULT_IMPORT_TIMEOUT = 30_000;

/** What the loader needs from the host. */
export interface LoaderOptions {
  cwd: string;
  pluginsDir: string | null;
  allowRead?: string[];
  allowImport?: string[];
  importTimeout?: number;
  config?: Record<string, Record<string, unknown>>;
  env?: EnvReader;
  log: Logger;
}

/**
 * The manifest of a plugin whose preparation failed after its manifest was
 * read (bad config, say), by the error thrown, so listings can show its version.
 */
export const manifestOfFailure: WeakMap<object, NormalizedPlugin> = new WeakMap();

/** A plugin imported and validated, not set up yet. */
export interface PreparedPlugin {
  checked: CheckedSource;
  /** The snapshot folder this version was imported from, if any. */
  snapshot?: string;
  plugin: NormalizedPlugin;
  config: unknown;
  enabled: boolean;
  importMs: number;
}

/** Loads plugin modules for a host. */
export class PluginLoader {
  #options: LoaderOptions;
  #generation = 0;
  /** Module URLs imported so far: importing one again needs a fresh URL. */
  #imported = new Set<string>();
  /** Plugins loaded as objects, by their `inline:<name>` source. */
  #inline = new Map<string, unknown>();
  #warned = false;

  /** @param options the host's settings */
  constructor(options: LoaderOptions) {
    this.#options = options;
  }

  /**
   * Registers a plugin defined in code.
   *
   * @param definition the plugin object
   * @returns its source, `inline:<name>`
   * @throws {PluginError} `INVALID_PLUGIN` for an invalid manifest
   */
  addInline(definition: unknown): string {
    const plugin = normalizePlugin({ default: definition }, "inline plugin", "inline");
    const source = `${INLINE_SCHEME}${plugin.meta.name}`;
    this.#inline.set(source, definition);
    return source;
  }

  /**
   * Checks, imports and validates a plugin (manifest and config), without
   * setting it up. A source imported before is imported again from a fresh
   * snapshot of its folder (local) or with a cache-busting query (URL).
   *
   * @param source path, URL or `inline:<name>`
   * @param hint the name to report before the manifest is read
   * @returns the plugin, ready for setup
   * @throws {PluginError} why it cannot load
   */
  async prepare(source: string, hint: string): Promise<PreparedPlugin> {
    const started = performance.now();
    if (this.#inline.has(source)) {
      const plugin = normalizePlugin({ default: this.#inline.get(source) }, source, hint);
      const config = await resolveConfig({ ...this.#options.config?.[plugin.meta.name] }, {
        plugin: plugin.meta.name,
        schema: plugin.config,
        env: this.#options.env,
      });
      const checked = { kind: "inline" as const, url: new URL(source) };
      return { checked, plugin, config, enabled: true, importMs: performance.now() - started };
    }
    const checked = await checkSource(source, {
      roots: [
        ...(this.#options.pluginsDir ? [this.#options.pluginsDir] : []),
        ...(this.#options.allowRead ?? []).map((r) => resolve(this.#options.cwd, r)),
      ],
      allowImport: this.#options.allowImport ?? [],
    }, { cwd: this.#options.cwd, plugin: hint });
    const base = checked.url.href;
    const shown = checked.kind === "local" ? checked.path : base;
    let href = base;
    let snapshot: string | undefined;
    if (this.#imported.has(base)) {
      const generation = ++this.#generation;
      if (checked.kind === "local" && await canSnapshot(checked.dir)) {
        snapshot = await snapshotPlugin(checked.dir, generation);
        href = toFileUrl(join(snapshot, relative(checked.dir, checked.path)));
      } else {
        if (checked.kind === "local" && !this.#warned) {
          this.#warned = true;
          this.#options.log.warn(
            `Reloads re-import only each plugin's entry module: grant --allow-write=${
              resolve(checked.dir, "..")
            } so that a reload picks up changes in every file of a plugin`,
          );
        }
        href = `${base}${checked.url.search ? "&" : "?"}plugboard=${generation}`;
      }
    }
    this.#imported.add(base);
    let read: NormalizedPlugin | undefined;
    try {
      const mod = await this.#import(
        href,
        shown,
        hint,
        (text) =>
          snapshot && checked.kind === "local"
            ? text.replaceAll(toFileUrl(snapshot), toFileUrl(checked.dir)).replaceAll(snapshot, checked.dir)
            : text,
      );
      const plugin = read = normalizePlugin(mod, shown, hint);
      const name = plugin.meta.name;
      let data: Record<string, unknown> = {};
      let enabled = true;
      let file: string | undefined;
      if (checked.kind === "local") {
        ({ data, enabled, file } = await readConfigFile(join(checked.dir, "config.json"), name));
      }
      data = { ...data, ...this.#options.config?.[name] };
      const config = enabled
        ? await resolveConfig(data, {
          plugin: name,
          file: file ?? "config",
          schema: plugin.config,
          env: this.#options.env,
        })
        : undefined;
      return { checked, snapshot, plugin, config, enabled, importMs: performance.now() - started };
    } catch (error) {
      if (snapshot) await removeSnapshot(snapshot);
      if (read && typeof error === "object" && error !== null) manifestOfFailure.set(error, read);
      throw error;
    }
  }

  async #import(href: string, shown: string, hint: string, mapPaths: (text: string) => string) {
    const timeout = this.#options.importTimeout ?? DEFAULT_IMPORT_TIMEOUT;
    try {
      return await withTimeout(
        import(href) as Promise<Record<string, unknown>>,
        timeout,
        () =>
          new PluginError("TIMEOUT", `Cannot load plugin "${hint}": importing ${shown} timed out after ${timeout} ms`, {
            plugin: hint,
            source: shown,
          }),
      );
    } catch (cause) {
      if (cause instanceof PluginError) throw cause;
      throw new PluginError(
        "IMPORT_FAILED",
        `Cannot load plugin "${hint}": importing ${shown} failed: ${
          mapPaths(String((cause as Error)?.message ?? cause))
        }`,
        { plugin: hint, source: shown, cause },
      );
    }
  }
}

function toFileUrl(path: string): string {
  return pathToFileURL(path).href;
}
