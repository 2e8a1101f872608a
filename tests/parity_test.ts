/**
 * One behaviour suite, run in every way two plugins can be placed: both
 * isolated (the default), both in-process, each one trusted while the other
 * is isolated, both sandboxed (each in its own process), and a sandboxed
 * provider with a consumer in a worker. `chat` provides a service, emits its events, defines a
 * hook and hands its state over on reload; `chat-audit` depends on it,
 * resolves and calls its service, listens to its events, wraps its hook and
 * adds middleware. Whatever works in one placement must work in all.
 *
 * @module
 */

import assert from "node:assert/strict";
import { folderHost, LOOPBACK, tempPlugins } from "./_helpers.ts";
import type { HostOptions } from "../mod.ts";

const CHAT = `
class Counter { #n = 0; }
export default {
  name: "chat",
  version: "1.0.0",
  setup(ctx) {
    let posted = ctx.previous ?? 0;
    ctx.onHandover(() => posted);
    ctx.services.provide("chat", {
      version: "1.0.0",
      limits: { max: 3 },
      count: () => posted,
      async post(text) {
        posted++;
        await ctx.events.emitAsync("chat.message", { text });
        return "posted " + text;
      },
      sub: { echo: (x) => x },
      fail() {
        throw Object.assign(new Error("chat is down"), { code: "CHAT_DOWN" });
      },
      async failLater() {
        throw Object.assign(new Error("chat is down later"), { code: "CHAT_LATER" });
      },
      failPlain() {
        throw { code: "CHAT_PLAIN", message: "chat threw a plain object" };
      },
      callback: () => () => 1,
      counter: () => new Counter(),
      takes: (fn) => typeof fn,
    });
    ctx.hooks.define("chat.format", (text) => text);
    ctx.routes.get("/format/:text", async (c) => c.text(await ctx.hooks.call("chat.format", c.req.param("text"))));
    ctx.routes.get("/count", (c) => c.json({ posted }));
  },
};
`;

const AUDIT = `
export default {
  name: "chat-audit",
  version: "1.0.0",
  dependencies: { chat: "^1.0.0" },
  permissions: { hostWide: ["middleware"] },
  setup(ctx) {
    const chat = ctx.services.resolve("chat");
    const heard = [];
    ctx.events.on("chat.message", (e) => void heard.push(e.text));
    ctx.hooks.wrap("chat.format", (next) => async (text) => (await next(text)).toUpperCase());
    ctx.middleware(async (c, next) => {
      const chat = c.req.path.startsWith("/api/plugins/chat/");
      // Set before next(): kept in the answer, under the route's own headers (its content-type wins).
      if (chat) {
        c.header("x-audit-seen", "before");
        c.header("content-type", "application/x-audit");
      }
      await next();
      if (chat) c.header("x-audited", "yes");
    });
    const failure = async (run) => {
      try {
        await run();
        return "no error";
      } catch (e) {
        return { message: e.message, code: e.code, plugin: e.plugin };
      }
    };
    ctx.routes.post("/post/:text", async (c) => c.json({ answer: await chat.post(c.req.param("text")) }));
    ctx.routes.get("/check", async (c) => c.json({
      count: await chat.count(),
      echo: await chat.sub.echo(5),
      version: await chat.version,
      max: await chat.limits.max,
      limits: await chat.limits,
      fail: await failure(() => chat.fail()),
      failLater: await failure(() => chat.failLater()),
      failPlain: await failure(() => chat.failPlain()),
      heard,
    }));
    ctx.routes.get("/uncrossable", async (c) => c.json({
      callback: await failure(() => chat.callback()),
      counter: await failure(() => chat.counter()),
      // Every call returns a promise, even one refused before it is sent.
      takes: await chat.takes(() => 1).then(() => "no error", (e) => ({ message: e.message, code: e.code })),
    }));
  },
};
`;

/** The placements: which plugins run in a worker, which in their own process (sandboxed) and which in-process. */
const PLACEMENTS: { name: string; options: HostOptions; crosses: boolean; providerIsolated: boolean }[] = [
  { name: "both isolated (the default)", options: {}, crosses: true, providerIsolated: true },
  { name: "both in-process", options: { isolation: "none" }, crosses: false, providerIsolated: false },
  {
    name: "provider trusted, consumer isolated",
    options: { trusted: ["chat"] },
    crosses: true,
    providerIsolated: false,
  },
  {
    name: "provider isolated, consumer trusted",
    options: { trusted: ["chat-audit"] },
    crosses: true,
    providerIsolated: true,
  },
  {
    name: "both sandboxed, each in its own process",
    options: { sandboxed: ["chat", "chat-audit"] },
    crosses: true,
    providerIsolated: true,
  },
  {
    name: "provider sandboxed, consumer in a worker",
    options: { sandboxed: ["chat"] },
    crosses: true,
    providerIsolated: true,
  },
];

async function setUp(options: HostOptions) {
  const tmp = await tempPlugins({ "plugins/chat/mod.ts": CHAT, "plugins/chat-audit/mod.ts": AUDIT });
  const host = folderHost(tmp.dir, { isolation: "worker", ...options });
  await host.start();
  const call = async (path: string, init?: RequestInit) => {
    const res = await host.fetch(new Request(`http://localhost${path}`, init), LOOPBACK);
    const text = await res.text();
    assert.ok(res.ok, `${path} answered ${res.status}: ${text}`);
    return { res, body: text.startsWith("{") ? JSON.parse(text) : text };
  };
  return {
    host,
    call,
    async [Symbol.asyncDispose]() {
      await host.stop();
      await tmp[Symbol.asyncDispose]();
    },
  };
}

for (const placement of PLACEMENTS) {
  Deno.test(`parity (${placement.name}): services, events, hooks and middleware between two plugins`, async () => {
    await using t = await setUp(placement.options);
    assert.deepEqual(t.host.list().map((p) => [p.name, p.state]), [["chat", "active"], ["chat-audit", "active"]]);
    assert.deepEqual((await t.call("/api/plugins/chat-audit/post/hi", { method: "POST" })).body, {
      answer: "posted hi",
    });
    const check = (await t.call("/api/plugins/chat-audit/check")).body;
    assert.equal(check.count, 1);
    assert.equal(check.echo, 5, "a nested path");
    assert.equal(check.version, "1.0.0", "a property read");
    assert.equal(check.max, 3, "a nested property read");
    assert.deepEqual(check.limits, { max: 3 }, "an object property read");
    assert.deepEqual(check.heard, ["hi"], "the event reached the listener before post() answered");
    // Across an isolate the error also names the plugin that provides the service.
    const provider = placement.crosses ? { plugin: "chat" } : {};
    assert.deepEqual(check.fail, { message: "chat is down", code: "CHAT_DOWN", ...provider });
    assert.deepEqual(check.failLater, { message: "chat is down later", code: "CHAT_LATER", ...provider });
    assert.deepEqual(check.failPlain, { message: "chat threw a plain object", code: "CHAT_PLAIN", ...provider });
    // The hook, wrapped by the consumer, and its middleware on the provider's routes.
    const formatted = await t.call("/api/plugins/chat/format/abc");
    assert.equal(formatted.body, "ABC");
    assert.equal(formatted.res.headers.get("x-audited"), "yes");
    assert.equal(formatted.res.headers.get("x-audit-seen"), "before", "a header set before next() is kept");
    assert.match(formatted.res.headers.get("content-type") ?? "", /^text\/plain/, "the route's own header wins");
    // The host reaches the service too.
    const chat = t.host.services.resolve<{ count(): number; sub: { echo(x: number): number } }>("chat");
    assert.equal(await chat.count(), 1);
    assert.equal(await chat.sub.echo(7), 7);
  });

  Deno.test(`parity (${placement.name}): reloads of either plugin keep services, listeners, hooks and state`, async () => {
    await using t = await setUp(placement.options);
    await t.call("/api/plugins/chat-audit/post/one", { method: "POST" });
    const held = t.host.services.resolve<{ count(): number }>("chat");
    for (const name of ["chat", "chat-audit", "chat", "chat"]) {
      await t.host.reload(name);
      assert.deepEqual(t.host.get("chat")!.services, ["chat"], `after reloading ${name}, chat provides its service`);
      assert.equal(t.host.get("chat-audit")!.state, "active");
    }
    assert.equal((await t.call("/api/plugins/chat/count")).body.posted, 1, "handed over across reloads");
    await t.call("/api/plugins/chat-audit/post/two", { method: "POST" });
    const check = (await t.call("/api/plugins/chat-audit/check")).body;
    assert.equal(check.count, 2);
    assert.deepEqual(check.heard, ["two"], "the reloaded consumer listens once");
    // A stand-in resolved before the reloads reaches the live version (an in-process provider's object is its own).
    if (placement.providerIsolated) assert.equal(await held.count(), 2);
    const formatted = await t.call("/api/plugins/chat/format/abc");
    assert.equal(formatted.body, "ABC", "the hook is wrapped once, by the live consumer");
    assert.equal(formatted.res.headers.get("x-audited"), "yes");
    // A reload of the consumer while the provider serves: it resolves the service during its setup.
    await t.host.reload("chat-audit");
    assert.equal((await t.call("/api/plugins/chat-audit/check")).body.count, 2);
  });

  Deno.test(`parity (${placement.name}): unloading the consumer removes everything it registered`, async () => {
    await using t = await setUp(placement.options);
    await t.host.unload("chat-audit");
    const formatted = await t.call("/api/plugins/chat/format/abc");
    assert.equal(formatted.body, "abc", "its hook wrapper is gone");
    assert.equal(formatted.res.headers.get("x-audited"), null, "its middleware is gone");
    assert.equal(t.host.events.listenerCount("chat.message"), 0, "its listener is gone");
    const res = await t.host.fetch(new Request("http://localhost/api/plugins/chat-audit/check"), LOOPBACK);
    assert.equal(res.status, 404);
    await res.body?.cancel();
    assert.deepEqual(t.host.get("chat")!.services, ["chat"]);
    assert.equal(t.host.get("chat-audit")?.state, "unloaded");
  });

  if (placement.crosses) {
    Deno.test(`parity (${placement.name}): a value that cannot cross is a coded error naming service, method and value`, async () => {
      await using t = await setUp(placement.options);
      const body = (await t.call("/api/plugins/chat-audit/uncrossable")).body;
      assert.equal(body.callback.code, "SERVICE_VALUE");
      assert.match(body.callback.message, /Service "chat" callback\(\): its result is a function, which cannot cross/);
      assert.match(body.counter.message, /Service "chat" counter\(\): its result is an instance of Counter/);
      assert.equal(body.takes.code, "SERVICE_VALUE");
      assert.match(body.takes.message, /Service "chat" takes\(\): its arguments hold a function at \[0\]/);
      assert.match(body.takes.message, /Pass and return plain data/);
    });
  }
}
