/**
 * What the operator approved holds on every path that starts a plugin's
 * code: a crash restart cannot load an edited version with more
 * permissions, a manifest cannot change with what it is granted, and a
 * module cannot take another plugin's name (and so its data folder).
 * Each fixture is the attacker, loaded with the default isolation.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { folderHost, LOOPBACK, pluginSource, tempPlugins, waitFor } from "./_helpers.ts";

const SECRET_VAR = "PLUGBOARD_APPROVAL_TEST_SECRET";
const SECRET = "the-operator-secret";

/** Top-level code that writes whatever it can read of the secret into `file`. */
const leakTo = (file: string) =>
  `try { Deno.writeTextFileSync(${JSON.stringify(file)}, Deno.env.get(${
    JSON.stringify(SECRET_VAR)
  }) ?? "unread", { append: true }); } catch { /* not writable */ }\n`;

Deno.test("approval: a crash restart does not load an edited version that asks for more", async () => {
  Deno.env.set(SECRET_VAR, SECRET);
  await using tmp = await tempPlugins({
    "plugins/greedy/mod.ts": pluginSource("greedy", {
      setup: `ctx.routes.get("/crash", () => Deno.exit(1));`,
    }),
  });
  const leak = join(tmp.dir, "data", "plugins", "greedy", "leak.txt");
  const host = folderHost(tmp.dir, { isolation: "worker", hangTimeout: 300 });
  await host.start();
  try {
    assert.equal(host.get("greedy")!.state, "active");
    // Edited on disk: now it asks for the secret, and reads it at top level.
    await tmp.write(
      "plugins/greedy/mod.ts",
      leakTo(leak) + pluginSource("greedy", { extra: `permissions: { env: [${JSON.stringify(SECRET_VAR)}] },` }),
    );
    await assert.rejects(host.reload("greedy"), { code: "PERMISSION_DENIED", message: /asks for more permissions/ });
    assert.deepEqual(host.get("greedy")!.pendingPermissions, { env: [SECRET_VAR] });
    // The running (old) version crashes: its restart must not take the edited code's new permission.
    const res = await Promise.resolve(host.fetch(new Request("http://localhost/api/plugins/greedy/crash"), LOOPBACK));
    await res.body?.cancel();
    await waitFor(() => host.get("greedy")!.state === "failed", {
      timeoutMs: 15_000,
      what: "the restart to be refused",
    });
    assert.match(host.get("greedy")!.error!, /asks for more permissions/);
    assert.deepEqual(host.get("greedy")!.pendingPermissions, { env: [SECRET_VAR] });
    const leaked = existsSync(leak) ? await Deno.readTextFile(leak) : "";
    assert.doesNotMatch(leaked, new RegExp(SECRET), "the edited code never ran with the secret granted");
  } finally {
    await host.stop();
    Deno.env.delete(SECRET_VAR);
  }
});

Deno.test("approval: a manifest that changes with what it is granted is refused", async () => {
  Deno.env.set(SECRET_VAR, SECRET);
  await using tmp = await tempPlugins({
    // Asks for the secret when it does not have it, and shows an empty manifest once it does.
    "plugins/two-faced/mod.ts": `
      const granted = Deno.permissions.querySync({ name: "env", variable: ${
      JSON.stringify(SECRET_VAR)
    } }).state === "granted";
      export default {
        name: "two-faced",
        version: "1.0.0",
        permissions: granted ? {} : { env: [${JSON.stringify(SECRET_VAR)}] },
        setup(ctx) { ctx.routes.get("/", (c) => c.text(Deno.env.get(${JSON.stringify(SECRET_VAR)}) ?? "none")); },
      };`,
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    const info = host.get("two-faced")!;
    assert.equal(info.state, "failed");
    assert.equal(info.errorCode, "INVALID_PLUGIN");
    assert.match(info.error!, /its manifest changed once it was granted its permissions/);
    const res = await host.fetch(new Request("http://localhost/api/plugins/two-faced/"), LOOPBACK);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  } finally {
    await host.stop();
    Deno.env.delete(SECRET_VAR);
  }
});

Deno.test("approval: a module cannot take another plugin's name, nor its data folder", async () => {
  await using tmp = await tempPlugins({
    "plugins/victim/mod.ts": pluginSource("victim", {
      setup: `ctx.routes.get("/", async (c) => c.text(String(ctx.storage.get("row") ?? "none")));
        ctx.storage.set("row", "mine");`,
    }),
  });
  const planted = join(tmp.dir, "data", "plugins", "victim", "planted.txt");
  // Written after the victim's folder: discovery loads folders in order, and "spoof" comes after "victim" too.
  await tmp.write(
    "plugins/spoof/mod.ts",
    `try { Deno.writeTextFileSync(${JSON.stringify(planted)}, "planted"); } catch { /* refused */ }\n` +
      pluginSource("victim"),
  );
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    const spoof = host.list().find((p) => p.source.includes("/spoof/"))!;
    assert.equal(spoof.state, "failed");
    assert.match(spoof.error!, /calls itself "victim", but it was loaded as "spoof"/);
    assert.equal(existsSync(planted), false, "its top-level code never had the victim's data folder");
    assert.equal(host.get("victim")!.state, "active");
    const res = await host.fetch(new Request("http://localhost/api/plugins/victim/"), LOOPBACK);
    assert.equal(await res.text(), "mine");
  } finally {
    await host.stop();
  }
});

Deno.test("approval: it holds for the code it was given for; code changed after it asks again", async () => {
  Deno.env.set(SECRET_VAR, SECRET);
  await using tmp = await tempPlugins({ "plugins/swapper/mod.ts": pluginSource("swapper") });
  const leak = join(tmp.dir, "data", "plugins", "swapper", "leak.txt");
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    const asking = `permissions: { env: [${JSON.stringify(SECRET_VAR)}] },`;
    // The version the operator reviews: it asks for the secret, and does nothing with it.
    await tmp.write("plugins/swapper/mod.ts", pluginSource("swapper", { extra: asking }));
    await assert.rejects(host.reload("swapper"), { code: "PERMISSION_DENIED" });
    const reviewed = host.get("swapper")!.pendingHash;
    assert.match(reviewed!, /^sha256-[0-9a-f]{64}$/);
    // Swapped after the review, before the approval: same permissions, other code (it leaks the secret).
    await tmp.write("plugins/swapper/mod.ts", leakTo(leak) + pluginSource("swapper", { extra: asking }));
    await assert.rejects(host.approve("swapper"), { code: "PERMISSION_DENIED", message: /asks for more permissions/ });
    const pending = host.get("swapper")!;
    assert.deepEqual(pending.pendingPermissions, { env: [SECRET_VAR] });
    assert.notEqual(pending.pendingHash, reviewed, "the new code waits for its own approval");
    assert.equal(existsSync(leak) ? await Deno.readTextFile(leak) : "", "", "the swapped code never ran granted");
    // Approving what is now on disk (the operator saw its hash) lets it in.
    await host.approve("swapper");
    assert.equal(host.get("swapper")!.pendingPermissions, undefined);
    assert.deepEqual(host.get("swapper")!.permissions, { env: [SECRET_VAR] });
  } finally {
    await host.stop();
    Deno.env.delete(SECRET_VAR);
  }
});
