/**
 * The worker runtime: each plugin version runs in its own Worker with only
 * the Deno permissions its manifest declares. This module starts the
 * workers (permissions checked against the host's, a second worker when the
 * manifest declares more); `worker_version.ts` is a version's host side,
 * which drives, watches, drains and stops its worker.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "../logger.ts";
import type { PluginLimits } from "../plugin_limits.ts";
import { ProcessWorker, type WorkerLike } from "./process_worker.ts";
import { WarmWorkers } from "./warm_workers.ts";
import { PluginError } from "../errors.ts";
import { assertContainedPaths, assertNoEscapingLinks } from "../plugin_links.ts";
import {
  assertHostGrants,
  mergePermissions,
  PERMISSION_KINDS,
  PermissionGrowthError,
  type PluginPermissions,
  workerPermissions,
} from "../plugin_permissions.ts";
import type { ImportRequest, PluginManifest, PluginRuntime, PluginVersion } from "./runtime.ts";
import { WorkerVersion, type WorkerVersionOptions } from "./worker_version.ts";

/**
 * What a plugin's worker runs: `worker_main.ts` and its imports bundled into one file
 * (`scripts/bundle_worker.ts`), which each worker loads for far less memory and time than the modules one by one.
 */
const WORKER_URL = new URL("./worker_bundle.js", import.meta.url);

const ROOT = new URL("../../", import.meta.url);
/** What an isolated plugin may read of plugboard itself, to import it. */
const CODE_ROOTS = ["mod.ts", "plugin.ts", "src/"].map((p) => fileURLToPath(new URL(p, ROOT)));
/** plugboard's own folder: what a refusal asks the operator to make readable, rather than its files one by one. */
const CODE_ROOT = fileURLToPath(ROOT);

/** Options for {@linkcode WorkerRuntime}. */
export interface WorkerRuntimeOptions extends WorkerVersionOptions {
  /** Where plugins' data folders live: `<dataDir>/plugins/<name>/`. */
  dataDir: string;
  /** Permissions the operator grants on top of each manifest, by plugin name. */
  grants?: Readonly<Record<string, PluginPermissions>>;
  /** `"process"`: each plugin version in its own Deno process (the sandbox tier). @default "worker" */
  tier?: "worker" | "process";
  /** Sandboxed plugins' limits, by plugin name (required for the `"process"` tier). */
  limits?(name: string): PluginLimits;
  /** Where a sandboxed plugin's process output is logged. */
  log?: Logger;
}

/**
 * Runs each plugin version in its own Worker.
 *
 * A first worker imports the module with the least permissions (its code
 * and its data folder) to read the manifest; when the manifest declares
 * more, the host checks it holds them and a second worker is started with
 * exactly those, so a plugin's top-level code never runs with permissions it
 * did not declare.
 */
export class WorkerRuntime implements PluginRuntime {
  /** Plugins run in their own Worker, or (the sandbox tier) in their own process. */
  readonly kind: "worker" | "process";
  #options: WorkerRuntimeOptions;
  /** The sandbox tier's frozen copy of plugboard's lock, made on first use. */
  #lock: Promise<string> | undefined;
  /** Workers started ahead of a reloaded plugin's next reload, with the permission sets they were started with. */
  #warm = new WarmWorkers((key) => this.#newWorker(this.#warmSpecs.get(key)!));
  #warmSpecs = new Map<string, { name: string; granted: Deno.PermissionOptionsObject }>();

  /** @param options data folder, hang and memory budgets, and the tier */
  constructor(options: WorkerRuntimeOptions) {
    this.#options = options;
    this.kind = options.tier ?? "worker";
  }

  /**
   * Imports a plugin in a fresh worker and reads its manifest.
   *
   * @param request what to import, and where it comes from
   * @returns the version, not set up
   * @throws {PluginError} `IMPORT_FAILED`, `TIMEOUT`, `INVALID_PLUGIN` or `PERMISSION_DENIED`
   */
  async import(request: ImportRequest): Promise<PluginVersion> {
    if (request.pluginDir) await assertNoEscapingLinks(request.hint, request.pluginDir);
    const first = await this.#spawn(request, request.hint, {});
    const { name } = first.manifest;
    if (name !== request.hint) {
      // Everything name-derived (its data folder, its grants, its approvals) is decided from where it comes from,
      // before its code runs: a module in "spoof" calling itself "tasks" must never get the tasks plugin's folder.
      first.terminate();
      throw new PluginError(
        "INVALID_PLUGIN",
        `${request.shown} calls itself "${name}", but it was loaded as "${request.hint}" (its folder or file name). ` +
          `An isolated plugin's name must match: its data folder and permissions follow that name before any of its ` +
          `code runs. Rename the folder to "${name}", or the plugin to "${request.hint}"`,
        { plugin: request.hint, stage: "load", from: request.shown },
      );
    }
    // The manifest is read from this evaluation, made with nothing granted: what the plugin asks for cannot depend
    // on what it was given. A version asking beyond its approval stops here, before any grant.
    const added = request.unapproved?.({ ...first.manifest.permissions, emits: first.manifest.emits });
    if (added) {
      first.terminate();
      throw new PermissionGrowthError(name, added);
    }
    const grant = this.#options.grants?.[name];
    const dataDir = join(this.#options.dataDir, "plugins", name);
    try {
      await assertContainedPaths(name, first.manifest.permissions, {
        pluginDir: request.pluginDir ?? dataDir,
        dataDir,
        granted: grant,
      });
    } catch (error) {
      first.terminate();
      throw error;
    }
    const permissions = mergePermissions(first.manifest.permissions, grant ?? {});
    // Only Deno's own permissions need a second evaluation (observe and hostWide are the host's to enforce).
    if (!PERMISSION_KINDS.some((kind) => permissions[kind]?.length)) return first;
    first.terminate();
    const second = await this.#spawn(request, name, permissions);
    if (JSON.stringify(second.manifest) !== JSON.stringify(first.manifest)) {
      second.terminate();
      throw new PluginError(
        "INVALID_PLUGIN",
        `its manifest changed once it was granted its permissions (first ${manifestText(first.manifest)}, then ` +
          `${manifestText(second.manifest)}). A manifest must not depend on what the plugin is granted: declare it ` +
          `as a constant`,
        { plugin: name, stage: "load", from: request.shown },
      );
    }
    return second;
  }

  async #spawn(
    request: ImportRequest,
    name: string,
    permissions: PluginManifest["permissions"],
  ): Promise<WorkerVersion> {
    const granted = workerPermissions(permissions, {
      pluginDir: request.pluginDir,
      dataDir: join(this.#options.dataDir, "plugins", name),
      sourceHost: request.sourceHost,
      codeRoots: CODE_ROOTS,
    });
    await assertHostGrants(name, granted, CODE_ROOT);
    let worker: WorkerLike;
    if (this.kind === "process") {
      worker = await this.#spawnProcess(request, name, granted);
    } else {
      const key = `${name}\0${JSON.stringify(granted)}`;
      const warm = this.#warm.take(key);
      if (warm) warm.onerror = null;
      try {
        worker = (warm ?? this.#newWorker({ name, granted })) as unknown as WorkerLike;
      } catch (cause) {
        throw new PluginError(
          "PERMISSION_DENIED",
          `cannot start its worker: ${(cause as Error)?.message ?? cause}. Run Deno with --unstable-worker-options ` +
            `(and the permissions the plugin needs), or run it in-process by naming it in "trusted"`,
          { plugin: request.hint, stage: "load", cause },
        );
      }
    }
    const version = new WorkerVersion(worker, granted, this.#options, name);
    if (this.kind === "worker" && request.unapproved) {
      // A new version of a running plugin (a reload, a save under --watch): once it is set up, a worker for its next
      // one is started (after the reload ends, so that the two do not compete for the CPU).
      const key = `${name}\0${JSON.stringify(granted)}`;
      this.#warmSpecs.set(key, { name, granted });
      version.onStarted = () => this.#warm.prepare(key);
    }
    try {
      await version.load(request);
    } catch (error) {
      version.terminate();
      throw error;
    }
    return version;
  }

  /** Ends the workers started ahead of need (the host is stopping). */
  close(): void {
    this.#warm.close();
  }

  #newWorker(spec: { name: string; granted: Deno.PermissionOptionsObject }): Worker {
    return new Worker(WORKER_URL, { type: "module", name: `plugin:${spec.name}`, deno: { permissions: spec.granted } });
  }

  /** Starts a sandboxed plugin's process with the flags and limits of its grant. */
  async #spawnProcess(
    request: ImportRequest,
    name: string,
    granted: Deno.PermissionOptionsObject,
  ): Promise<ProcessWorker> {
    const limits = this.#options.limits?.(name);
    if (!limits) throw new TypeError("the process tier needs the plugins' limits");
    const dataDir = join(this.#options.dataDir, "plugins", name);
    await Deno.mkdir(dataDir, { recursive: true });
    const sandboxDir = join(this.#options.dataDir, ".sandbox");
    this.#lock ??= copyLock(sandboxDir);
    return ProcessWorker.spawn({
      name,
      granted,
      limits: {
        memoryMb: limits.memoryMb,
        openFiles: limits.openFiles,
        ...(limits.cpuSeconds ? { cpuSeconds: limits.cpuSeconds } : {}),
      },
      cwd: request.pluginDir ?? dataDir,
      config: join(CODE_ROOT, "deno.json"),
      lock: await this.#lock,
      env: childEnv(granted),
      log: this.#options.log,
      logsPerSecond: limits.logsPerSecond,
    });
  }
}

/** A manifest's identity and asks, for a message. */
function manifestText(m: PluginManifest): string {
  return JSON.stringify({ name: m.name, version: m.version, permissions: m.permissions, emits: m.emits });
}

/** A frozen copy of plugboard's lock for sandboxed processes: none of them can change what the host pinned. */
async function copyLock(dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const copy = join(dir, "deno.lock");
  await Deno.copyFile(join(CODE_ROOT, "deno.lock"), copy);
  return copy;
}

/** What Deno itself needs to find its cache, without which a clean environment could not start it. */
const DENO_ENV = ["DENO_DIR", "HOME", "XDG_CACHE_HOME", "PATH"];

/**
 * A sandboxed plugin's environment: the variables it declared (and was
 * granted), plus those Deno needs to start, which the plugin cannot read
 * (it has no `env` permission for them). Nothing else of the host's.
 */
function childEnv(granted: Deno.PermissionOptionsObject): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  const declared = Array.isArray(granted.env) ? granted.env.map(String) : [];
  for (const key of [...DENO_ENV, ...declared]) {
    try {
      const value = Deno.env.get(key);
      if (value !== undefined) env[key] = value;
    } catch { /* the host may not read it: the child goes without */ }
  }
  return env;
}
