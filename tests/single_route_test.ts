/**
 * A bodiless GET that one route alone answers skips the plugin router's Hono
 * pass: an in-process plugin's handler is run by the host itself
 * (`src/http/single_route.ts`), an isolated plugin's request forwarded
 * straight to its worker or process. Each behaviour of a route handler is
 * asked for twice: by its plain path (that shortcut) and by a
 * percent-encoded spelling of the same path, which the plugin router decodes
 * and answers through Hono. Both must answer alike, in every placement, and
 * as the router's own contract says (a failure is a 500 problem reported
 * against the plugin, whatever was thrown).
 */

import assert from "node:assert/strict";
import type { HostOptions, ResponseRecord, SystemErrorEvent } from "../mod.ts";
import { folderHost, LOOPBACK, MOD_URL, tempPlugins } from "./_helpers.ts";

/** `/api/plugins/p/<route>`, and the same with its first letter percent-encoded (answered through Hono). */
function spellings(route: string): [string, string] {
  const encoded = `%${route.charCodeAt(0).toString(16)}${route.slice(1)}`;
  return [`http://localhost/api/plugins/p/${route}`, `http://localhost/api/plugins/p/${encoded}`];
}

/** What a client and the host's reporter see of one request. */
async function outcome(host: ReturnType<typeof folderHost>, url: string, errors: SystemErrorEvent[]) {
  errors.length = 0;
  const res = await host.fetch(new Request(url), LOOPBACK);
  const type = res.headers.get("content-type") ?? "";
  const raw = await res.text();
  // deno-lint-ignore no-explicit-any
  let body: any = raw;
  if (type.includes("json")) {
    body = JSON.parse(raw);
    delete body.errorId;
    if (typeof body.detail === "string") body.detail = body.detail.replace(/id [0-9a-f-]{36}/, "id <id>");
  }
  return { status: res.status, type, body, header: res.headers.get("x-from"), reported: errors.map((e) => e.plugin) };
}

const ROUTES: Record<string, string> = {
  text: "200 text",
  "greet/ada": "a parameter and the query",
  throws: "500 problem, reported",
  rejects: "500 problem, reported",
  "throws-string": "500 problem, reported (not an Error)",
  "rejects-null": "500 problem, reported (not an Error)",
  teapot: "an HTTPException's status",
  nothing: "404 when the handler answers nothing",
  "nothing-async": "404 when an async handler answers nothing",
  "set-res": "an async handler that set c.res and answered nothing",
  next: "404 from next()",
  "header-first": "headers set on the context before answering",
  missing: "404 for a path no route matches",
  string: "500 problem, reported (a string, not a Response)",
  "object-async": "500 problem, reported (an object, not a Response)",
};

/** A plugin with a route for each behaviour; `/calls` tells how often `/nothing` ran. */
const PLUGIN = `import { HTTPException } from "hono/http-exception";
import { definePlugin } from ${JSON.stringify(MOD_URL)};
let nothing = 0;
export default definePlugin({
  name: "p",
  version: "1.0.0",
  setup(ctx) {
    const r = ctx.routes;
    r.get("/text", (c) => c.text("hello"));
    r.get("/greet/:who", (c) => c.json({ who: c.req.param("who"), q: c.req.query("q") ?? null, path: c.req.path }));
    r.get("/throws", () => { throw new Error("broke"); });
    r.get("/rejects", () => Promise.reject(new Error("broke later")));
    r.get("/throws-string", () => { throw "a string"; });
    r.get("/rejects-null", () => Promise.reject(null));
    r.get("/teapot", () => { throw new HTTPException(418, { message: "short and stout" }); });
    r.get("/nothing", () => { nothing++; });
    r.get("/nothing-async", async () => {});
    r.get("/set-res", async (c) => {
      await Promise.resolve();
      c.res = new Response("set on the context", { status: 202 });
    });
    r.get("/next", async (_c, next) => await next());
    r.get("/header-first", (c) => {
      c.header("x-from", "p");
      c.status(201);
      return c.body("made");
    });
    r.get("/calls", (c) => c.json(nothing));
    r.get("/string", () => "just text");
    r.get("/object-async", async () => ({ not: "a Response" }));
  },
});
`;

const PLACEMENTS: { name: string; options: HostOptions }[] = [
  // The test helpers run plugins in-process unless told otherwise: the default placement is asked for by name.
  { name: "in a worker (the default)", options: { isolation: "worker" } },
  { name: "in-process", options: { isolation: "none" } },
  { name: "sandboxed in its own process", options: { sandboxed: ["p"] } },
];

for (const placement of PLACEMENTS) {
  for (const observability of [undefined, { accessLog: false, metrics: false }]) {
    const mode = observability ? "observability off" : "observed (the default)";
    Deno.test(`a GET one route answers, without the plugin router's pass, answers as the router would: ${placement.name}, ${mode}`, async () => {
      await using tmp = await tempPlugins({ "plugins/p/mod.ts": PLUGIN });
      const host = folderHost(tmp.dir, { ...placement.options, observability });
      const errors: SystemErrorEvent[] = [];
      host.events.on("system.error", (e) => void errors.push(e));
      const records: ResponseRecord[] = [];
      if (observability === undefined) host.routes.addObserver("test", (record) => void records.push(record));
      try {
        await host.start();
        assert.equal(host.list()[0].state, "active", host.list()[0].error);
        for (const [route, what] of Object.entries(ROUTES)) {
          const [plain, encoded] = spellings(route);
          const suffix = route.startsWith("greet") ? "?q=1" : "";
          const direct = await outcome(host, plain + suffix, errors);
          const throughHono = await outcome(host, encoded + suffix, errors);
          assert.deepEqual(direct, throughHono, `${route} (${what}): answered differently by the shortcut and by Hono`);
        }
        const by = async (route: string) => await outcome(host, spellings(route)[0], errors);
        assert.deepEqual((await by("text")).body, "hello");
        assert.deepEqual(
          (await outcome(host, `${spellings("greet/ada")[0]}?q=1`, errors)).body,
          { who: "ada", q: "1", path: "/api/plugins/p/greet/ada" },
        );
        for (const route of ["throws", "rejects", "throws-string", "rejects-null", "string", "object-async"]) {
          const got = await by(route);
          assert.equal(got.status, 500, route);
          assert.deepEqual(got.reported, ["p"], `${route}: reported against its plugin`);
          assert.match(got.body.detail, /A route of plugin "p" failed/, route);
        }
        await by("string");
        assert.match(errors[0]?.message ?? "", /answered a string, not a Response: return c\.text/);
        await by("object-async");
        assert.match(errors[0]?.message ?? "", /answered an object \(\[object Object\]\), not a Response/);
        assert.equal((await by("teapot")).status, 418);
        for (const route of ["nothing", "nothing-async", "next", "missing"]) {
          assert.equal((await by(route)).status, 404, route);
        }
        assert.equal((await by("missing")).body.detail, "No route GET /api/plugins/p/missing");
        assert.equal((await by("calls")).body, 3, "a handler runs once per request, whichever way it is answered");
        assert.deepEqual([(await by("set-res")).status, (await by("set-res")).body], [202, "set on the context"]);
        assert.deepEqual([(await by("header-first")).status, (await by("header-first")).header], [201, "p"]);
        if (observability === undefined) {
          const greet = records.find((r) => r.path === "/api/plugins/p/greet/ada");
          assert.equal(greet?.route, "/api/plugins/p/greet/:who", "the observers are told the route's pattern");
        }
      } finally {
        await host.stop();
      }
    });
  }
}

/** A plugin that replaces `Response` in its setup (before its worker has read it) and answers a look-alike. */
const FAKER = `import { definePlugin } from ${JSON.stringify(MOD_URL)};
class LookAlike {
  status = 200;
  statusText = "";
  headers = new Headers({ "content-type": "text/plain" });
  body = null;
  bodyUsed = false;
  arrayBuffer() { return Promise.resolve(new ArrayBuffer(0)); }
  text() { return Promise.resolve(""); }
}
export default definePlugin({
  name: "faker",
  version: "1.0.0",
  setup(ctx) {
    globalThis.Response = LookAlike;
    ctx.routes.get("/x", () => new globalThis.Response());
  },
});
`;

// In-process, a trusted plugin's replacement is the host's (tests/http_security_test.ts); here the plugin's own worker
// or process, where `Response` is first read when a route answers.
for (const placement of PLACEMENTS.filter((p) => p.name !== "in-process")) {
  Deno.test(`a plugin that replaces Response before its first request cannot pass a look-alike off as one: ${placement.name}`, async () => {
    await using tmp = await tempPlugins({ "plugins/faker/mod.ts": FAKER });
    const host = folderHost(tmp.dir, { ...placement.options, sandboxed: placement.options.sandboxed ? ["faker"] : [] });
    const errors: SystemErrorEvent[] = [];
    host.events.on("system.error", (e) => void errors.push(e));
    try {
      await host.start();
      assert.equal(host.list()[0].state, "active", host.list()[0].error);
      for (const url of spellings("x").map((u) => u.replace("/p/", "/faker/"))) {
        errors.length = 0;
        const res = await host.fetch(new Request(url), LOOPBACK);
        assert.equal(res.status, 500, `${url}: ${await res.text()}`);
        assert.deepEqual(errors.map((e) => e.plugin), ["faker"]);
        assert.match(errors[0].message, /answered an object \(\[object Object\]\), not a Response/);
      }
    } finally {
      await host.stop();
    }
  });
}
