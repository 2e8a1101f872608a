/**
 * Issue #23, part A: plugins are on loopback, so being on loopback must never
 * make a request the operator's. A hostile isolated plugin granted the
 * network to the server's own port tries the admin API (list, load, unload,
 * approve its own pending permission) every way it can; the operator, with
 * the host's admin token, can.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { serve } from "../mod.ts";
import { LOOPBACK, quietHost, tempPlugins } from "./_helpers.ts";

/** A plugin whose route `/attack` calls the admin API from its worker and answers the statuses it got. */
function hostile(port: number, version: string, extraPermissions = "") {
  return `
const base = "http://127.0.0.1:${port}";
export default {
  name: "hostile",
  version: "${version}",
  permissions: { net: ["127.0.0.1:${port}", "localhost:${port}"] ${extraPermissions} },
  setup(ctx) {
    ctx.routes.get("/attack", async (c) => {
      const tries = {
        list: [base + "/api/plugins", {}],
        listViaLocalhost: ["http://localhost:${port}/api/plugins", {}],
        forwardedFor: [base + "/api/plugins", { headers: { "x-forwarded-for": "127.0.0.1" } }],
        sameOrigin: [base + "/api/plugins", { headers: { origin: base } }],
        emptyKey: [base + "/api/plugins", { headers: { "x-api-key": "" } }],
        guessedBearer: [base + "/api/plugins", { headers: { authorization: "Bearer " + "0".repeat(64) } }],
        approveSelf: [base + "/api/plugins/hostile:approve", { method: "POST" }],
        approveSelfJson: [base + "/api/plugins/hostile:approve",
          { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }],
        load: [base + "/api/plugins",
          { method: "POST", headers: { "content-type": "application/json" }, body: '{"source":"hostile"}' }],
        unloadOther: [base + "/api/plugins/victim", { method: "DELETE" }],
      };
      const statuses = {};
      for (const [name, [url, init]] of Object.entries(tries)) {
        const res = await fetch(url, init);
        statuses[name] = res.status;
        await res.body?.cancel();
      }
      return c.json(statuses);
    });
  },
};
`;
}

Deno.test("a hostile isolated plugin with the server's port cannot use the admin API; the operator's token can", async () => {
  await using tmp = await tempPlugins({
    "victim/mod.ts": `export default { name: "victim", version: "1.0.0", setup() {} };`,
  });
  const host = quietHost({
    pluginsDir: tmp.dir,
    dataDir: join(tmp.dir, ".data"),
    isolation: "worker",
    setupTimeout: 20_000,
  });
  await host.start();
  const server = serve(host, { port: 0, hostname: "127.0.0.1" });
  await using _ = { [Symbol.asyncDispose]: () => server.shutdown() };
  const { port } = server.addr;
  const base = `http://127.0.0.1:${port}`;
  await tmp.write("hostile/mod.ts", hostile(port, "1.0.0"));
  const loaded = await host.load(join(tmp.dir, "hostile"));
  assert.equal(loaded.state, "active");
  assert.equal(loaded.isolation, "worker");

  // A new version asks for an env permission: it waits for the operator's approval.
  await tmp.write("hostile/mod.ts", hostile(port, "2.0.0", `, env: ["HOME"]`));
  await assert.rejects(host.reload("hostile"), /asks for more permissions \(env: HOME\)/);
  assert.deepEqual(host.get("hostile")!.pendingPermissions, { env: ["HOME"] });

  const attack = await fetch(`${base}/api/plugins/hostile/attack`);
  assert.equal(attack.status, 200);
  const statuses: Record<string, number> = await attack.json();
  for (const [attempt, status] of Object.entries(statuses)) {
    assert.ok(status === 401 || status === 403, `${attempt} answered ${status}`);
  }
  assert.equal(Object.keys(statuses).length, 10);
  assert.equal(host.get("hostile")!.version, "1.0.0", "still waiting for approval");
  assert.deepEqual(host.get("hostile")!.pendingPermissions, { env: ["HOME"] });
  assert.equal(host.get("victim")!.state, "active");
  const refusals = host.logs.filter((r) => r.level === "warn" && /^Admin .* refused with 40[13]/.test(r.message));
  assert.equal(refusals.length, 10, "every attempt is logged as refused");

  // The operator, on the same loopback, with the host's token.
  const operator = { "x-api-key": host.adminKey };
  const list = await fetch(`${base}/api/plugins`, { headers: operator });
  assert.equal(list.status, 200);
  assert.deepEqual((await list.json()).plugins.map((p: { name: string }) => p.name).sort(), ["hostile", "victim"]);
  const approved = await fetch(`${base}/api/plugins/hostile:approve`, {
    method: "POST",
    headers: { authorization: `Bearer ${host.adminKey}` },
  });
  assert.equal(approved.status, 200);
  assert.equal((await approved.json()).version, "2.0.0");
  assert.deepEqual(host.get("hostile")!.permissions?.env, ["HOME"]);
});

Deno.test("without an apiKey the host makes a token: asked of loopback clients too, not guessable, kept per host", async () => {
  const host = quietHost({ pluginsDir: null });
  const other = quietHost({ pluginsDir: null });
  assert.match(host.adminKey, /^[0-9a-f]{64}$/);
  assert.notEqual(host.adminKey, other.adminKey);
  const list = (headers: HeadersInit) =>
    Promise.resolve(host.fetch(new Request("http://127.0.0.1/api/plugins", { headers }), LOOPBACK));
  const none = await list({});
  assert.equal(none.status, 401);
  assert.match(none.headers.get("www-authenticate")!, /^APIKey realm="plugboard admin API", header="X-API-Key"/);
  assert.match((await none.json()).detail, /the token the server made at start/);
  assert.equal((await list({ "x-api-key": other.adminKey })).status, 401);
  assert.equal((await list({ authorization: `Basic ${btoa(`x:${host.adminKey}`)}` })).status, 401);
  assert.equal((await list({ "x-api-key": host.adminKey })).status, 200);
  assert.equal((await list({ authorization: `bearer ${host.adminKey}` })).status, 200);
  // The operator's key is the admin key when set: the host makes none.
  const keyed = quietHost({ pluginsDir: null, apiKey: "s3cret-admin-key-0123456789" });
  assert.equal(keyed.adminKey, "s3cret-admin-key-0123456789");
});
