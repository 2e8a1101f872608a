/**
 * The floor under an isolated plugin: a worker with nothing of plugboard's
 * in it, started the way plugboard starts a plugin's worker
 * (`src/runtime/worker_runtime.ts`): a module file, `type: "module"`, and a
 * Deno permission object as narrow as an isolated plugin's (read and write
 * its own folder; no net, env, import, run, sys or ffi). The isolation group
 * times a round trip to one that echoes; the startup group starts many that
 * post one message when ready.
 *
 * @module
 */

import { join } from "node:path";

/** A module that posts one message as soon as it has loaded. */
export const READY_SOURCE = `self.postMessage(0);\n`;
/** A module that sends every message back. */
export const ECHO_SOURCE = `self.onmessage = (e) => self.postMessage(e.data);\n`;

/** A worker module written to a folder of its own. */
export interface FloorModule {
  /** The module's URL. */
  url: URL;
  /** Its folder: the one thing its workers may read and write. */
  dir: string;
  /** Removes the folder. */
  remove(): Promise<void>;
}

/**
 * Writes a worker module into a new temporary folder.
 *
 * @param source the module's text
 * @returns the module
 */
export async function writeFloorModule(source: string): Promise<FloorModule> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "plugboard-empty-worker-" }));
  const path = join(dir, "worker.js");
  await Deno.writeTextFile(path, source);
  return { url: new URL(`file://${path}`), dir, remove: () => Deno.remove(dir, { recursive: true }) };
}

/**
 * The permissions of a floor worker: the shape plugboard gives an isolated
 * plugin that declares nothing (`workerPermissions` in
 * `src/plugin_permissions.ts`), with the module's folder as the only path.
 *
 * @param dir the module's folder
 * @returns the permission object
 */
export function floorPermissions(dir: string): Deno.PermissionOptionsObject {
  return { read: [dir], write: [dir], net: false, env: false, import: false, run: false, sys: false, ffi: false };
}

/**
 * Starts a worker on a floor module with plugboard's worker options.
 *
 * @param module the module
 * @param name the worker's name
 * @returns the worker
 */
export function startFloorWorker(module: FloorModule, name: string): Worker {
  return new Worker(module.url, { type: "module", name, deno: { permissions: floorPermissions(module.dir) } });
}
