/**
 * The plugins-folder watcher: one report per save, whatever pattern of
 * events the editor writes, and a report for each later save. The tests
 * assert counts and states; the settle window is widened (30 ms) so that a
 * busy machine pausing the test between two writes of one save does not turn
 * it into two saves.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type FolderChange, type WatchOptions, watchPluginFolders } from "../src/watcher.ts";

const SETTLE_MS = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A watched temporary plugins folder that records every report. */
async function watched(options: WatchOptions = { settleMs: SETTLE_MS }) {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "plugboard-watch-" }));
  await Deno.mkdir(join(dir, "alpha", "lib"), { recursive: true });
  await Deno.mkdir(join(dir, "beta"), { recursive: true });
  await Deno.writeTextFile(join(dir, "alpha", "mod.ts"), "export default 0;\n");
  await Deno.writeTextFile(join(dir, "alpha", "lib", "a.ts"), "export const a = 0;\n");
  await Deno.writeTextFile(join(dir, "beta", "mod.ts"), "export default 0;\n");
  const reports: { folder: string; change: FolderChange }[] = [];
  let waiters: (() => void)[] = [];
  const watch = watchPluginFolders(dir, (folder, change) => {
    reports.push({ folder: folder.slice(dir.length + 1), change });
    for (const w of waiters) w();
    waiters = [];
  }, options);
  // Let the watch start and any event of the set-up writes drain.
  await sleep(100);
  reports.length = 0;
  return {
    dir,
    reports,
    path: (p: string) => join(dir, p),
    /** Waits until `n` reports arrived (fails after 5 s). */
    async until(n: number) {
      const deadline = Date.now() + 5000;
      while (reports.length < n) {
        if (Date.now() > deadline) throw new Error(`Expected ${n} reports, got ${JSON.stringify(reports)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    /** Lets any late report of the same save arrive: ten settle windows. */
    quiet: () => sleep(SETTLE_MS * 10),
    async [Symbol.asyncDispose]() {
      watch.close();
      await Deno.remove(dir, { recursive: true });
    },
    close: () => watch.close(),
  };
}

Deno.test("watchPluginFolders(): a truncate followed by a write is one change", async () => {
  await using w = await watched();
  const file = w.path("alpha/mod.ts");
  using f = await Deno.open(file, { write: true, truncate: true });
  await sleep(2);
  await f.write(new TextEncoder().encode("export default 1;\n"));
  await w.until(1);
  await w.quiet();
  assert.deepEqual(w.reports, [{ folder: "alpha", change: "changed" }]);
});

Deno.test("watchPluginFolders(): a temporary file renamed over the original is one change", async () => {
  await using w = await watched();
  await Deno.writeTextFile(w.path("alpha/mod.ts.tmp-123"), "export default 2;\n");
  await Deno.writeTextFile(w.path("alpha/.mod.ts.swp"), "swap");
  await Deno.rename(w.path("alpha/mod.ts.tmp-123"), w.path("alpha/mod.ts"));
  await Deno.remove(w.path("alpha/.mod.ts.swp"));
  await w.until(1);
  await w.quiet();
  assert.deepEqual(w.reports, [{ folder: "alpha", change: "changed" }]);
});

Deno.test("watchPluginFolders(): three files written within a few ms are one change", async () => {
  await using w = await watched();
  await Deno.writeTextFile(w.path("alpha/lib/a.ts"), "export const a = 1;\n");
  await sleep(2);
  await Deno.writeTextFile(w.path("alpha/lib/b.ts"), "export const b = 1;\n");
  await sleep(2);
  await Deno.writeTextFile(w.path("alpha/mod.ts"), "export default 3;\n");
  await w.until(1);
  await w.quiet();
  assert.deepEqual(w.reports, [{ folder: "alpha", change: "changed" }]);
});

Deno.test("watchPluginFolders(): a save after the previous one settled is reported again", async () => {
  await using w = await watched();
  await Deno.writeTextFile(w.path("alpha/mod.ts"), "export default 4;\n");
  await w.until(1);
  await w.quiet();
  await Deno.writeTextFile(w.path("alpha/mod.ts"), "export default 5;\n");
  await w.until(2);
  await w.quiet();
  assert.deepEqual(w.reports, [{ folder: "alpha", change: "changed" }, { folder: "alpha", change: "changed" }]);
});

Deno.test("watchPluginFolders(): two plugin folders saved together are reported once each", async () => {
  await using w = await watched();
  await Promise.all([
    Deno.writeTextFile(w.path("alpha/mod.ts"), "export default 6;\n"),
    Deno.writeTextFile(w.path("beta/mod.ts"), "export default 6;\n"),
  ]);
  await w.until(2);
  await w.quiet();
  assert.deepEqual(w.reports.map((r) => r.folder).sort(), ["alpha", "beta"]);
});

Deno.test("watchPluginFolders(): a deleted folder is reported once as removed", async () => {
  await using w = await watched();
  await Deno.remove(w.path("beta"), { recursive: true });
  await w.until(1);
  await w.quiet();
  assert.deepEqual(w.reports, [{ folder: "beta", change: "removed" }]);
});

Deno.test("watchPluginFolders(): editor temp files, dot-folders and _-folders alone report nothing", async () => {
  await using w = await watched();
  await Deno.writeTextFile(w.path("alpha/mod.ts~"), "backup");
  await Deno.writeTextFile(w.path("alpha/4913"), "");
  await Deno.mkdir(w.path(".alpha@1"));
  await Deno.writeTextFile(w.path(".alpha@1/mod.ts"), "snapshot");
  await Deno.mkdir(w.path("_shared"));
  await Deno.writeTextFile(w.path("_shared/util.ts"), "");
  await w.quiet();
  assert.deepEqual(w.reports, []);
});

Deno.test("watchPluginFolders(): events that never stop are reported by the maxWaitMs cap, not held back", async () => {
  await using w = await watched({ settleMs: SETTLE_MS, maxWaitMs: 100 });
  let writing = true;
  const writer = (async () => {
    // A write every 5 ms for about a second: never quiet for the settle window.
    for (let i = 0; i < 200 && w.reports.length === 0; i++) {
      await Deno.writeTextFile(w.path("alpha/lib/a.ts"), `export const a = ${i};\n`);
      await sleep(5);
    }
    writing = false;
  })();
  await w.until(1);
  const stillWriting = writing;
  await writer;
  assert.equal(stillWriting, true, "the report waited for the writes to stop");
});

Deno.test("watchPluginFolders(): close() drops a pending report", async () => {
  await using w = await watched();
  await Deno.writeTextFile(w.path("alpha/mod.ts"), "export default 7;\n");
  w.close();
  await w.quiet();
  assert.deepEqual(w.reports, []);
});

Deno.test("watchPluginFolders(): the deprecated debounceMs still sets the quiet time", async () => {
  await using w = await watched({ debounceMs: SETTLE_MS });
  using f = await Deno.open(w.path("alpha/mod.ts"), { write: true, truncate: true });
  await sleep(5);
  await f.write(new TextEncoder().encode("export default 8;\n"));
  await w.until(1);
  await w.quiet();
  assert.equal(w.reports.length, 1);
});

Deno.test("watchPluginFolders(): a negative settle window is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.throws(() => watchPluginFolders(dir, () => {}, { settleMs: -1 }), RangeError);
  } finally {
    await Deno.remove(dir);
  }
});
