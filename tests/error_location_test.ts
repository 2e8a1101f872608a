/** Where an error points: `src/error_location.ts`. */

import assert from "node:assert/strict";
import { findLocation } from "../src/error_location.ts";

/** An error whose stack reads as given. */
function withStack(stack: string): Error {
  const error = new Error("failed");
  error.stack = stack;
  return error;
}

Deno.test("findLocation: runtime specifiers are no files; real paths and URLs are", () => {
  const stack = withStack([
    "Error: failed",
    "    at listOnTimeout (node:internal/timers.mjs:4:810)",
    "    at processTimers (ext:deno_web/02_timers.js:12:3)",
    "    at handler (file:///srv/plugins/a/mod.ts:6:3)",
  ].join("\n"));
  assert.deepEqual(findLocation(stack), { file: "/srv/plugins/a/mod.ts", line: 6, column: 3 });
  assert.deepEqual(findLocation(withStack("    at x (/srv/lib/util.js:2:9)")), {
    file: "/srv/lib/util.js",
    line: 2,
    column: 9,
  });
  assert.deepEqual(findLocation(withStack("    at y (https://cdn.test/m.js:1:1)")), {
    file: "https://cdn.test/m.js",
    line: 1,
    column: 1,
  });
  assert.equal(findLocation(withStack("    at z (node:internal/timers.mjs:4:810)")), undefined);
});

Deno.test("findLocation: what `skip` names is passed over; inside `within` is preferred", () => {
  const stack = withStack([
    "    at crash (file:///opt/plugboard/src/runtime/worker_version.ts:276:12)",
    "    at route (file:///srv/plugins/a/lib.ts:3:1)",
    "    at setup (file:///srv/plugins/a/mod.ts:9:2)",
  ].join("\n"));
  const own = (file: string) => file.startsWith("/opt/plugboard/src/");
  assert.equal(findLocation(stack)?.file, "/opt/plugboard/src/runtime/worker_version.ts");
  assert.equal(findLocation(stack, undefined, undefined, own)?.file, "/srv/plugins/a/lib.ts");
  assert.equal(findLocation(stack, "/srv/plugins/a/mod")?.file, "/srv/plugins/a/mod.ts");
  assert.equal(
    findLocation(withStack("    at crash (file:///opt/plugboard/src/x.ts:1:1)"), undefined, undefined, own),
    undefined,
  );
});
