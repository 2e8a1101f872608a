/**
 * Setting a prepared version up: its setup runs in a fresh, staged scope, so
 * nothing it registers is live until the caller commits the scope.
 *
 * @module
 */

import { join } from "node:path";
import type { PreparedPlugin } from "../loader.ts";
import { Scope } from "../scope.ts";
import { removeSnapshot } from "../snapshots.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { LiveVersion, PluginRecord } from "./registry.ts";

/**
 * Sets a prepared version up in a fresh, staged scope (nothing is live yet).
 *
 * @param lc the lifecycle
 * @param record the plugin
 * @param prepared the version
 * @param previous what the active version handed over, on reload
 * @returns the version with its staged scope
 * @throws {PluginError} when setup fails or times out (the scope is disposed)
 */
export async function setUp(
  lc: Lifecycle,
  record: PluginRecord,
  prepared: PreparedPlugin,
  previous?: unknown,
  options: { reload?: boolean } = {},
): Promise<LiveVersion> {
  const { version, snapshot } = prepared;
  const scope = new Scope(version.manifest.name);
  if (snapshot) scope.onDispose(() => removeSnapshot(snapshot), "snapshot removal");
  const dataDir = join(lc.options.dataDir, "plugins", version.manifest.name);
  await Deno.mkdir(dataDir, { recursive: true }).catch(
    () => {/* read-only hosts: the plugin finds out when it writes */},
  );
  await version.start(lc.ports, {
    scope,
    source: record.source,
    config: prepared.config,
    previous,
    setupTimeout: lc.options.setupTimeout,
    dataDir,
    refuseStrayFailures: options.reload ?? false,
  });
  return { version, scope, snapshot };
}
