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

const WORKER_URL = new URL("./worker_main.ts", import.meta.url);

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
  /** Plugins run in their own Worker. */
  readonly kind = "worker" as const;
  #options: WorkerRuntimeOptions;

  /** @param options data folder, hang and memory budgets */
  constructor(options: WorkerRuntimeOptions) {
    this.#options = options;
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
    let worker: Worker;
    try {
      worker = new Worker(WORKER_URL, { type: "module", name: `plugin:${name}`, deno: { permissions: granted } });
    } catch (cause) {
      throw new PluginError(
        "PERMISSION_DENIED",
        `cannot start its worker: ${(cause as Error)?.message ?? cause}. Run Deno with --unstable-worker-options ` +
          `(and the permissions the plugin needs), or run it in-process by naming it in "trusted"`,
        { plugin: request.hint, stage: "load", cause },
      );
    }
    const version = new WorkerVersion(worker, granted, this.#options);
    try {
      await version.load(request);
    } catch (error) {
      version.terminate();
      throw error;
    }
    return version;
  }
}

/** A manifest's identity and asks, for a message. */
function manifestText(m: PluginManifest): string {
  return JSON.stringify({ name: m.name, version: m.version, permissions: m.permissions, emits: m.emits });
}
