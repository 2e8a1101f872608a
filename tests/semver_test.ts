import assert from "node:assert/strict";
import { parseRange, parseVersion, satisfies } from "../src/semver.ts";

Deno.test("parseVersion() accepts full versions only", () => {
  assert.deepEqual(parseVersion("1.2.3-beta.1"), { major: 1, minor: 2, patch: 3, prerelease: "beta.1" });
  for (const bad of ["1.2", "01.2.3", "x", "1.2.3.4", ""]) assert.equal(parseVersion(bad), undefined, bad);
});

Deno.test("satisfies() follows npm's meaning of the common ranges", () => {
  const cases: [string, string, boolean][] = [
    ["1.4.0", "^1.0.0", true],
    ["2.0.0", "^1.0.0", false],
    ["0.2.5", "^0.2.1", true],
    ["0.3.0", "^0.2.1", false],
    ["0.0.3", "^0.0.3", true],
    ["0.0.4", "^0.0.3", false],
    ["1.2.9", "~1.2.3", true],
    ["1.3.0", "~1.2.3", false],
    ["1.9.0", ">=1.2 <2", true],
    ["2.0.0", ">=1.2 <2", false],
    ["1.5.0", "1.x", true],
    ["2.5.0", "1.x || 2.x", true],
    ["3.0.0", "1.x || 2.x", false],
    ["9.9.9", "*", true],
    ["1.0.0", "1.0.0", true],
    ["1.0.1", "=1.0.0", false],
    ["1.0.0-beta", "^1.0.0", false],
    ["1.0.0", "> 0.9.0", true],
  ];
  for (const [v, r, want] of cases) assert.equal(satisfies(v, r), want, `${v} in ${r}`);
});

Deno.test("invalid ranges are refused", () => {
  for (const bad of ["^x.y", ">>1", "1.2.3.4", "latest"]) assert.equal(parseRange(bad), undefined, bad);
  assert.equal(satisfies("1.0.0", "latest"), false);
});
