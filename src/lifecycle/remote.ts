/**
 * URL plugins in the lifecycle: the host's `RemotePlugins` (fetcher, lock,
 * snapshots) opened from its options, and `update`, which checks a URL
 * plugin's graph against its pins and, when asked, takes the new version.
 *
 * @module
 */

import { join } from "node:path";
import { PluginError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { ResolvedHostOptions } from "../options.ts";
import { type ModuleChange, RemotePlugins } from "../remote/mod.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { reload } from "./reload.ts";

/** What {@linkcode update} returns. */
export interface UpdateResult {
  /** The plugin. */
  name: string;
  /** The URL it is loaded from. */
  source: string;
  /** Whether the new version was taken. */
  applied: boolean;
  /** `pinned` (nothing changed), `changed`, or `new` (nothing was pinned). */
  status: string;
  /** Every module that differs from its pin. */
  changes: ModuleChange[];
  /** The version now active, when applied. */
  version?: string;
}

/**
 * Opens the URL plugins' lock and snapshots as the host's options say.
 *
 * @param o the host's options
 * @param log where pins and warnings go
 * @returns the remote plugins facade
 * @throws {PluginError} `REMOTE_LOCK_INVALID` for a malformed plugboard.lock
 */
export function openRemotePlugins(o: ResolvedHostOptions, log: Logger): Promise<RemotePlugins> {
  return RemotePlugins.open({
    cwd: o.cwd,
    allowImport: o.allowImport,
    lockFile: o.lockFile,
    snapshotRoot: join(o.cwd, ".plugboard", "remote"),
    frozen: o.frozen,
    offline: o.offline,
    integrity: Object.fromEntries(Object.entries(o.integrity).map(([s, i]) => [new URL(s).href, i])),
    limits: o.remote,
    log,
  });
}

/**
 * Checks a URL plugin's module graph against plugboard.lock (every module is
 * fetched again). Without `apply`, says what changed; with it, sets the new
 * version up beside the old one, swaps it in when it works, and re-pins.
 *
 * @param lc the lifecycle
 * @param name the plugin
 * @param options `apply` to take the new version
 * @returns what changed, and (applied) the version now active
 * @throws {PluginError} `CONFLICT` for a plugin that is not a URL plugin; `REMOTE_NOT_PINNED` when the lock is frozen
 */
export async function update(lc: Lifecycle, name: string, options: { apply?: boolean }): Promise<UpdateResult> {
  const record = lc.registry.require(name);
  if (!/^https?:/.test(record.source)) {
    throw new PluginError("CONFLICT", "it is not a URL plugin; reload it instead", { plugin: name, stage: "update" });
  }
  const remote = await lc.remote();
  const found = await remote.changes(record.source, name);
  if (!options.apply) return { name, source: record.source, applied: false, ...found };
  if (lc.options.frozen) {
    throw new PluginError(
      "REMOTE_NOT_PINNED",
      "plugboard.lock is frozen here. Update where the lock is not frozen, then deploy the new lock",
      { plugin: name, stage: "update" },
    );
  }
  const info = await reload(lc, name, { update: true });
  return { name, source: record.source, applied: true, version: info.version, ...found };
}
