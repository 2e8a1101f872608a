import assert from "node:assert/strict";
import { dependentsOf, planLoadOrder } from "../src/dependencies.ts";

const node = (name: string, dependencies: Record<string, string> = {}, version = "1.0.0") => ({
  name,
  version,
  dependencies,
});

Deno.test("planLoadOrder() puts dependencies first", () => {
  const plan = planLoadOrder([node("c", { b: "^1" }), node("b", { a: "^1" }), node("a")], new Map());
  assert.deepEqual(plan.order, ["a", "b", "c"]);
  assert.equal(plan.failures.size, 0);
});

Deno.test("a missing dependency fails that plugin and its dependents only, naming the chain", () => {
  const plan = planLoadOrder(
    [node("tracker", { tasks: "^1.0.0" }), node("report", { tracker: "*" }), node("free")],
    new Map(),
  );
  assert.deepEqual(plan.order, ["free"]);
  assert.match(
    plan.failures.get("tracker")!.message,
    /^Cannot load plugin "tracker": it depends on "tasks" \(\^1.0.0\), which is not loaded \(tracker → tasks\)/,
  );
  assert.match(plan.failures.get("report")!.message, /its dependency "tracker" cannot load \(report → tracker\)/);
  assert.equal(plan.failures.get("report")!.code, "DEPENDENCY");
});

Deno.test("a version outside the range fails with both versions named", () => {
  const plan = planLoadOrder([node("tracker", { tasks: "^2.0.0" })], new Map([["tasks", "1.4.0"]]));
  assert.equal(
    plan.failures.get("tracker")!.message,
    'Cannot load plugin "tracker": it depends on "tasks" ^2.0.0, but version 1.4.0 is loaded',
  );
});

Deno.test("already active plugins satisfy dependencies", () => {
  const plan = planLoadOrder([node("tracker", { tasks: "^1.0.0" })], new Map([["tasks", "1.4.0"]]));
  assert.deepEqual(plan.order, ["tracker"]);
});

Deno.test("a cycle fails its members with the cycle named; the rest loads", () => {
  const plan = planLoadOrder(
    [node("a", { b: "*" }), node("b", { c: "*" }), node("c", { a: "*" }), node("d")],
    new Map(),
  );
  assert.deepEqual(plan.order, ["d"]);
  assert.match(plan.failures.get("a")!.message, /dependency cycle a → b → c → a/);
  assert.ok(plan.failures.has("b") && plan.failures.has("c"));
});

Deno.test("dependentsOf() lists dependents deepest first", () => {
  const active = [node("tasks"), node("tracker", { tasks: "*" }), node("report", { tracker: "*" }), node("other")];
  assert.deepEqual(dependentsOf("tasks", active), ["report", "tracker"]);
  assert.deepEqual(dependentsOf("other", active), []);
});
