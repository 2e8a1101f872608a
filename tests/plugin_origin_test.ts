/**
 * A plugin's routes share the server's origin with the dashboard: no
 * isolated plugin's route sees the operator's session cookie, and its pages
 * run in a sandbox without that origin, so neither its server code nor a
 * script of its page can act as the operator.
 *
 * @module
 */

import assert from "node:assert/strict";
import { folderHost, LOOPBACK, tempPlugins } from "./_helpers.ts";
import { ISOLATED_PAGE_POLICY } from "../src/runtime/wire_http.ts";

const ECHO = (name: string) =>
  `export default { name: "${name}", version: "1.0.0", setup(ctx) {
    ctx.routes.get("/page", (c) => c.html("<script>fetch('/admin')</script>" + (c.req.header("cookie") ?? "none")));
  } };`;

Deno.test("isolated plugin routes never see the dashboard's session, and their pages are sandboxed", async () => {
  await using tmp = await tempPlugins({ "plugins/evil/mod.ts": ECHO("evil"), "plugins/friend/mod.ts": ECHO("friend") });
  const host = folderHost(tmp.dir, { isolation: "worker", trusted: ["friend"] });
  await host.start();
  try {
    const get = async (name: string, cookie: string) => {
      const res = await Promise.resolve(
        host.fetch(new Request(`http://localhost/api/plugins/${name}/page`, { headers: { cookie } }), LOOPBACK),
      );
      return { csp: res.headers.get("content-security-policy"), body: await res.text() };
    };
    const evil = await get("evil", "theme=dark; plugboard_session=the-operators-session; lang=en");
    assert.match(evil.body, /theme=dark; lang=en$/);
    assert.doesNotMatch(evil.body, /the-operators-session/);
    assert.equal(evil.csp, ISOLATED_PAGE_POLICY);
    assert.doesNotMatch(evil.csp!, /allow-same-origin/);
    assert.match((await get("evil", "plugboard_session=only")).body, /none$/);
    // A trusted plugin runs with the host's permissions (it could read the key itself): it is sent the request as is.
    const friend = await get("friend", "plugboard_session=the-operators-session; theme=dark");
    assert.match(friend.body, /theme=dark$/);
    assert.equal(friend.csp, null, "a trusted plugin's pages keep the server's origin");
  } finally {
    await host.stop();
  }
});
