// plugboard's versions and ranges come from npm's semver; these tests pin the
// behaviour plugboard relies on: which versions and ranges a manifest accepts
// (and the messages it refuses the others with), and which loaded versions
// satisfy a dependency.
import assert from "node:assert/strict";
import { PluginError } from "../mod.ts";
import { planLoadOrder } from "../src/dependencies.ts";
import { normalizePlugin } from "../src/manifest.ts";

function manifestProblem(fields: Record<string, unknown>): string | undefined {
  try {
    normalizePlugin({ default: { name: "p", version: "1.0.0", setup() {}, ...fields } }, "/p/mod.ts", "p");
    return undefined;
  } catch (e) {
    assert.ok(e instanceof PluginError);
    return e.message;
  }
}

/** Whether `tasks@version` satisfies a plugin that depends on `tasks` with `range`. */
function satisfiesDependency(version: string, range: string): boolean {
  const plan = planLoadOrder(
    [{ name: "user", version: "1.0.0", dependencies: { tasks: range } }],
    new Map([["tasks", version]]),
  );
  return plan.order.includes("user");
}

Deno.test("a manifest accepts full versions, with pre-release and build, and refuses partial ones", () => {
  for (const good of ["1.2.3", "0.0.1", "2.0.0-beta.1", "1.0.0+build.5"]) {
    assert.equal(manifestProblem({ version: good }), undefined, good);
  }
  for (const bad of ["1.2", "01.2.3", "x", "1.2.3.4", "", "latest"]) {
    assert.match(
      manifestProblem({ version: bad }) ?? "",
      /version: must be a semantic version, such as "1\.0\.0"/,
      bad,
    );
  }
});

Deno.test("a manifest accepts the common range forms and refuses what is not a range", () => {
  for (const good of ["^1.0.0", "~1.2", ">=1 <2", "*", "1.x", "1.x || 2.x", "> 0.9.0", "=1.0.0", "1.2.3 - 2"]) {
    assert.equal(manifestProblem({ dependencies: { tasks: good } }), undefined, good);
  }
  for (const bad of ["^x.y", ">>1", "1.2.3.4", "latest"]) {
    assert.match(
      manifestProblem({ dependencies: { tasks: bad } }) ?? "",
      /dependencies\.tasks: must be a semver range, such as "\^1\.0\.0"/,
      bad,
    );
  }
});

Deno.test("a dependency is satisfied with npm's meaning of the range", () => {
  const cases: [string, string, boolean][] = [
    ["1.4.0", "^1.0.0", true],
    ["2.0.0", "^1.0.0", false],
    ["0.2.5", "^0.2.1", true],
    ["0.3.0", "^0.2.1", false],
    ["0.0.4", "^0.0.3", false],
    ["1.2.9", "~1.2", true],
    ["1.3.0", "~1.2", false],
    ["1.9.0", ">=1 <2", true],
    ["2.0.0", ">=1 <2", false],
    ["2.5.0", "1.x || 2.x", true],
    ["3.0.0", "1.x || 2.x", false],
    ["9.9.9", "*", true],
    ["1.0.1", "=1.0.0", false],
    ["1.0.0-beta", "^1.0.0", false],
  ];
  for (const [version, range, want] of cases) {
    assert.equal(satisfiesDependency(version, range), want, `${version} in ${range}`);
  }
});

Deno.test("an unsatisfied dependency names the range and the loaded version", () => {
  const plan = planLoadOrder(
    [{ name: "user", version: "1.0.0", dependencies: { tasks: "^2.0.0" } }],
    new Map([["tasks", "1.4.0"]]),
  );
  assert.equal(
    plan.failures.get("user")?.message,
    'Cannot load plugin "user": it depends on "tasks" ^2.0.0, but version 1.4.0 is loaded',
  );
});
