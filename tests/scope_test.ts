import assert from "node:assert/strict";
import { PluginError } from "../mod.ts";
import { type Registration, Scope } from "../src/scope.ts";

function recorder(log: string[], name: string): Registration {
  return { activate: () => void log.push(`+${name}`), deactivate: () => void log.push(`-${name}`) };
}

Deno.test("staged registrations go live only on commit, in order", () => {
  const log: string[] = [];
  const scope = new Scope("p");
  scope.register(recorder(log, "a"));
  scope.register(recorder(log, "b"));
  assert.deepEqual(log, []);
  scope.commit();
  assert.deepEqual(log, ["+a", "+b"]);
  scope.commit();
  assert.deepEqual(log, ["+a", "+b"], "a second commit activates nothing again");
  scope.register(recorder(log, "c"));
  assert.deepEqual(log, ["+a", "+b", "+c"], "a registration on a live scope is live at once");
});

Deno.test("disposing a staged scope undoes nothing (nothing was live) but runs the disposers", async () => {
  const log: string[] = [];
  const scope = new Scope("p");
  scope.register(recorder(log, "a"));
  scope.onDispose(() => log.push("disposed"));
  assert.deepEqual(await scope.dispose(), []);
  assert.deepEqual(log, ["disposed"]);
});

Deno.test("deactivate() undoes in reverse order, once", () => {
  const log: string[] = [];
  const scope = new Scope("p");
  scope.register(recorder(log, "a"));
  scope.register(recorder(log, "b"));
  scope.commit();
  assert.deepEqual(scope.deactivate(), []);
  assert.deepEqual(scope.deactivate(), []);
  assert.deepEqual(log, ["+a", "+b", "-b", "-a"]);
});

Deno.test("dispose() runs every step even when one throws, and reports each failure", async () => {
  const log: string[] = [];
  const scope = new Scope("p");
  scope.register(recorder(log, "a"));
  scope.register({
    activate: () => {},
    deactivate: () => {
      throw new Error("undo failed");
    },
  });
  scope.onDispose(() => log.push("first disposer"));
  scope.onDispose(() => Promise.reject(new Error("disposer failed")), "close db");
  scope.commit();
  const failures = await scope.dispose(() => {
    log.push("teardown");
    throw new Error("teardown failed");
  });
  assert.deepEqual(log, ["+a", "teardown", "-a", "first disposer"]);
  assert.deepEqual(
    failures.map((f) => [f.step, (f.error as Error).message]),
    [["unload", "teardown failed"], ["registration", "undo failed"], ["close db", "disposer failed"]],
  );
  assert.equal(scope.signal.aborted, true);
  assert.deepEqual(await scope.dispose(), [], "a second dispose does nothing");
});

Deno.test("dispose() with timeoutMs reports a step that never settles as DISPOSE_FAILED and still runs the later steps", async () => {
  const log: string[] = [];
  const scope = new Scope("p");
  scope.onDispose(() => log.push("earlier disposer, runs last"));
  scope.onDispose(() => new Promise(() => {}), "stuck disposer");
  scope.onDispose(() => log.push("later disposer, runs first"));
  scope.register(recorder(log, "a"));
  scope.commit();
  const started = performance.now();
  const failures = await scope.dispose(() => new Promise(() => {}), { timeoutMs: 30 });
  assert.ok(performance.now() - started < 1_000, "bounded by the budget");
  assert.deepEqual(log, ["+a", "-a", "later disposer, runs first", "earlier disposer, runs last"]);
  assert.deepEqual(failures.map((f) => f.step), ["unload", "stuck disposer"]);
  for (const { error } of failures) {
    assert.ok(error instanceof PluginError);
    assert.equal(error.code, "DISPOSE_FAILED");
    assert.equal(error.plugin, "p");
    assert.match(error.message, /^Cannot unload plugin "p": its .* did not finish within the 30 ms unload budget/);
  }
});

Deno.test("registering anything after the scope closed throws UNLOADED", async () => {
  const scope = new Scope("p");
  await scope.dispose();
  assert.throws(() => scope.register(recorder([], "late")), (err: unknown) => {
    assert.ok(err instanceof PluginError);
    assert.equal(err.code, "UNLOADED");
    assert.equal(err.plugin, "p");
    return true;
  });
  assert.throws(() => scope.onDispose(() => {}), { code: "UNLOADED" });
});

Deno.test("onDispose() refuses what is not a function", () => {
  assert.throws(() => new Scope("p").onDispose(42 as never), TypeError);
});
