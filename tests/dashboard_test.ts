/**
 * The dashboard over HTTP, without a browser: login and its cookie, reading
 * without JavaScript, actions with and without the session's CSRF token,
 * problems shown in place, and every asset served by plugboard itself.
 */

import assert from "node:assert/strict";
import { keyId } from "../src/http/auth.ts";
import { join } from "node:path";
import { folderHost, LOOPBACK, pluginSource, quietHost, serveStatic, tempPlugins } from "./_helpers.ts";

const KEY = "dashboard-test-key-0123456789abcdef";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

type TestHost = ReturnType<typeof quietHost>;

async function login(host: TestHost, key = KEY, base = "http://127.0.0.1") {
  const res = await host.fetch(
    new Request(`${base}/admin/login`, { method: "POST", headers: FORM, body: new URLSearchParams({ key }) }),
    LOOPBACK,
  );
  return res;
}

/** A dashboard form posted as a browser without JavaScript sends it. */
function postForm(host: TestHost, path: string, cookie: string, fields: Record<string, string>) {
  return Promise.resolve(host.fetch(
    new Request(`http://127.0.0.1${path}`, {
      method: "POST",
      headers: { ...FORM, cookie },
      body: new URLSearchParams(fields),
    }),
    LOOPBACK,
  ));
}

async function session(host: TestHost): Promise<{ cookie: string; csrf: string }> {
  const res = await login(host);
  assert.equal(res.status, 303);
  const cookie = res.headers.get("set-cookie")!.split(";")[0];
  const page = await (await host.fetch(new Request("http://127.0.0.1/admin", { headers: { cookie } }), LOOPBACK))
    .text();
  const csrf = /name="csrf-token" content="([0-9a-f]+)"/.exec(page)![1];
  return { cookie, csrf };
}

Deno.test("dashboard: / redirects to /admin, which asks to log in; a wrong key is refused in place", async () => {
  const host = quietHost({ pluginsDir: null, apiKey: KEY });
  try {
    const root = await host.fetch(new Request("http://127.0.0.1/"), LOOPBACK);
    assert.equal(root.status, 302);
    assert.equal(root.headers.get("location"), "/admin");
    const page = await host.fetch(new Request("http://127.0.0.1/admin"), LOOPBACK);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("x-frame-options"), "DENY", "never in a frame");
    assert.equal(page.headers.get("content-security-policy"), "frame-ancestors 'none'");
    const html = await page.text();
    assert.match(html, /<form method="post" action="\/admin\/login">/);
    assert.ok(!html.includes("Plugins ("), "no plugin is shown before login");
    const wrong = await login(host, "not-the-key-0123456789");
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.match(
      await wrong.text(),
      /role="alert" data-problem="true">401 Unauthorized \(UNAUTHORIZED\): The key sent is not/,
    );
    assert.ok(host.logs.some((r) => r.level === "warn" && /dashboard login refused with 401/.test(r.message)));
  } finally {
    await host.stop();
  }
});

Deno.test("dashboard: the session cookie is HttpOnly and SameSite=Strict, and Secure over TLS", async () => {
  const host = quietHost({ pluginsDir: null, apiKey: KEY });
  try {
    const plain = await login(host);
    assert.equal(plain.status, 303);
    const cookie = plain.headers.get("set-cookie")!;
    assert.match(cookie, /^plugboard_session=[0-9a-f]{48}; Path=\/admin; HttpOnly; SameSite=Strict$/);
    assert.ok(!cookie.includes(KEY), "the key itself is never in the cookie");
    const tls = await login(host, KEY, "https://127.0.0.1");
    assert.match(tls.headers.get("set-cookie")!, /; HttpOnly; SameSite=Strict; Secure$/);
    // The login's audit line names the key by its id, never the key itself.
    const line = host.logs.find((r) => /^Admin dashboard login \(session/.test(r.message))!.message;
    assert.match(line, new RegExp(`key ${keyId(KEY)}, client 127\\.0\\.0\\.1\\)$`));
    assert.ok(!line.includes(KEY));
  } finally {
    await host.stop();
  }
});

Deno.test('dashboard: behind a proxy that terminates TLS, secureCookie "always" marks the cookie Secure', async () => {
  const host = quietHost({ pluginsDir: null, apiKey: KEY, observability: { secureCookie: "always" } });
  try {
    const res = await login(host);
    assert.equal(res.status, 303);
    assert.match(res.headers.get("set-cookie")!, /; HttpOnly; SameSite=Strict; Secure$/);
  } finally {
    await host.stop();
  }
  assert.throws(
    () => quietHost({ pluginsDir: null, apiKey: KEY, observability: { secureCookie: "yes" as "always" } }),
    /secureCookie/,
  );
});

Deno.test("dashboard: reading works without JavaScript: every plugin with its registrations", async () => {
  const busy = pluginSource("busy", {
    setup:
      `ctx.events.on("task.*", () => {}); ctx.services.provide("busy", {}); ctx.routes.get("/x", (c) => c.text("x"));`,
  });
  await using tmp = await tempPlugins({ "plugins/busy/mod.ts": busy });
  const host = folderHost(tmp.dir, { apiKey: KEY });
  try {
    await host.start();
    const { cookie } = await session(host);
    const html = await (await host.fetch(new Request("http://127.0.0.1/admin", { headers: { cookie } }), LOOPBACK))
      .text();
    assert.match(html, /<article class="plugin" id="plugin-busy" data-name="busy" data-state="active">/);
    for (const text of ["task.*", "GET /api/plugins/busy/x", "<li>busy</li>", 'data-reloads="0"']) {
      assert.ok(html.includes(text), `the page shows ${text}`);
    }
    assert.match(html, /<img class="chart" src="\/admin\/plugins\/busy\/chart.svg"/);
    const chart = await host.fetch(
      new Request("http://127.0.0.1/admin/plugins/busy/chart.svg", { headers: { cookie } }),
      LOOPBACK,
    );
    assert.equal(chart.headers.get("content-type"), "image/svg+xml");
    assert.match(await chart.text(), /^<svg/);
    // No session: neither the chart nor the fragment.
    const anon = await host.fetch(new Request("http://127.0.0.1/admin/plugins/busy/chart.svg"), LOOPBACK);
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
  } finally {
    await host.stop();
  }
});

Deno.test("dashboard: an action needs the session and its CSRF token; a stale or missing token is refused", async () => {
  const hello = pluginSource("hello", { setup: `ctx.routes.get("/", (c) => c.text("hi"));` });
  await using tmp = await tempPlugins({ "plugins/hello/mod.ts": hello });
  const host = folderHost(tmp.dir, { apiKey: KEY });
  try {
    await host.start();
    const { cookie, csrf } = await session(host);
    const reload = (headers: Record<string, string>, body: Record<string, string>) =>
      host.fetch(
        new Request("http://127.0.0.1/admin/plugins/hello/reload", {
          method: "POST",
          headers: { ...FORM, "hx-request": "true", ...headers },
          body: new URLSearchParams(body),
        }),
        LOOPBACK,
      );
    const noSession = await reload({}, { _csrf: csrf });
    assert.equal(noSession.status, 401);
    assert.equal(noSession.headers.get("content-type"), "application/problem+json");
    await noSession.body?.cancel();
    const missing = await reload({ cookie }, {});
    assert.equal(missing.status, 403);
    assert.match((await missing.json()).detail, /CSRF token is missing or stale/);
    const stale = await reload({ cookie }, { _csrf: "0".repeat(48) });
    assert.equal(stale.status, 403);
    await stale.body?.cancel();
    // Another session's token is stale for this one.
    const other = await session(host);
    const crossed = await reload({ cookie }, { _csrf: other.csrf });
    assert.equal(crossed.status, 403);
    await crossed.body?.cancel();
    assert.equal(host.get("hello")?.reloads, 0, "nothing refused ran");
    const ok = await reload({ cookie }, { _csrf: csrf });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /<section id="plugins">[\s\S]*data-reloads="1"/);
    assert.equal(host.get("hello")?.reloads, 1);
    const viaHeader = await reload({ cookie, "x-csrf-token": csrf }, {});
    assert.equal(viaHeader.status, 200);
    await viaHeader.body?.cancel();
    assert.ok(
      host.logs.some((r) => /^Admin dashboard reload "hello" answered 200 \(session [0-9a-f]{8}/.test(r.message)),
    );
    assert.ok(
      host.logs.some((r) => r.level === "warn" && /^Admin dashboard reload "hello" answered 403/.test(r.message)),
    );
    // Without htmx the form posts and is redirected back.
    const plain = await postForm(host, "/admin/plugins/hello/unload", cookie, { _csrf: csrf });
    assert.equal(plain.status, 303);
    assert.equal(host.get("hello")?.state, "unloaded");
    // Logging out ends the session: its token no longer works.
    const out = await host.fetch(
      new Request("http://127.0.0.1/admin/logout", {
        method: "POST",
        headers: { ...FORM, cookie },
        body: new URLSearchParams({ _csrf: csrf }),
      }),
      LOOPBACK,
    );
    assert.equal(out.status, 303);
    assert.match(out.headers.get("set-cookie")!, /^plugboard_session=; Max-Age=0/);
    const after = await reload({ cookie }, { _csrf: csrf });
    assert.equal(after.status, 401);
    await after.body?.cancel();
  } finally {
    await host.stop();
  }
});

Deno.test("dashboard: a failed load answers problem+json to htmx, and shows it in place without JavaScript", async () => {
  const host = quietHost({ pluginsDir: null, apiKey: KEY });
  try {
    const { cookie, csrf } = await session(host);
    const load = (htmx: boolean) =>
      host.fetch(
        new Request("http://127.0.0.1/admin/load", {
          method: "POST",
          headers: { ...FORM, cookie, ...(htmx ? { "hx-request": "true" } : {}) },
          body: new URLSearchParams({ _csrf: csrf, source: "/nowhere/at/all/mod.ts" }),
        }),
        LOOPBACK,
      );
    const viaHtmx = await load(true);
    assert.ok(viaHtmx.status >= 400);
    assert.equal(viaHtmx.headers.get("content-type"), "application/problem+json");
    const problem = await viaHtmx.json();
    assert.ok(problem.code && problem.detail, JSON.stringify(problem));
    const plain = await load(false);
    assert.equal(plain.status, viaHtmx.status);
    const html = await plain.text();
    assert.ok(
      html.includes(`(${problem.code})`),
      `the problem is shown in the page: ${JSON.stringify(problem)} ${html.slice(0, 3000)}`,
    );
    const empty = await host.fetch(
      new Request("http://127.0.0.1/admin/load", {
        method: "POST",
        headers: { ...FORM, cookie, "hx-request": "true" },
        body: new URLSearchParams({ _csrf: csrf, source: " " }),
      }),
      LOOPBACK,
    );
    assert.equal(empty.status, 400);
    assert.match((await empty.json()).detail, /"source" must be a path or URL/);
  } finally {
    await host.stop();
  }
});

Deno.test("dashboard: without a key, the admin API's loopback, Host and Origin checks apply to it too", async () => {
  const host = quietHost({ pluginsDir: null });
  try {
    const remote = {
      remoteAddr: { transport: "tcp", hostname: "192.0.2.7", port: 4000 },
      completed: Promise.resolve(),
    } as unknown as Deno.ServeHandlerInfo;
    const body = () => new URLSearchParams({ key: host.adminKey });
    const far = await host.fetch(
      new Request("http://127.0.0.1/admin/login", { method: "POST", headers: FORM, body: body() }),
      remote,
    );
    assert.equal(far.status, 403);
    await far.body?.cancel();
    const foreign = await host.fetch(
      new Request("http://127.0.0.1/admin/login", {
        method: "POST",
        headers: { ...FORM, origin: "http://evil.example" },
        body: body(),
      }),
      LOOPBACK,
    );
    assert.equal(foreign.status, 403);
    await foreign.body?.cancel();
    const ok = await host.fetch(
      new Request("http://127.0.0.1/admin/login", { method: "POST", headers: FORM, body: body() }),
      LOOPBACK,
    );
    assert.equal(ok.status, 303);
  } finally {
    await host.stop();
  }
});

Deno.test("dashboard: assets are served by plugboard (htmx from its npm package); no page refers elsewhere", async () => {
  const host = quietHost({ pluginsDir: null, apiKey: KEY });
  try {
    const htmx = await host.fetch(new Request("http://127.0.0.1/admin/assets/htmx.js"), LOOPBACK);
    assert.equal(htmx.status, 200);
    assert.match(htmx.headers.get("content-type")!, /javascript/);
    assert.ok((await htmx.text()).includes("htmx"), "htmx itself");
    const { cookie } = await session(host);
    const html = await (await host.fetch(new Request("http://127.0.0.1/admin", { headers: { cookie } }), LOOPBACK))
      .text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(refs.length >= 3);
    for (const ref of refs) assert.ok(ref.startsWith("/"), `${ref} is served by plugboard`);
    const missing = await host.fetch(new Request("http://127.0.0.1/admin/assets/nope.js"), LOOPBACK);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await host.stop();
  }
});

Deno.test("dashboard: the debug switch of a plugin is set at run time", async () => {
  const host = quietHost({ pluginsDir: null, apiKey: KEY });
  try {
    await host.load({ name: "hello", version: "1.0.0", setup() {} });
    const { cookie, csrf } = await session(host);
    const res = await host.fetch(
      new Request("http://127.0.0.1/admin/plugins/hello/debug", {
        method: "POST",
        headers: { ...FORM, cookie, "hx-request": "true" },
        body: new URLSearchParams({ _csrf: csrf, on: "true" }),
      }),
      LOOPBACK,
    );
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.deepEqual(host.log.debugSwitch.names, ["hello"]);
  } finally {
    await host.stop();
  }
});

Deno.test("dashboard: a client that keeps sending wrong keys is held off (429), even with the right one, then let in", async () => {
  const host = quietHost({ pluginsDir: null, apiKey: KEY });
  try {
    for (let i = 0; i < 5; i++) assert.equal((await login(host, "wrong-key-0123456789")).status, 401);
    const held = await login(host);
    assert.equal(held.status, 429);
    assert.match(held.headers.get("retry-after")!, /^\d+$/);
    assert.match(await held.text(), /Too many refused logins from this address/);
    assert.equal(held.headers.get("set-cookie"), null);
  } finally {
    await host.stop();
  }
});

Deno.test("dashboard: checking a URL plugin's update without JavaScript shows the changes on the page", async () => {
  await using tmp = await tempPlugins({
    "remote/greet/mod.js": `import { word } from "./word.js";
export default { name: "greet", version: "1.0.0", setup(ctx) { ctx.routes.get("/", (c) => c.text(word)); } };`,
    "remote/greet/word.js": `export const word = "v1";`,
  });
  await using files = serveStatic(join(tmp.dir, "remote"));
  const host = quietHost({
    pluginsDir: null,
    allowImport: [files.host],
    lockFile: join(tmp.dir, "plugboard.lock"),
    apiKey: KEY,
  });
  try {
    await host.start();
    await host.load(`${files.base}/greet/mod.js`);
    await tmp.write("remote/greet/word.js", `export const word = "v2";`);
    const { cookie, csrf } = await session(host);
    // A plain form, as the page sends it without JavaScript.
    const res = await postForm(host, "/admin/plugins/greet/update", cookie, { _csrf: csrf });
    assert.equal(res.status, 200);
    const page = await res.text();
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /<pre class="note">[^<]*word\.js[^<]*changed/s, "the changed module is listed");
    assert.equal(host.get("greet")!.version, "1.0.0", "a check applies nothing");
  } finally {
    await host.stop();
  }
});
