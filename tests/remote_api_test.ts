import assert from "node:assert/strict";
import * as remote from "../src/remote/mod.ts";

Deno.test("src/remote/mod.ts exports exactly the remote API (an accidental export fails)", () => {
  assert.deepEqual(Object.keys(remote).sort(), [
    "DEFAULT_MAX_GRAPH_BYTES",
    "DEFAULT_MAX_MODULES",
    "DEFAULT_MAX_MODULE_BYTES",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_TIMEOUT_MS",
    "LOCK_FILE",
    "PluginLock",
    "REMOTE_ERROR_CODES",
    "RemoteError",
    "RemotePlugins",
    "copySnapshot",
    "diffPins",
    "fetchModule",
    "formatChanges",
    "integrityOf",
    "isAllowedHost",
    "removeSnapshotCopy",
    "removeStaleRemoteSnapshots",
    "resolveRemotePlugin",
  ]);
});

Deno.test("every remote error code starts with REMOTE_ and is distinct", () => {
  assert.equal(new Set(remote.REMOTE_ERROR_CODES).size, remote.REMOTE_ERROR_CODES.length);
  for (const code of remote.REMOTE_ERROR_CODES) assert.match(code, /^REMOTE_[A-Z_]+$/);
  assert.equal(remote.REMOTE_ERROR_CODES.length, 8);
});
