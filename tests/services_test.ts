import assert from "node:assert/strict";
import { Container, PluginError, ServiceNotFoundError } from "../mod.ts";

Deno.test("provide() and resolve() return the same singleton", () => {
  const c = new Container();
  const svc = { n: 1 };
  c.provide("svc", svc);
  assert.equal(c.resolve("svc"), svc);
  assert.equal(c.resolve("svc"), svc);
});

Deno.test("factory() builds lazily, once", () => {
  const c = new Container();
  let builds = 0;
  c.factory("db", () => ({ id: ++builds }));
  assert.equal(builds, 0);
  assert.deepEqual(c.resolve("db"), { id: 1 });
  assert.deepEqual(c.resolve("db"), { id: 1 });
  assert.equal(builds, 1);
});

Deno.test("resolve() of a missing service names the requester and what is provided", () => {
  const c = new Container();
  c.provide("tasks", {});
  assert.throws(() => c.resolve("mailer", { requester: "notifier" }), ServiceNotFoundError);
  try {
    c.resolve("mailer", { requester: "notifier" });
  } catch (e) {
    assert.ok(e instanceof ServiceNotFoundError);
    assert.equal(e.code, "SERVICE_NOT_FOUND");
    assert.equal(e.plugin, "notifier");
    assert.equal(e.service, "mailer");
    assert.match(
      e.message,
      /Cannot resolve service "mailer" for plugin "notifier": no plugin provides it \(provided: "tasks"\)/,
    );
  }
  assert.throws(() => c.resolve("x"), /for the host/);
});

Deno.test("providing a taken name is a CONFLICT naming both owners", () => {
  const c = new Container();
  c.provide("svc", 1, { owner: "a" });
  assert.throws(() => c.provide("svc", 2, { owner: "b" }), (e: unknown) => {
    assert.ok(e instanceof PluginError);
    assert.equal(e.code, "CONFLICT");
    assert.match(e.message, /for plugin "b": it is already provided by plugin "a"/);
    return true;
  });
  assert.equal(c.resolve("svc"), 1, "the first provider is kept");
});

Deno.test("remove() honours the owner; names() and owner() report", () => {
  const c = new Container();
  c.provide("a", 1, { owner: "p" });
  c.provide("b", 2);
  assert.deepEqual(c.names(), ["a", "b"]);
  assert.deepEqual(c.names("p"), ["a"]);
  assert.equal(c.owner("a"), "p");
  assert.equal(c.remove("a", "q"), false);
  assert.equal(c.remove("a", "p"), true);
  assert.equal(c.has("a"), false);
  assert.equal(c.tryResolve("a"), undefined);
});

Deno.test("bad arguments are TypeErrors", () => {
  const c = new Container();
  assert.throws(() => c.provide("", 1), TypeError);
  assert.throws(() => c.factory("x", 5 as never), /factory must be a function, got number/);
});
