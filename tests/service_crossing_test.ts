/**
 * Service calls across an isolate, tried as a demanding user would: every
 * call returns a promise, whatever is refused; a failure nobody awaited is
 * the calling plugin's, never the end of the host's process; large binary
 * arguments cost what their copy costs; an error keeps its code whatever
 * was thrown.
 */

import assert from "node:assert/strict";
import type { SystemErrorEvent } from "../mod.ts";
import { asyncProxy } from "../src/runtime/async_proxy.ts";
import { uncrossable } from "../src/runtime/crossing.ts";
import { toWireError } from "../src/runtime/rpc.ts";
import { runServiceCall } from "../src/runtime/service_calls.ts";
import { folderHost, LOOPBACK, tempPlugins, waitFor } from "./_helpers.ts";

const PROVIDER = `export default {
  name: "p",
  version: "1.0.0",
  setup(ctx) {
    ctx.services.provide("p", { echo: (x) => x, never: () => new Promise(() => {}) });
  },
};`;

/** Calls it makes and leaves floating, as a plugin that "just notifies" would. */
const FLOATING = `export default {
  name: "c",
  version: "1.0.0",
  setup(ctx) {
    const p = () => ctx.services.resolve("p");
    ctx.routes.get("/missing", (c) => { p().missing(); return c.text("sent"); });
    ctx.routes.get("/never", (c) => { p().never(); return c.text("sent"); });
  },
};`;

Deno.test("a trusted plugin's call to an isolated service that nobody awaits fails as its own stray failure, not the host's", async () => {
  await using tmp = await tempPlugins({ "plugins/p/mod.ts": PROVIDER, "plugins/c/mod.ts": FLOATING });
  // A short route deadline: the unload below waits that long for the call in flight, then ends it.
  const host = folderHost(tmp.dir, { isolation: "worker", trusted: ["c"], limits: { p: { routeTimeout: 300 } } });
  const errors: SystemErrorEvent[] = [];
  host.events.on("system.error", (e) => void errors.push(e));
  await host.start();
  try {
    assert.deepEqual(host.list().map((p) => [p.name, p.isolation]), [["c", "in-process"], ["p", "worker"]]);
    for (const path of ["missing", "never"]) {
      const res = await host.fetch(new Request(`http://localhost/api/plugins/c/${path}`), LOOPBACK);
      assert.equal(await res.text(), "sent");
    }
    // The missing method is refused by plugboard's code in p's worker; the call never answered is ended by p's unload.
    await host.unload("p");
    await waitFor(() => errors.length >= 2, { what: "both failures reported" });
    assert.deepEqual(
      errors.map((e) => [e.origin, e.plugin, (e.error as { code?: string }).code]).sort(),
      [["unhandled", "c", "NOT_FOUND"], ["unhandled", "c", "PLUGIN_UNAVAILABLE"]],
    );
  } finally {
    await host.stop();
  }
});

/** Calls a missing method of p and answers with the failure's stack. */
const TRACED = `export default {
  name: "t",
  version: "1.0.0",
  setup(ctx) {
    ctx.routes.get("/stack", async (c) => {
      try {
        await ctx.services.resolve("p").missing();
        return c.text("no failure");
      } catch (error) {
        return c.text(String(error.stack));
      }
    });
  },
};`;

Deno.test("a failed call keeps an in-process caller's frames; the host's own calls skip that capture", async () => {
  await using tmp = await tempPlugins({ "plugins/p/mod.ts": PROVIDER, "plugins/t/mod.ts": TRACED });
  const host = folderHost(tmp.dir, { isolation: "worker", trusted: ["t"] });
  await host.start();
  try {
    const res = await host.fetch(new Request("http://localhost/api/plugins/t/stack"), LOOPBACK);
    const traced = await res.text();
    assert.match(traced, /no method missing/);
    assert.match(traced, /plugins\/t\/mod\.ts|\.t@/, "the calling plugin's file is in the stack");
    // The host's stand-in (also what plugins in other isolates call through) captures no caller: it costs µs a call.
    const direct = host.services.resolve<{ missing(): Promise<void> }>("p");
    const error = await direct.missing().then(() => undefined, (e: Error) => e);
    assert.match(String(error?.message), /no method missing/);
    assert.doesNotMatch(String(error?.stack), /service_crossing_test/);
  } finally {
    await host.stop();
  }
});

Deno.test("a call refused before it is sent still returns a promise, which rejects", async () => {
  const svc = asyncProxy(() => {
    throw Object.assign(new Error("cannot cross"), { code: "SERVICE_VALUE" });
  }) as { m(x: unknown): Promise<unknown> };
  const sent = svc.m(() => 1);
  assert.ok(sent instanceof Promise);
  await assert.rejects(sent, { code: "SERVICE_VALUE" });
});

Deno.test("a stand-in reuses its property stand-ins, up to a bound, and each call sends its own path", async () => {
  const paths: string[][] = [];
  const svc = asyncProxy((path) => (paths.push(path), Promise.resolve(path.join(".")))) as Record<
    string,
    { (): Promise<string>; deep: () => Promise<string> }
  >;
  assert.equal(svc.add, svc.add); // a call in a loop builds no new proxy
  assert.equal(await svc.add(), "add");
  assert.equal(await svc.add.deep(), "add.deep");
  assert.notEqual(paths[0], paths[1]);
  paths[0].push("mutated"); // what a receiver does with its path reaches no later call
  assert.equal(await svc.add(), "add");
  for (let i = 0; i < 100; i++) void svc[`k${i}`];
  assert.equal(svc.k1, svc.k1);
  assert.notEqual(svc.k99, svc.k99, "past the bound, a new name is not kept");
  // A deeper path may be a caller's in another isolate, walking the host's stand-in: nothing of it is kept.
  assert.notEqual(svc.add.deep, svc.add.deep);
});

Deno.test("binary data is not walked index by index: a 32 MB argument is checked in a blink", () => {
  const bytes = new Uint8Array(32 * 1024 * 1024);
  const started = performance.now();
  assert.equal(uncrossable([bytes, new Float64Array(1024), bytes.buffer, new DataView(bytes.buffer)]), undefined);
  const ms = performance.now() - started;
  assert.ok(ms < 250, `took ${Math.round(ms)} ms`);
  // What can hide beside binary data is still found, with its path.
  assert.equal(uncrossable({ files: [{ bytes, done: () => 1 }] }), "a function at .files[0].done");
  assert.equal(uncrossable(Object.create(null)), undefined);
});

Deno.test("a provider's method may answer at once, with a promise or with any thenable; its failures name the provider", async () => {
  const thenable = { then: (ok: (v: unknown) => void) => ok({ n: 3 }) };
  const chat = {
    now: (a: number, b: number) => a + b,
    later: (a: number) => Promise.resolve([a]),
    custom: () => thenable,
    throws: () => {
      throw Object.assign(new Error("down"), { code: "E_DOWN" });
    },
    rejects: () => Promise.reject(Object.assign(new Error("later down"), { code: "E_LATER" })),
  };
  const call = (method: string, args: unknown[] = []) =>
    runServiceCall(chat, { name: "chat", path: [method], args, kind: "call" }, "chat-plugin");
  assert.equal(await call("now", [1, 2]), 3);
  assert.deepEqual(await call("later", [7]), [7]);
  assert.deepEqual(await call("custom"), { n: 3 }); // awaited like a promise, not refused as a value with a method
  await assert.rejects(call("throws"), { message: "down", code: "E_DOWN", plugin: "chat-plugin" });
  await assert.rejects(call("rejects"), { message: "later down", code: "E_LATER", plugin: "chat-plugin" });
  // The names of a missing method and a method read as a property are built for the error alone.
  await assert.rejects(call("nope"), /Service "chat" has no method nope/);
  await assert.rejects(
    runServiceCall(chat, { name: "chat", path: ["now"], args: [], kind: "read" }, "chat-plugin"),
    /Service "chat" now is a method, not a property: call it \(await svc\.now\(\)\)/,
  );
  assert.equal(uncrossable(3), undefined);
  assert.equal(uncrossable(Symbol("s")), "a symbol");
  assert.equal(uncrossable(() => 1), "a function");
});

Deno.test("a thrown object that is not an Error keeps its code across", () => {
  assert.deepEqual(toWireError({ code: "E_QUOTA", message: "over quota" }), {
    name: "Error",
    message: "over quota",
    code: "E_QUOTA",
  });
  assert.deepEqual(toWireError("plain"), { name: "Error", message: "plain" });
  assert.deepEqual(toWireError(null), { name: "Error", message: "null" });
  const hostile = new Proxy({}, {
    get() {
      throw new Error("no");
    },
  });
  assert.equal(toWireError(hostile).code, undefined);
});

Deno.test("a result whose getter throws fails the call as the provider's error, in every placement", async () => {
  const chat = {
    state: () => ({
      get status(): string {
        throw Object.assign(new Error("status unknown"), { code: "E_STATUS" });
      },
    }),
  };
  await assert.rejects(runServiceCall(chat, { name: "chat", path: ["state"], args: [] }, "chat"), {
    message: "status unknown",
    code: "E_STATUS",
    plugin: "chat",
  });
});

Deno.test("a caller in another isolate cannot choose the `this` of a provider's method (call, apply, bind)", async () => {
  class Vault {
    owner = "admin";
    open(who: string): string {
      if (who !== this.owner) throw new Error("denied");
      return "the secret";
    }
  }
  const vault = new Vault();
  const run = (path: string[], args: unknown[]) => runServiceCall(vault, { name: "vault", path, args }, "p");
  assert.equal(await run(["open"], ["admin"]), "the secret");
  await assert.rejects(run(["open"], ["me"]), { message: "denied", plugin: "p" });
  // A plain object crosses as `this`: the provider's own check would pass against the caller's forgery.
  await assert.rejects(run(["open", "call"], [{ owner: "me" }, "me"]), { code: "PERMISSION_DENIED" });
  await assert.rejects(run(["open", "apply"], [{ owner: "me" }, ["me"]]), { code: "PERMISSION_DENIED" });
  await assert.rejects(run(["open", "bind"], [{ owner: "me" }]), { code: "PERMISSION_DENIED" });
  // What a function service holds itself is still reached.
  const counter = Object.assign(() => 1, { version: "2.0.0", reset: () => 0 });
  assert.equal(await runServiceCall(counter, { name: "counter", path: [], args: [] }, "p"), 1);
  assert.equal(await runServiceCall(counter, { name: "counter", path: ["reset"], args: [] }, "p"), 0);
  assert.equal(
    await runServiceCall(counter, { name: "counter", path: ["version"], args: [], kind: "read" }, "p"),
    "2.0.0",
  );
});
