import assert from "node:assert/strict";
import { EventBus, type EventBusOptions, type PlugboardEvents, type SystemErrorEvent } from "../mod.ts";
import { dispatchersOf } from "../src/events.ts";

/**
 * Every behaviour below runs once per dispatch path the bus keeps, so a
 * path that differs (say, one that swallows errors) turns its own tests red:
 * - "generated": a name with listeners of its own, up to `unrollLimit` of them;
 * - "loop": the same lists through the loop (`unrollLimit: 0`), which is what
 *   lists longer than the limit get (see the >128 test further down).
 * Names matched only by wildcards are always dispatched by the loop; those
 * are covered by the "wildcard only" tests in the suite.
 */
const PATHS: Record<string, EventBusOptions> = { generated: {}, loop: { unrollLimit: 0 } };

for (const [path, base] of Object.entries(PATHS)) {
  const bus = (options: EventBusOptions = {}) => new EventBus({ ...base, ...options });
  const test = (name: string, fn: () => void | Promise<void>) => Deno.test(`[${path}] ${name}`, fn);

  test("emit() calls listeners in the order they were added, with payload and name", () => {
    const b = bus();
    const calls: string[] = [];
    b.on("task.created", (p, name) => calls.push(`a:${p.taskId}:${name}`));
    b.on("task.created", (p) => calls.push(`b:${p.taskId}`));
    b.on("task.created", function (this: unknown) {
      calls.push(`this:${this}`);
    });
    assert.equal(b.emit("task.created", { taskId: "t1" }), 3);
    assert.deepEqual(calls, ["a:t1:task.created", "b:t1", "this:undefined"]);
  });

  test("emit() with no listeners returns 0 and calls nothing", () => {
    const b = bus();
    assert.equal(b.emit("task.updated", { taskId: "t" }), 0);
    b.on("task.updated", () => {})();
    assert.equal(b.emit("task.updated", { taskId: "t" }), 0);
  });

  test("once() fires a single time, even when emitted from inside its own handler", () => {
    const b = bus();
    const calls: string[] = [];
    b.on("task.created", (p) => calls.push(`before:${p.taskId}`));
    b.once("task.created", (p) => {
      calls.push(`once:${p.taskId}`);
      b.emit("task.created", { taskId: "inner" });
    });
    b.on("task.created", (p) => calls.push(`after:${p.taskId}`));
    b.emit("task.created", { taskId: "outer" });
    b.emit("task.created", { taskId: "again" });
    assert.deepEqual(calls, [
      "before:outer",
      "once:outer",
      "before:inner",
      "after:inner",
      "after:outer",
      "before:again",
      "after:again",
    ]);
    assert.equal(b.listenerCount(), 2);
  });

  test("a once wildcard listener fires once and is then gone", () => {
    const b = bus();
    const seen: string[] = [];
    b.on("task.*", (_p, name) => seen.push(name), { once: true });
    b.on("task.created", () => seen.push("exact"));
    b.emit("task.created", { taskId: "t" });
    b.emit("task.updated", { taskId: "t" });
    b.emit("task.created", { taskId: "t" });
    assert.deepEqual(seen, ["task.created", "exact", "exact"]);
    assert.equal(b.listenerCount(), 1);
  });

  test("off() removes only the given handler, and the returned unsubscribe works too", () => {
    const b = bus();
    const calls: string[] = [];
    const a = () => calls.push("a");
    const c = () => calls.push("b");
    b.on("task.created", a);
    const offB = b.on("task.created", c);
    assert.equal(b.off("task.created", a), true);
    assert.equal(b.off("task.created", a), false);
    b.emit("task.created", { taskId: "t" });
    assert.deepEqual(calls, ["b"]);
    assert.equal(b.listenerCount("task.created"), 1);
    offB();
    offB();
    assert.equal(b.listenerCount(), 0);
    assert.equal(b.emit("task.created", { taskId: "t" }), 0);
  });

  test("off() with an owner removes only that owner's registration", () => {
    const b = bus();
    const calls: string[] = [];
    const fn = (_p: unknown) => calls.push("x");
    b.on("task.created", fn, { owner: "a" });
    b.on("task.created", fn, { owner: "b" });
    assert.equal(b.off("task.created", fn, "b"), true);
    assert.equal(b.listenerCount(undefined, "a"), 1);
    assert.equal(b.listenerCount(undefined, "b"), 0);
  });

  test("the event's name reaches handlers that declare it, or take rest parameters", () => {
    const b = bus();
    const got: unknown[] = [];
    b.on("task.created", (p) => got.push(["one", p.taskId]));
    b.on("task.created", (p, name) => got.push(["two", p.taskId, name]));
    b.on(
      "task.created",
      (...args: unknown[]) => got.push(["rest", ...args.map((a) => (a as { taskId?: string })?.taskId ?? a)]),
    );
    b.emit("task.created", { taskId: "t" });
    assert.deepEqual(got, [["one", "t"], ["two", "t", "task.created"], ["rest", "t", "task.created"]]);
  });

  test("a handler that can tell gets the name: a defaulted second parameter, or arguments", () => {
    const b = bus();
    const got: unknown[] = [];
    b.on("task.created", (_p, name = "(none)") => got.push(name));
    b.on("task.created", function (_p: unknown) {
      got.push(arguments[1]);
    });
    b.emit("task.created", { taskId: "t" });
    b.emit("task.created", { taskId: "t" });
    assert.deepEqual(got, ["task.created", "task.created", "task.created", "task.created"]);
  });

  test("what handlers return: null and plain values are ignored; a rejection or a throwing then() is a failure", async () => {
    const failures: unknown[] = [];
    const b = bus({ onHandlerError: (f) => void failures.push((f.error as Error).message) });
    b.on("task.created", () => null);
    b.on("task.created", () => ({ then: 42 }));
    b.on("task.created", () => 7);
    b.on("task.created", () => ({
      get then() {
        throw new Error("then getter");
      },
    }));
    b.on("task.created", () => Promise.reject(new Error("rejected")));
    assert.equal(b.emit("task.created", { taskId: "t" }), 5);
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(failures.sort(), ["rejected", "then getter"]);
  });

  test("a listener removed during emit is not called later in that emit", () => {
    const b = bus();
    const calls: string[] = [];
    let offSecond = () => {};
    let offWild = () => {};
    b.on("task.created", () => {
      calls.push("first");
      offSecond();
      offWild();
    });
    offSecond = b.on("task.created", () => calls.push("second"));
    offWild = b.on("task.*", () => calls.push("wild"));
    b.on("task.created", () => calls.push("third"));
    b.emit("task.created", { taskId: "t" });
    assert.deepEqual(calls, ["first", "third"]);
  });

  test("a listener removed after another handler changed the list is still skipped in that emit", () => {
    const b = bus();
    const calls: string[] = [];
    let offC = () => {};
    b.once("task.created", () => {
      calls.push("a");
      b.on("task.created", () => calls.push("added"));
    });
    b.on("task.created", () => (calls.push("b"), offC()));
    offC = b.on("task.created", () => calls.push("c"));
    b.emit("task.created", { taskId: "t" });
    b.emit("task.created", { taskId: "t" });
    assert.deepEqual(calls, ["a", "b", "b", "added"]);
  });

  // 8 listeners: each call's target is swapped on retirement; 40: a flag is (see generatedDispatcher).
  for (const n of [8, 40]) {
    test(`in optimised code (300,000 emits first), one of ${n} listeners unloaded mid-emit is skipped`, async () => {
      // The third handler unloads an owner on every emit ("nobody" until the last), so that the call is not new to
      // V8 when it matters: the dispatcher is then running optimised code, which checks nothing per listener until
      // its retirement throws that code away (traced with --trace-deopt: "dependent field type constness changed").
      const b = bus();
      const calls = new Array<number>(n).fill(0);
      let target = "nobody";
      for (let i = 0; i < n; i++) {
        const count = (p: { taskId: string }) => (calls[i] += p.taskId.length);
        const unload = (p: { taskId: string }) => (count(p), b.removeOwner(target));
        b.on("task.created", i === 2 ? unload : count, { owner: i === 6 ? "victim" : undefined });
      }
      await Promise.resolve(); // a list over 16 gets its generated code from a microtask
      for (let k = 0; k < 300_000; k++) b.emit("task.created", { taskId: "t" });
      target = "victim";
      assert.equal(b.emit("task.created", { taskId: "t" }), n);
      const expected = calls.map((_, i) => i === 6 ? 300_000 : 300_001);
      assert.deepEqual(calls, expected);
      assert.equal(b.emit("task.created", { taskId: "t" }), n - 1);
      assert.deepEqual(calls, expected.map((c, i) => i === 6 ? c : c + 1));
    });
  }

  test("a listener added during emit runs from the next emit on", () => {
    const b = bus();
    const calls: string[] = [];
    b.once("task.created", () => {
      calls.push("first");
      b.on("task.created", () => calls.push("added"));
    });
    b.emit("task.created", { taskId: "t" });
    b.emit("task.created", { taskId: "t" });
    assert.deepEqual(calls, ["first", "added"]);
  });

  test("wildcards match by prefix and keep registration order with exact listeners", () => {
    const b = bus();
    const seen: string[] = [];
    b.on("task.*", (_p, name) => seen.push(`wild:${name}`));
    b.on("task.created", () => seen.push("exact"));
    b.on("*", (_p, name) => seen.push(`all:${name}`));
    b.emit("task.created", { taskId: "t" });
    b.emit("agent.chat.started", { chatId: "c", agentId: "a" });
    assert.deepEqual(seen, ["wild:task.created", "exact", "all:task.created", "all:agent.chat.started"]);
  });

  test("a wildcard added or removed after names were emitted applies to them at once", () => {
    const b = bus();
    const seen: string[] = [];
    b.on("task.created", () => seen.push("exact"));
    b.emit("task.created", { taskId: "t" });
    b.emit("task.updated", { taskId: "t" });
    const off = b.on("task.*", (_p, name) => seen.push(`wild:${name}`));
    b.emit("task.created", { taskId: "t" });
    b.emit("task.updated", { taskId: "t" });
    off();
    b.emit("task.created", { taskId: "t" });
    b.emit("task.updated", { taskId: "t" });
    assert.deepEqual(seen, ["exact", "exact", "wild:task.created", "wild:task.updated", "exact"]);
  });

  test("names with no listeners do not match wildcards of another prefix", () => {
    const b = bus();
    const seen: string[] = [];
    b.on("agent.*", (_p, name) => seen.push(name));
    assert.equal(b.emit("task.created", { taskId: "t" }), 0);
    assert.equal(b.emit("agent.chat.started", { chatId: "c", agentId: "a" }), 1);
    assert.deepEqual(seen, ["agent.chat.started"]);
  });

  for (const position of ["first", "middle", "last"] as const) {
    test(`a handler that throws (${position}) does not stop the others and becomes system.error`, () => {
      const b = bus();
      const errors: SystemErrorEvent[] = [];
      b.on("system.error", (e) => errors.push(e));
      const ran: number[] = [];
      const at = { first: 0, middle: 2, last: 4 }[position];
      for (let i = 0; i < 5; i++) {
        if (i === at) {
          b.on("task.failed", () => {
            throw new Error("boom");
          }, { owner: "flaky" });
        } else b.on("task.failed", () => ran.push(i));
      }
      assert.equal(b.emit("task.failed", { taskId: "t", error: "x" }), 5);
      assert.deepEqual(ran, [0, 1, 2, 3, 4].filter((i) => i !== at));
      assert.equal(errors.length, 1);
      assert.equal(errors[0].plugin, "flaky");
      assert.equal(errors[0].event, "task.failed");
      assert.equal(errors[0].origin, "event");
      assert.equal(errors[0].message, 'Handler of "task.failed" in plugin "flaky" failed: boom');
      assert.equal((errors[0].error as Error).message, "boom");
    });
  }

  test("a throwing wildcard-only listener is isolated too", () => {
    const b = bus();
    const errors: SystemErrorEvent[] = [];
    b.on("system.error", (e) => errors.push(e));
    b.on("task.*", () => {
      throw "not an Error";
    }, { owner: "w" });
    let after = 0;
    b.on("task.*", () => after++);
    b.emit("task.updated", { taskId: "t" });
    assert.equal(after, 1);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].message, 'Handler of "task.updated" in plugin "w" failed: not an Error');
  });

  test("a rejecting async handler becomes system.error; a resolving one does not", async () => {
    const b = bus();
    const errors: SystemErrorEvent[] = [];
    b.on("system.error", (e) => errors.push(e));
    b.on("task.created", () => Promise.reject(new Error("later")), { owner: "async-plugin" });
    b.on("task.created", () => Promise.resolve(1));
    b.on("task.created", () => ({ then: 1 }));
    b.emit("task.created", { taskId: "t" });
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(errors.length, 1);
    assert.equal(errors[0].plugin, "async-plugin");
    assert.equal(errors[0].message, 'Handler of "task.created" in plugin "async-plugin" failed: later');
  });

  test("a failing system.error handler goes to onUnhandled instead of recursing", () => {
    const unhandled: string[] = [];
    const b = bus({ onUnhandled: (_e, event, owner) => unhandled.push(`${event}:${owner}`) });
    b.on("system.error", () => {
      throw new Error("again");
    }, { owner: "logger" });
    b.on("task.created", () => {
      throw new Error("first");
    }, { owner: "p" });
    b.emit("task.created", { taskId: "t" });
    assert.deepEqual(unhandled, ["system.error:logger"]);
  });

  test("with no system.error listener, failures go to onUnhandled", () => {
    const unhandled: string[] = [];
    const b = bus({ onUnhandled: (e, event, owner) => unhandled.push(`${(e as Error).message}:${event}:${owner}`) });
    b.on("task.created", () => {
      throw new Error("lost?");
    });
    b.emit("task.created", { taskId: "t" });
    assert.deepEqual(unhandled, ["lost?:task.created:undefined"]);
  });

  test("onHandlerError gets every failure instead of system.error; its own failure goes to onUnhandled", async () => {
    const failures: unknown[] = [];
    const unhandled: string[] = [];
    const b = bus({
      onHandlerError: (f) => {
        failures.push(f);
        if (f.owner === "worst") throw new Error("reporter broke");
      },
      onUnhandled: (e, event) => unhandled.push(`${event}:${(e as Error).message}`),
    });
    const systemErrors: unknown[] = [];
    b.on("system.error", (e) => systemErrors.push(e));
    const sync = new Error("sync");
    const rejected = new Error("async");
    b.on("task.created", () => {
      throw sync;
    }, { owner: "p" });
    b.on("task.created", () => Promise.reject(rejected));
    b.on("task.created", () => {
      throw new Error("x");
    }, { owner: "worst" });
    b.emit("task.created", { taskId: "t" });
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(systemErrors, []);
    assert.equal(failures.length, 3);
    assert.deepEqual(failures[0], { event: "task.created", owner: "p", error: sync });
    assert.deepEqual(failures[2], { event: "task.created", owner: undefined, error: rejected });
    assert.deepEqual(unhandled, ["task.created:reporter broke"]);
  });

  test("emitAsync() waits for every handler and counts failures", async () => {
    const reported: string[] = [];
    const b = bus({ onUnhandled: (e) => reported.push((e as Error).message) });
    const done: number[] = [];
    b.on("task.created", async () => {
      await new Promise((r) => setTimeout(r, 5));
      done.push(1);
    });
    b.on("task.created", () => {
      throw new Error("sync");
    });
    b.on("task.*", () => Promise.reject(new Error("async")));
    b.once("task.created", () => done.push(2));
    const result = await b.emitAsync("task.created", { taskId: "t" });
    assert.deepEqual(done, [2, 1]);
    assert.deepEqual(result, { called: 4, failed: 2 });
    assert.deepEqual(reported, ["sync", "async"]);
    assert.equal(b.listenerCount("task.created"), 3);
  });

  test("emitAsync() skips a listener an earlier handler removed, as emit() does", async () => {
    const b = bus();
    const calls: string[] = [];
    let offB = () => {};
    b.on("task.created", () => (calls.push("a"), offB()));
    offB = b.on("task.created", () => calls.push("b"));
    assert.deepEqual(await b.emitAsync("task.created", { taskId: "t" }), { called: 1, failed: 0 });
    assert.deepEqual(calls, ["a"]);
  });

  // Values a handler may throw that String() cannot convert, or whose message cannot be read.
  const unprintable: Record<string, () => unknown> = {
    "an object without a prototype": () => Object.create(null),
    "a toString that throws": () => ({
      toString: () => {
        throw new Error("no");
      },
    }),
    "an Error whose message getter throws": () =>
      Object.defineProperty(new Error("x"), "message", {
        get: () => {
          throw new Error("no");
        },
      }),
    "a revoked Proxy": () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    },
  };
  for (const [what, make] of Object.entries(unprintable)) {
    test(`a handler that throws or rejects with ${what} is reported, and the others still run`, async () => {
      const b = bus();
      const errors: SystemErrorEvent[] = [];
      b.on("system.error", (e) => errors.push(e));
      b.on("task.created", () => {
        throw make();
      }, { owner: "odd" });
      b.on("task.created", () => Promise.reject(make()), { owner: "odd" });
      let ran = 0;
      b.on("task.created", () => ran++);
      b.emit("task.created", { taskId: "t" });
      await new Promise((r) => setTimeout(r, 0));
      assert.equal(ran, 1);
      assert.equal(errors.length, 2);
      for (const e of errors) {
        assert.match(
          e.message,
          /^Handler of "task.created" in plugin "odd" failed: a thrown object that cannot be shown as text$/,
        );
      }
    });
  }

  test("an onUnhandled that throws goes to the console, and the other handlers still run", () => {
    const b = bus({
      onUnhandled: () => {
        throw new Error("reporter broke");
      },
    });
    let ran = 0;
    b.on("task.created", () => {
      throw new Error("boom");
    });
    b.on("task.created", () => ran++);
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      assert.equal(b.emit("task.created", { taskId: "t" }), 2);
    } finally {
      console.error = original;
    }
    assert.equal(ran, 1);
    assert.match(
      String((logged[0] as unknown[])[0]),
      /onUnhandled threw while reporting a failed handler of "task.created"/,
    );
  });

  test("a hand-made thenable that rejects twice is reported once", async () => {
    const failures: unknown[] = [];
    const b = bus({ onHandlerError: ({ error }) => failures.push(error) });
    b.on("task.created", () => ({
      then(_ok: unknown, fail: (e: unknown) => void) {
        fail("first");
        fail("second");
      },
    }));
    b.emit("task.created", { taskId: "t" });
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(failures, ["first"]);
  });

  for (const n of [2, 40]) {
    test(`past 2,048 names resolved by a first emit, one of ${n} listeners removed mid-emit is still skipped`, async () => {
      // The name's last own listeners go mid-emit, so it becomes a lazy name, and adding it empties the cache: the
      // dispatcher running the emit is dropped from the table, and must be retired like a replaced one.
      const b = bus() as unknown as EventBus<Record<string, undefined>>;
      for (let i = 0; i < 2048; i++) b.emit(`lazy.${i}`, undefined);
      const calls: number[] = [];
      b.on("x", () => (calls.push(0), b.removeOwner("o")), { owner: "o" });
      for (let i = 1; i < n; i++) b.on("x", () => calls.push(i), { owner: "o" });
      await Promise.resolve();
      b.emit("x", undefined);
      assert.deepEqual(calls, [0]);
      b.emit("x", undefined);
      assert.deepEqual(calls, [0]);
    });
  }

  test("an aborted signal removes the listener; an already aborted one never adds it", () => {
    const b = bus();
    const ac = new AbortController();
    let n = 0;
    b.on("task.created", () => n++, { signal: ac.signal });
    b.emit("task.created", { taskId: "t" });
    ac.abort();
    b.emit("task.created", { taskId: "t" });
    b.on("task.created", () => n++, { signal: ac.signal });
    b.emit("task.created", { taskId: "t" });
    assert.equal(n, 1);
    assert.equal(b.listenerCount(), 0);
  });

  test("removeOwner() removes exact and wildcard listeners at once, and emit sees it", () => {
    const b = bus();
    const calls: string[] = [];
    b.on("task.created", () => calls.push("a1"), { owner: "a" });
    b.on("task.*", () => calls.push("a2"), { owner: "a" });
    b.on("task.created", () => calls.push("b"), { owner: "b" });
    assert.equal(b.listenerCount("task.created"), 3);
    assert.equal(b.listenerCount(undefined, "a"), 2);
    assert.equal(b.removeOwner("a"), 2);
    assert.equal(b.removeOwner("a"), 0);
    assert.equal(b.listenerCount(), 1);
    b.emit("task.created", { taskId: "t" });
    assert.deepEqual(calls, ["b"]);
  });
}

Deno.test("more than 128 listeners (the loop) keep order, once, removal during emit and isolation", () => {
  const errors: SystemErrorEvent[] = [];
  const bus = new EventBus();
  bus.on("system.error", (e) => errors.push(e));
  const calls: number[] = [];
  let offLast = () => {};
  for (let i = 0; i < 200; i++) {
    if (i === 150) {
      bus.on("task.created", () => {
        throw new Error("150");
      }, { owner: "p150" });
    } else if (i === 10) bus.once("task.created", () => calls.push(10));
    else if (i === 20) bus.on("task.created", () => (calls.push(20), offLast()));
    else if (i === 199) offLast = bus.on("task.created", () => calls.push(199));
    else bus.on("task.created", () => calls.push(i));
  }
  assert.equal(bus.emit("task.created", { taskId: "t" }), 200);
  assert.deepEqual(calls, Array.from({ length: 199 }, (_, i) => i).filter((i) => i !== 150));
  assert.deepEqual(errors.map((e) => e.plugin), ["p150"]);
  calls.length = 0;
  assert.equal(bus.emit("task.created", { taskId: "t" }), 198);
  assert.equal(calls.length, 197);
  assert.equal(calls.includes(10), false);
});

Deno.test("each name has a ready dispatcher: generated for its own listeners, the loop otherwise, none when empty", async () => {
  const bus = new EventBus();
  const kinds = () => Object.fromEntries(dispatchersOf(bus));
  const offs = [bus.on("task.created", () => {}), bus.on("task.created", () => {})];
  bus.on("agent.*", () => {});
  bus.emit("agent.chat.started", { chatId: "c", agentId: "a" });
  bus.emit("task.updated", { taskId: "t" });
  assert.deepEqual(kinds(), {
    "task.created": "dispatch",
    "agent.chat.started": "loopDispatch",
    "task.updated": "dispatchNone",
  });
  for (const off of offs) off();
  assert.equal(kinds()["task.created"], "dispatchNone");
  for (let i = 0; i < 40; i++) bus.on("task.failed", () => {});
  assert.equal(kinds()["task.failed"], "loopDispatch");
  await Promise.resolve();
  assert.equal(kinds()["task.failed"], "dispatch");
  for (let i = 0; i < 100; i++) bus.on("task.failed", () => {});
  await Promise.resolve();
  assert.equal(kinds()["task.failed"], "loopDispatch");
  const loopBus = new EventBus({ unrollLimit: 0 });
  loopBus.on("task.created", () => {});
  assert.equal(dispatchersOf(loopBus).get("task.created"), "loopDispatch");
});

Deno.test("a list of 17 to 128 listeners dispatches alike before and after its generated code is built", async () => {
  const errors: SystemErrorEvent[] = [];
  const bus = new EventBus();
  bus.on("system.error", (e) => errors.push(e));
  const calls: string[] = [];
  let offLast = () => {};
  for (let i = 0; i < 40; i++) {
    if (i === 5) {
      bus.on("task.created", () => {
        throw new Error("five");
      }, { owner: "p5" });
    } else if (i === 6) bus.once("task.created", (p) => calls.push(`once:${p.taskId}`));
    else if (i === 7) bus.on("task.created", () => offLast());
    else if (i === 39) offLast = bus.on("task.created", (p) => calls.push(`last:${p.taskId}`));
    else bus.on("task.created", () => {});
  }
  // Emitted at once (the loop), then after a microtask (the generated code), then once more after a change.
  assert.equal(bus.emit("task.created", { taskId: "a" }), 40);
  offLast = bus.on("task.created", (p) => calls.push(`new:${p.taskId}`));
  await Promise.resolve();
  assert.equal(bus.emit("task.created", { taskId: "b" }), 39);
  bus.on("task.created", (p) => calls.push(`more:${p.taskId}`));
  assert.equal(bus.emit("task.created", { taskId: "c" }), 39);
  await Promise.resolve();
  assert.equal(bus.emit("task.created", { taskId: "d" }), 39);
  assert.deepEqual(calls, ["once:a", "more:c", "more:d"]);
  assert.deepEqual(errors.map((e) => e.message.slice(-4)), ["five", "five", "five", "five"]);
});

Deno.test("past 2,048 names resolved by a first emit, the cache is emptied and every name still dispatches right", () => {
  const bus = new EventBus<Record<string, number>>();
  const seen = new Map<string, number>();
  const offWild = bus.on("n.*", (_p, name) => seen.set(name, (seen.get(name) ?? 0) + 1));
  let exact = 0;
  bus.on("n.exact", () => exact++);
  for (let i = 0; i < 5000; i++) assert.equal(bus.emit(`n.${i}`, i), 1);
  assert.equal(seen.size, 5000);
  // At most 2,048 lazy names are kept; the name with a listener of its own keeps its generated code.
  const kinds = dispatchersOf(bus);
  assert.ok(kinds.size <= 2049, `${kinds.size} names kept`);
  assert.equal(kinds.get("n.exact"), "dispatch");
  assert.equal(kinds.get("n.4999"), "loopDispatch");
  // Names from before and after the evictions; the exact name kept its listener throughout.
  for (const name of ["n.0", "n.2047", "n.2048", "n.4999"]) assert.equal(bus.emit(name, 0), 1);
  assert.equal(bus.emit("n.exact", 0), 2);
  assert.equal(exact, 1);
  bus.on("n.0", () => exact++);
  assert.equal(bus.emit("n.0", 0), 2);
  offWild();
  for (const name of ["n.1", "n.3000", "n.4999"]) assert.equal(bus.emit(name, 0), 0);
  assert.equal(bus.emit("n.0", 0), 1);
  assert.equal(bus.emit("n.exact", 0), 1);
  assert.equal(exact, 4);
  assert.equal(seen.get("n.0"), 3);
});

Deno.test("names such as toString or __proto__ are ordinary event names", () => {
  const bus = new EventBus<Record<string, number>>();
  assert.equal(bus.emit("toString", 1), 0);
  let got = 0;
  bus.on("__proto__", (n) => {
    got = n;
  });
  assert.equal(bus.emit("__proto__", 5), 1);
  assert.equal(got, 5);
});

Deno.test("on() refuses a handler that is not a function; the bus refuses a negative unrollLimit", () => {
  const bus = new EventBus();
  assert.throws(() => bus.on("task.created", "nope" as never), {
    name: "TypeError",
    message: 'Cannot listen to "task.created": handler must be a function, got string',
  });
  assert.throws(() => new EventBus({ unrollLimit: -1 }), {
    name: "RangeError",
    message: "Cannot create the event bus as 'unrollLimit' must be 0 or more: current value is -1",
  });
});

Deno.test("event types: custom events can be added and wildcard payloads are unions", () => {
  type Custom = PlugboardEvents & { "invoice.paid": { id: string; cents: number } };
  const bus = new EventBus<Custom>();
  let cents = 0;
  bus.on("invoice.paid", (p) => {
    cents += p.cents;
  });
  bus.emit("invoice.paid", { id: "i", cents: 5 });
  assert.equal(cents, 5);
});

/** Compile-time checks only: `deno check` fails if an expected error disappears. Never called. */
function _typeChecks(bus: EventBus<PlugboardEvents & { "invoice.paid": { id: string; cents: number } }>) {
  // @ts-expect-error a wrong payload type is a compile error
  bus.emit("invoice.paid", { id: 1 });
  // @ts-expect-error an unknown event is a compile error
  bus.emit("invoice.unknown", {});
  // @ts-expect-error a handler of the wrong payload type is a compile error
  bus.on("invoice.paid", (p: { cents: string }) => p);
  // The wildcard payload is the union of task events: taskId is on each.
  bus.on("task.*", (p): string => p.taskId);
}
