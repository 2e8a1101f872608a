import assert from "node:assert/strict";
import { EventBus, type PlugboardEvents, type SystemErrorEvent } from "../mod.ts";

Deno.test("emit() calls listeners in the order they were added, with payload and name", () => {
  const bus = new EventBus();
  const calls: string[] = [];
  bus.on("task.created", (p, name) => calls.push(`a:${p.taskId}:${name}`));
  bus.on("task.created", (p) => calls.push(`b:${p.taskId}`));
  assert.equal(bus.emit("task.created", { taskId: "t1" }), 2);
  assert.deepEqual(calls, ["a:t1:task.created", "b:t1"]);
});

Deno.test("emit() with no listeners returns 0 and calls nothing", () => {
  const bus = new EventBus();
  assert.equal(bus.emit("task.updated", { taskId: "t" }), 0);
});

Deno.test("once() fires a single time, even when emitted from inside its own handler", () => {
  const bus = new EventBus();
  let n = 0;
  bus.once("task.created", () => {
    n++;
    bus.emit("task.created", { taskId: "inner" });
  });
  bus.emit("task.created", { taskId: "outer" });
  bus.emit("task.created", { taskId: "again" });
  assert.equal(n, 1);
  assert.equal(bus.listenerCount(), 0);
});

Deno.test("off() removes only the given handler, and the returned unsubscribe works too", () => {
  const bus = new EventBus();
  const a = () => {};
  const b = () => {};
  bus.on("task.created", a);
  const offB = bus.on("task.created", b);
  assert.equal(bus.off("task.created", a), true);
  assert.equal(bus.off("task.created", a), false);
  assert.equal(bus.listenerCount("task.created"), 1);
  offB();
  assert.equal(bus.listenerCount(), 0);
});

Deno.test("a listener removed during emit is not called later in that emit", () => {
  const bus = new EventBus();
  const calls: string[] = [];
  let offSecond = () => {};
  bus.on("task.created", () => {
    calls.push("first");
    offSecond();
  });
  offSecond = bus.on("task.created", () => calls.push("second"));
  bus.emit("task.created", { taskId: "t" });
  assert.deepEqual(calls, ["first"]);
});

Deno.test("wildcards match by prefix and keep registration order with exact listeners", () => {
  const bus = new EventBus();
  const seen: string[] = [];
  bus.on("task.*", (_p, name) => seen.push(`wild:${name}`));
  bus.on("task.created", () => seen.push("exact"));
  bus.on("*", (_p, name) => seen.push(`all:${name}`));
  bus.emit("task.created", { taskId: "t" });
  bus.emit("agent.chat.started", { chatId: "c", agentId: "a" });
  assert.deepEqual(seen, ["wild:task.created", "exact", "all:task.created", "all:agent.chat.started"]);
});

Deno.test("a throwing handler does not stop the others and becomes system.error naming the plugin", () => {
  const bus = new EventBus();
  const errors: SystemErrorEvent[] = [];
  bus.on("system.error", (e) => errors.push(e));
  bus.on("task.failed", () => {
    throw new Error("boom");
  }, { owner: "flaky" });
  let after = false;
  bus.on("task.failed", () => {
    after = true;
  });
  bus.emit("task.failed", { taskId: "t", error: "x" });
  assert.equal(after, true);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].plugin, "flaky");
  assert.equal(errors[0].event, "task.failed");
  assert.equal(errors[0].origin, "event");
  assert.match(errors[0].message, /Handler of "task.failed" in plugin "flaky" failed: boom/);
});

Deno.test("a rejecting async handler becomes system.error", async () => {
  const bus = new EventBus();
  const errors: SystemErrorEvent[] = [];
  bus.on("system.error", (e) => errors.push(e));
  bus.on("task.created", () => Promise.reject(new Error("later")), { owner: "async-plugin" });
  bus.emit("task.created", { taskId: "t" });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(errors.length, 1);
  assert.equal(errors[0].plugin, "async-plugin");
});

Deno.test("a failing system.error handler goes to onUnhandled instead of recursing", () => {
  const unhandled: string[] = [];
  const bus = new EventBus({ onUnhandled: (_e, event, owner) => unhandled.push(`${event}:${owner}`) });
  bus.on("system.error", () => {
    throw new Error("again");
  }, { owner: "logger" });
  bus.on("task.created", () => {
    throw new Error("first");
  }, { owner: "p" });
  bus.emit("task.created", { taskId: "t" });
  assert.deepEqual(unhandled, ["system.error:logger"]);
});

Deno.test("with no system.error listener, failures go to onUnhandled", () => {
  const unhandled: unknown[] = [];
  const bus = new EventBus({ onUnhandled: (e) => unhandled.push(e) });
  bus.on("task.created", () => {
    throw new Error("lost?");
  });
  bus.emit("task.created", { taskId: "t" });
  assert.equal((unhandled[0] as Error).message, "lost?");
});

Deno.test("emitAsync() waits for every handler and counts failures", async () => {
  const bus = new EventBus({ onUnhandled: () => {} });
  const done: number[] = [];
  bus.on("task.created", async () => {
    await new Promise((r) => setTimeout(r, 5));
    done.push(1);
  });
  bus.on("task.created", () => {
    throw new Error("sync");
  });
  bus.on("task.created", () => Promise.reject(new Error("async")));
  const result = await bus.emitAsync("task.created", { taskId: "t" });
  assert.deepEqual(done, [1]);
  assert.deepEqual(result, { called: 3, failed: 2 });
});

Deno.test("an aborted signal removes the listener", () => {
  const bus = new EventBus();
  const ac = new AbortController();
  bus.on("task.created", () => {}, { signal: ac.signal });
  assert.equal(bus.listenerCount(), 1);
  ac.abort();
  assert.equal(bus.listenerCount(), 0);
});

Deno.test("removeOwner() and listenerCount(owner) work across exact and wildcard listeners", () => {
  const bus = new EventBus();
  bus.on("task.created", () => {}, { owner: "a" });
  bus.on("task.*", () => {}, { owner: "a" });
  bus.on("task.created", () => {}, { owner: "b" });
  assert.equal(bus.listenerCount("task.created"), 3);
  assert.equal(bus.listenerCount(undefined, "a"), 2);
  assert.equal(bus.removeOwner("a"), 2);
  assert.equal(bus.listenerCount(), 1);
});

Deno.test("on() refuses a handler that is not a function", () => {
  const bus = new EventBus();
  assert.throws(() => bus.on("task.created", "nope" as never), {
    name: "TypeError",
    message: 'Cannot listen to "task.created": handler must be a function, got string',
  });
});

Deno.test("event types: payloads are checked, custom events can be added", () => {
  type Custom = PlugboardEvents & { "invoice.paid": { id: string; cents: number } };
  const bus = new EventBus<Custom>();
  let cents = 0;
  bus.on("invoice.paid", (p) => {
    cents += p.cents;
  });
  bus.emit("invoice.paid", { id: "i", cents: 5 });
  const typeChecksOnly = () => {
    // @ts-expect-error a wrong payload type is a compile error
    bus.emit("invoice.paid", { id: 1 });
    // @ts-expect-error an unknown event is a compile error
    bus.emit("invoice.unknown", {});
  };
  assert.equal(typeof typeChecksOnly, "function");
  bus.on("task.*", (p) => {
    // The wildcard payload is the union of task events: taskId is on each.
    const id: string = p.taskId;
    return id;
  });
  assert.equal(cents, 5);
});
