import assert from "node:assert/strict";
import type { MiddlewareHandler } from "hono";
import { PLUGIN_ROUTE_PREFIX } from "../mod.ts";
import { RouteTable } from "../src/routes.ts";

Deno.test("createRouter() bases a plugin's router at /api/plugins/<name>, unmounted", async () => {
  const table = new RouteTable();
  const router = table.createRouter("hello");
  router.get("/hi", (c) => c.text("hi"));
  assert.equal(table.size, 0);
  assert.equal(table.version, 0);
  const res = await router.fetch(new Request(`http://x${PLUGIN_ROUTE_PREFIX}/hello/hi`));
  assert.equal(await res.text(), "hi");
});

Deno.test("mount() adds or replaces a router and bumps the version", () => {
  const table = new RouteTable();
  const v1 = table.createRouter("p");
  const v2 = table.createRouter("p");
  table.mount("p", v1);
  assert.equal(table.version, 1);
  assert.equal(table.get("p"), v1);
  table.mount("p", v2);
  assert.equal(table.version, 2);
  assert.equal(table.get("p"), v2);
  assert.equal(table.size, 1);
  assert.deepEqual([...table.entries()], [["p", v2]]);
});

Deno.test("unmount() removes a router only when given the one mounted", () => {
  const table = new RouteTable();
  const old = table.createRouter("p");
  const current = table.createRouter("p");
  table.mount("p", old);
  table.mount("p", current);
  assert.equal(table.unmount("p", old), false, "an old version's cleanup never removes its successor");
  assert.equal(table.get("p"), current);
  assert.equal(table.version, 2, "a refused unmount changes nothing");
  assert.equal(table.unmount("p", current), true);
  assert.equal(table.get("p"), undefined);
  assert.equal(table.version, 3);
  assert.equal(table.unmount("p", current), false);
  assert.equal(table.unmount("nobody", current), false);
  assert.equal(table.version, 3);
});

Deno.test("describe() lists a plugin's routes as METHOD /path, without its middleware", () => {
  const table = new RouteTable();
  const router = table.createRouter("tasks");
  router.use("*", (_c, next) => next());
  router.get("/", (c) => c.text("list"));
  router.post("/", (c) => c.text("create"));
  router.get("/:id", (c) => c.text("one"));
  router.get("/:id", (c) => c.text("again"));
  assert.deepEqual(table.describe("tasks"), [], "nothing until mounted");
  table.mount("tasks", router);
  assert.deepEqual(table.describe("tasks"), [
    "GET /api/plugins/tasks/",
    "POST /api/plugins/tasks/",
    "GET /api/plugins/tasks/:id",
  ]);
  assert.deepEqual(table.describe("other"), []);
});

Deno.test("addMiddleware() appends in order, bumps the version, and its remover takes out only that entry", () => {
  const table = new RouteTable();
  const a: MiddlewareHandler = (_c, next) => next();
  const b: MiddlewareHandler = (_c, next) => next();
  const removeA = table.addMiddleware("pa", a);
  const before = table.middleware;
  table.addMiddleware("pb", b);
  assert.deepEqual(table.middleware.map((m) => [m.owner, m.handler]), [["pa", a], ["pb", b]]);
  assert.notEqual(table.middleware, before, "a new array after every change");
  assert.equal(before.length, 1, "the old array is not changed");
  assert.equal(table.version, 2);
  removeA();
  assert.deepEqual(table.middleware.map((m) => m.owner), ["pb"]);
  assert.equal(table.version, 3);
});
