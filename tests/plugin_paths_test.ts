/**
 * How the HTTP side sorts a request by its path, and the path a plugin's
 * router then matches: the host's endpoints by the raw path, plugin routes by
 * the path Hono reads (percent-decoded), query and fragment left out.
 */

import assert from "node:assert/strict";
import type { Host, ResponseRecord } from "../mod.ts";
import { isHostPath, sortUrl } from "../src/http/sort_url.ts";
import { folderHost, LOOPBACK, pluginSource, quietHost, tempPlugins } from "./_helpers.ts";

/** The sorting as first written: the host's own endpoints, then `/api/plugins/<name>` without a deeper path. */
function hostPathReference(path: string): boolean {
  if (path === "/health" || path === "/api/plugins" || path === "/api/plugins/") return true;
  if (path === "/" || path === "/metrics" || path === "/api/events" || path.startsWith("/admin")) return true;
  return path.startsWith("/api/plugins/") && path.indexOf("/", "/api/plugins/".length) < 0;
}

Deno.test("isHostPath: the host's endpoints and the admin API, nothing under a plugin's prefix", () => {
  const host = ["/health", "/api/plugins", "/api/plugins/", "/api/plugins/hello", "/api/plugins/%70", "/", "/metrics"];
  host.push("/api/events", "/admin", "/admin/", "/admin/plugins/hello", "/administrator", "/admin/api/plugins/x");
  const plugin = ["/api/plugins/hello/", "/api/plugins/hello/x", "/api/plugins//x", "/api/pluginsx", "/api/plugin"];
  plugin.push("/healthz", "/health/", "/metrics/x", "/api/events/x", "/x", "", "/api/Plugins/hello/x", "/ADMIN");
  for (const path of host) assert.equal(isHostPath(path), true, path);
  for (const path of plugin) assert.equal(isHostPath(path), false, path);
  // Every prefix of those, and each with a character more: the same answer as the first sorting.
  const parts = ["/", "api", "/plugins", "/", "hello", "/", "x", "admin", "health", "metrics", "events", "%2F", "?"];
  for (const path of [...host, ...plugin]) {
    for (let end = 0; end <= path.length; end++) {
      for (const more of ["", ...parts]) {
        const p = path.slice(0, end) + more;
        assert.equal(isHostPath(p), hostPathReference(p), JSON.stringify(p));
      }
    }
  }
});

/** The sorting of a URL as first written: through a URL object. */
function sortReference(url: string) {
  const u = new URL(url);
  const path = u.pathname;
  return { path, host: hostPathReference(path), encoded: path.includes("%") };
}

Deno.test("sortUrl: the path, whether it is the host's, whether it holds a %; the same with charCodeAt replaced", () => {
  const paths = ["/", "/health", "/api/plugins", "/api/plugins/", "/api/plugins/hello", "/api/plugins/hello/"];
  paths.push("/api/plugins/hello/x", "/api/plugins/hello/x/y/z", "/admin", "/admin/a/b/c/d", "/administrator/a/b/c");
  paths.push(
    "/api/plugins/%70/x",
    "/api/plugins/p/a%20b",
    "/metrics",
    "/metrics/a/b/c",
    "/x/y/z/w",
    "/api//plugins/x/y",
  );
  const urls: string[] = [];
  for (const origin of ["http://localhost", "https://example.com:8443", "http://127.0.0.1:8000"]) {
    for (const path of paths) {
      for (const tail of ["", "?q=1", "?q=%41/b/c/d", "#frag", "#a?b/c%", "?a#b"]) {
        urls.push(new Request(origin + path + tail).url);
      }
    }
  }
  const out = { path: "", host: false, encoded: false };
  for (const url of urls) assert.deepEqual({ ...sortUrl(url, out) }, sortReference(url), url);
  // A trusted in-process plugin that replaces charCodeAt (as a value or a getter), or Function.prototype.call, changes
  // nothing: the sorting calls the functions captured at startup.
  const charCodeAt = Object.getOwnPropertyDescriptor(String.prototype, "charCodeAt")!;
  const call = Object.getOwnPropertyDescriptor(Function.prototype, "call")!;
  const ended = () => 63; // "?" everywhere: every path would end at once
  const replacements = [
    () => Object.defineProperty(String.prototype, "charCodeAt", { ...charCodeAt, value: ended }),
    () => Object.defineProperty(String.prototype, "charCodeAt", { configurable: true, get: () => ended }),
    () => Object.defineProperty(Function.prototype, "call", { ...call, value: ended }),
  ];
  for (const replace of replacements) {
    replace();
    const sorted: ReturnType<typeof sortReference>[] = [];
    try {
      for (const url of urls) sorted.push({ ...sortUrl(url, out) });
    } finally {
      Object.defineProperty(String.prototype, "charCodeAt", charCodeAt);
      Object.defineProperty(Function.prototype, "call", call);
    }
    assert.deepEqual(sorted, urls.map(sortReference));
  }
});

/** `GET <path>` through the host, as "<status> <body>". */
function getter(host: Host): (path: string) => Promise<string> {
  return async (path) => {
    const res = await host.fetch(new Request(`http://127.0.0.1${path}`), LOOPBACK);
    return `${res.status} ${await res.text()}`;
  };
}

/** What plugin "paths" answers (its routes `/x` and `/ü/:who`), wherever it runs: decoded, no query or fragment. */
async function assertPluginPaths(get: (path: string) => Promise<string>): Promise<void> {
  assert.equal(await get("/api/plugins/paths/x"), "200 x /api/plugins/paths/x");
  assert.equal(await get("/api/plugins/paths/x?y=1#z"), "200 x /api/plugins/paths/x");
  assert.equal(await get("/api/plugins/paths/x#z?y=1"), "200 x /api/plugins/paths/x");
  assert.match(await get("/api/plugins/paths/x/"), /^404 .*No route GET \/api\/plugins\/paths\/x\/"/);
  assert.equal(
    await get("/api/plugins/paths/%C3%BC/J%C3%BCrgen?q=%C3%BC"),
    "200 ü Jürgen /api/plugins/paths/ü/Jürgen",
  );
}

Deno.test("plugin routes: matched by the decoded path, without query or fragment; observers get the raw path", async () => {
  const host = quietHost({ pluginsDir: null });
  const seen: ResponseRecord[] = [];
  try {
    await host.load({
      name: "paths",
      version: "1.0.0",
      setup(ctx) {
        ctx.routes.get("/x", (c) => c.text(`x ${c.req.path}`));
        ctx.routes.get("/ü/:who", (c) => c.text(`ü ${c.req.param("who")} ${c.req.path}`));
        ctx.routes.get("/a b", (c) => c.text(`space ${c.req.path}`));
        ctx.onResponse((r) => seen.push(r));
      },
    });
    const get = getter(host);
    await assertPluginPaths(get);
    assert.equal(await get("/api/plugins/paths/ü/ada"), "200 ü ada /api/plugins/paths/ü/ada");
    assert.equal(await get("/api/plugins/paths/a%20b"), "200 space /api/plugins/paths/a b");
    // The plugin's own requests, as the host saw them: raw paths, query and fragment left out.
    assert.deepEqual(seen.map((r) => [r.path, r.status]).slice(0, 3), [
      ["/api/plugins/paths/x", 200],
      ["/api/plugins/paths/x", 200],
      ["/api/plugins/paths/x", 200],
    ]);
    assert.deepEqual(seen.map((r) => r.path).slice(-3), [
      "/api/plugins/paths/%C3%BC/J%C3%BCrgen",
      "/api/plugins/paths/%C3%BC/ada",
      "/api/plugins/paths/a%20b",
    ]);
  } finally {
    await host.stop();
  }
});

Deno.test("plugin routes in a worker (the default): the same paths, decoded, without query or fragment", async () => {
  await using tmp = await tempPlugins({
    "plugins/paths/mod.ts": pluginSource("paths", {
      setup: `ctx.routes.get("/x", (c) => c.text("x " + c.req.path));
        ctx.routes.get("/ü/:who", (c) => c.text("ü " + c.req.param("who") + " " + c.req.path));
        ctx.routes.get("/a b", (c) => c.text("space " + c.req.path));
        ctx.routes.get("/:id", (c) => c.text("id " + c.req.param("id")));`,
    }),
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  try {
    await host.start();
    assert.equal(host.list()[0].state, "active", host.list()[0].error);
    const get = getter(host);
    await assertPluginPaths(get);
    assert.equal(await get("/api/plugins/paths/a%20b"), "200 space /api/plugins/paths/a b");
    // An encoded plugin name is that plugin's; an encoded slash stays inside one parameter.
    assert.equal(await get("/api/plugins/%70aths/x"), "200 x /api/plugins/paths/x");
    assert.equal(await get("/api/plugins/paths/a%2Fb"), "200 id a/b");
  } finally {
    await host.stop();
  }
});
