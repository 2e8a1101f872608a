/**
 * The in-process runtime: a plugin's module is imported into the host's own
 * isolate and its functions are registered directly. Fast, and trusted: the
 * plugin shares the host's permissions and globals.
 *
 * @module
 */

import { createContext, type PluginContext } from "../context.ts";
import { asPluginError, PluginError } from "../errors.ts";
import { type NormalizedPlugin, normalizePlugin } from "../manifest.ts";
import { validateWith } from "../schema.ts";
import type { DisposeFailure } from "../scope.ts";
import { withTimeout } from "../timeout.ts";
import type {
  ConfigValidation,
  HostPorts,
  ImportRequest,
  PluginManifest,
  PluginRuntime,
  PluginVersion,
  StartRequest,
  VersionUsage,
} from "./runtime.ts";
import { errorText } from "../error_text.ts";

/** The source scheme of plugins defined in code. */
export const INLINE_SCHEME = "inline:";

/**
 * Runs plugins in the host's isolate. Also holds plugins defined in code
 * (`inline:<name>` sources), which can only run in-process.
 *
 * @example Import and start an inline plugin
 * ```ts
 * import assert from "node:assert/strict";
 * import { InProcessRuntime } from "./in_process.ts";
 * const runtime = new InProcessRuntime();
 * const href = runtime.addInline({ name: "p", version: "1.0.0", setup() {} });
 * const version = await runtime.import({ href, shown: href, hint: "p", timeoutMs: 1000 });
 * assert.equal(version.manifest.name, "p");
 * ```
 */
export class InProcessRuntime implements PluginRuntime {
  /** Plugins run in the host's isolate. */
  readonly kind = "in-process" as const;
  #inline = new Map<string, unknown>();

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
   * Imports a module (or takes an inline plugin) and reads its manifest.
   *
   * @param request what to import
   * @returns the version, not set up
   * @throws {PluginError} `IMPORT_FAILED`, `TIMEOUT` or `INVALID_PLUGIN`
   */
  async import(request: ImportRequest): Promise<PluginVersion> {
    const { href, shown, hint } = request;
    if (href.startsWith(INLINE_SCHEME)) {
      if (!this.#inline.has(href)) {
        throw new PluginError("NOT_FOUND", `no plugin was defined in code as ${href}`, { plugin: hint, stage: "load" });
      }
      return new InProcessVersion(normalizePlugin({ default: this.#inline.get(href) }, href, hint));
    }
    let mod: Record<string, unknown>;
    try {
      mod = await withTimeout(
        import(href) as Promise<Record<string, unknown>>,
        request.timeoutMs,
        () =>
          new PluginError("TIMEOUT", `importing ${shown} timed out after ${request.timeoutMs} ms`, {
            plugin: hint,
            source: shown,
            stage: "load",
          }),
      );
    } catch (cause) {
      if (cause instanceof PluginError) throw cause;
      const text = errorText(cause);
      throw new PluginError("IMPORT_FAILED", `importing ${shown} failed: ${request.mapPaths?.(text) ?? text}`, {
        plugin: hint,
        source: shown,
        stage: "load",
        cause,
      });
    }
    return new InProcessVersion(normalizePlugin(mod, shown, hint));
  }
}

class InProcessVersion implements PluginVersion {
  readonly manifest: PluginManifest;
  readonly hasConfigSchema: boolean;
  #plugin: NormalizedPlugin;
  #ctx: PluginContext<unknown> | undefined;
  #request: StartRequest | undefined;
  #handover: (() => unknown) | undefined;
  /** The ids of the timers its context set and that are still alive. */
  #timers = new Set<number>();

  constructor(plugin: NormalizedPlugin) {
    this.#plugin = plugin;
    this.manifest = plugin.meta;
    this.hasConfigSchema = plugin.config !== undefined;
  }

  validateConfig(data: Record<string, unknown>): Promise<ConfigValidation> {
    const schema = this.#plugin.config;
    return schema ? validateWith(schema, data) : Promise.resolve({ ok: true, value: data });
  }

  async start(ports: HostPorts, request: StartRequest): Promise<void> {
    const plugin = this.#plugin;
    const { name, version } = plugin.meta;
    const { scope } = request;
    this.#request = request;
    const ctx = createContext({
      name,
      version,
      source: request.source,
      config: request.config,
      previous: request.previous,
      dataDir: request.dataDir,
      scope,
      ports,
      setHandover: (fn) => this.#handover = fn,
      timers: this.#timers,
    });
    const timeout = request.setupTimeout;
    try {
      await withTimeout(
        Promise.resolve().then(() => plugin.setup(ctx)),
        timeout,
        () =>
          new PluginError(
            "TIMEOUT",
            `setup timed out after ${timeout} ms. Make sure setup() returns (or its promise settles), ` +
              `or raise the host's setupTimeout`,
            { plugin: name, source: request.source, stage: "load" },
          ),
      );
      const service = plugin.service?.();
      if (service !== undefined && !ctx.services.has(name)) ctx.services.provide(name, service);
    } catch (error) {
      const failures = await scope.dispose(undefined, { timeoutMs: timeout });
      for (const f of failures) ports.report({ origin: "dispose", plugin: name, error: f.error });
      throw asPluginError(error, "SETUP_FAILED", {
        plugin: name,
        source: request.source,
        stage: "load",
        prefix: "setup threw",
      });
    }
    this.#ctx = ctx;
  }

  handover(): Promise<unknown> {
    return Promise.resolve().then(() => this.#handover?.());
  }

  usage(): Promise<VersionUsage> {
    return Promise.resolve({ timers: this.#timers.size });
  }

  stop(options: { timeoutMs: number }): Promise<DisposeFailure[]> {
    const { teardown } = this.#plugin;
    const ctx = this.#ctx;
    const scope = this.#request?.scope;
    if (!scope) return Promise.resolve([]);
    return scope.dispose(teardown && ctx ? () => teardown(ctx) : undefined, options);
  }
}
