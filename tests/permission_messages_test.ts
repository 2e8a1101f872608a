/**
 * Issue #23, part D: every permission message names a manifest field that
 * exists. Deno's `Requires all access` has no field (there is no
 * `permissions.all`): the message names the real ones and the operator's way out.
 */

import assert from "node:assert/strict";
import { explainPermissionError } from "../src/runtime/permission_messages.ts";

const FIELDS = ["read", "write", "net", "env", "import", "run", "sys"];

function explain(kind: string, target = ""): string {
  const denied = new Deno.errors.NotCapable(
    `Requires ${kind} access${target ? ` to "${target}"` : ""}, run again with the --allow-${kind} flag`,
  );
  return (explainPermissionError("hostile", denied) as Error).message;
}

Deno.test("a permission message only ever names a manifest field that exists", () => {
  for (const kind of ["all", "hrtime", "ffi", ...FIELDS]) {
    const message = explain(kind, "x");
    for (const named of message.matchAll(/permissions\.(\w+)/g)) {
      assert.ok(FIELDS.includes(named[1]), `"${message}" names permissions.${named[1]}`);
    }
  }
  for (const field of FIELDS) assert.match(explain(field, "x"), new RegExp(`declare it in permissions\\.${field} `));
});

Deno.test("Requires all access: the message names the real fields and --trust, not permissions.all", () => {
  const message = explain("all");
  assert.equal(
    message,
    'Plugin "hostile" may not use every permission: an isolated plugin gets only what its manifest declares in ' +
      "permissions (read, write, net, env, import, run, sys), and this needs more than those give. Do without it, " +
      "or ask the operator to trust the plugin (--trust hostile)",
  );
  assert.equal(
    explain("ffi", "/x.so"),
    'Plugin "hostile" may not load native code "/x.so": plugins are never granted ffi',
  );
});
