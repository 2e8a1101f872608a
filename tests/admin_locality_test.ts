/**
 * Issue #23, part B: in no-key mode the admin API answers only requests
 * addressed to this machine (`Host`) from no other origin (`Origin`), even
 * with the token. `Host` is parsed as the URL standard parses a host, so
 * `localhost:80@evil.example` names evil.example; `Origin` must match the
 * server's scheme, host and port, so an `https://` page is not the `http://`
 * server.
 */

import assert from "node:assert/strict";
import { serve } from "../mod.ts";
import { hostNameOf, isLocalHost, sameOrigin } from "../src/http/locality.ts";
import { LOOPBACK, quietHost } from "./_helpers.ts";

Deno.test("Host: plain loopback names with a port pass; userinfo, paths and non-canonical forms are refused", () => {
  for (const host of ["localhost", "localhost:8000", "LocalHost:80", "127.0.0.1:8000", "127.9.9.9", "[::1]:8000"]) {
    assert.equal(isLocalHost(host, []), true, host);
  }
  assert.equal(isLocalHost("box.lan:8000", ["box.lan"]), true);
  const refused = [
    "localhost:80@evil.com", // userinfo: the host is evil.com
    "localhost@evil.com",
    "user:pw@127.0.0.1",
    "evil.com\\@localhost", // a backslash ends the host in http URLs
    "localhost:8000/x", // a path
    "localhost?x",
    "localhost#x",
    "localhost:", // a port must have digits
    "localhost:99999",
    "localhost:8000:9000",
    "2130706433", // decimal, hex and short IPv4 that a URL parser turns into 127.0.0.1
    "0x7f000001",
    "127.1",
    "loc%61lhost", // percent-escapes and full-width letters the parser maps to "localhost"
    "ｌｏｃａｌｈｏｓｔ",
    "localhost.",
    "127.0.0.1.evil.com",
    "rebind.attacker.example",
    "",
  ];
  for (const host of refused) assert.equal(isLocalHost(host, []), false, host);
  assert.equal(hostNameOf("localhost:80@evil.com"), undefined);
});

Deno.test("Origin: scheme, host and port must all be the server's", () => {
  const server = "http://127.0.0.1:8000";
  assert.equal(sameOrigin("http://127.0.0.1:8000", server), true);
  for (const origin of ["https://127.0.0.1:8000", "http://127.0.0.1:8001", "http://localhost:8000", "null", ""]) {
    assert.equal(sameOrigin(origin, server), false, origin);
  }
  assert.equal(sameOrigin("http://127.0.0.1:8000/path", server), false, "not a serialised origin");
  assert.equal(sameOrigin("http://user@127.0.0.1:8000", server), false, "not a serialised origin");
});

Deno.test("no-key mode over HTTP: userinfo in Host and an https Origin are 403 with the token; the server's own origin passes", async () => {
  const host = quietHost({ pluginsDir: null });
  await host.start();
  const server = serve(host, { port: 0, hostname: "127.0.0.1" });
  await using _ = { [Symbol.asyncDispose]: () => server.shutdown() };
  const own = `127.0.0.1:${server.addr.port}`;
  const token = { "x-api-key": host.adminKey };
  const get = async (headers: Record<string, string>) => {
    const res = await host.fetch(
      new Request(`http://${own}/api/plugins`, { headers: { ...token, ...headers } }),
      LOOPBACK,
    );
    return { status: res.status, detail: (await res.json()).detail as string | undefined };
  };
  const userinfo = await get({ host: "localhost:80@evil.com" });
  assert.equal(userinfo.status, 403);
  assert.match(userinfo.detail!, /Host is "localhost:80@evil.com"/);
  const https = await get({ host: own, origin: `https://${own}` });
  assert.equal(https.status, 403);
  assert.match(https.detail!, /scheme, host and port must be the server's own/);
  assert.equal((await get({ host: own, origin: `http://127.0.0.1` })).status, 403, "another port");
  assert.equal((await get({ host: own, origin: `http://${own}` })).status, 200);
  assert.equal((await get({ host: own })).status, 200);
  // The same over a real socket: Deno's server passes such a Host on, and the guard refuses it.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  await conn.write(
    new TextEncoder().encode(
      `GET /api/plugins HTTP/1.1\r\nHost: localhost:80@evil.com\r\nX-API-Key: ${host.adminKey}\r\n` +
        `Connection: close\r\n\r\n`,
    ),
  );
  const raw = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
  assert.match(raw, /^HTTP\/1.1 403 /);
  const viaSocket = await fetch(`http://${own}/api/plugins`, { headers: { ...token, origin: `https://${own}` } });
  assert.equal(viaSocket.status, 403);
  await viaSocket.body?.cancel();
});
