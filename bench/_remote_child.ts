/**
 * One measured run of the URL-plugin benchmark, in a fresh process. Prints
 * `{ "ms": <number> }` as its last line.
 *
 * `deno run -A bench/_remote_child.ts <mode> <url> <snapshotRoot> <lockPath>`
 * where mode is `cold`, `warm`, `offline` or `reload`.
 *
 * @module
 */

import { copySnapshot, PluginLock, resolveRemotePlugin } from "../src/remote/mod.ts";

const [mode, url, snapshotRoot, lockPath] = Deno.args;
const allowImport = [new URL(url).host];
const lock = await PluginLock.read(lockPath);

async function once(network: "auto" | "never", generation?: number): Promise<void> {
  const resolved = await resolveRemotePlugin(url, { allowImport, lock, snapshotRoot, network });
  const entry = generation === undefined ? resolved.entryUrl : (await copySnapshot(resolved, generation)).entryUrl;
  const mod = await import(entry);
  if (typeof mod.default?.sum !== "number") throw new Error("the plugin did not load");
  if (mode === "cold") {
    lock.set(url, { ...resolved.pins, name: mod.default.name, version: mod.default.version });
    await lock.write();
  }
}

let ms: number;
if (mode === "reload") {
  await once("auto");
  const n = 20;
  const started = performance.now();
  for (let i = 1; i <= n; i++) await once("auto", i);
  ms = (performance.now() - started) / n;
} else {
  const started = performance.now();
  await once(mode === "offline" ? "never" : "auto");
  ms = performance.now() - started;
}
console.log(JSON.stringify({ ms }));
