/**
 * Hot reload: the time from a file write to the new version answering over
 * HTTP (through the watcher), the time of `host.reload()` alone, and the
 * memory each reload retains (ES modules cannot be unloaded). Runs in a
 * fresh process with --expose-gc.
 *
 * @module
 */

/**
 * Runs the reload benchmark.
 *
 * @returns the figures
 */
export async function runStandalone(filter?: RegExp): Promise<unknown> {
  if (filter && !filter.test("reload")) return undefined;
  const reloads = Number(Deno.env.get("BENCH_RELOADS") ?? 1000);
  console.log(`\n• hot reload (a two-file plugin; ${reloads} reloads for memory)`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--expose-gc",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1",
      new URL("./_reload_child.ts", import.meta.url).pathname,
      "30",
      String(reloads),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  console.log(
    `save → new version served   median ${r.saveToServedMs.median.toFixed(1)} ms   p99 ${
      r.saveToServedMs.p99.toFixed(1)
    } ms  (includes the watcher's 80 ms debounce)`,
  );
  console.log(
    `host.reload()               median ${r.reloadMs.median.toFixed(2)} ms   p99 ${r.reloadMs.p99.toFixed(2)} ms`,
  );
  console.log(
    `retained per reload         heap ${kb(r.memory.heapBytesPerReload)}   RSS ${kb(r.memory.rssBytesPerReload)}`,
  );
  return r;
}
