/**
 * Just enough semantic versioning for plugin dependencies: parse `1.2.3`
 * (with an optional pre-release) and test it against ranges such as `^1.0.0`,
 * `~1.2`, `>=1.0.0 <2.0.0`, `1.x`, `*` and `a || b`.
 *
 * @module
 */

/** A parsed version. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
}

const VERSION_RE = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
const PARTIAL_RE = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?$/;
const COMPARATOR_RE = /^(\^|~|>=|<=|>|<|=)?\s*(.+)$/;

/**
 * Parses a full version.
 *
 * @param version such as `1.2.3` or `2.0.0-beta.1`
 * @returns the parts, or undefined when it is not a version
 *
 * @example
 * ```ts
 * import { parseVersion } from "./semver.ts";
 * if (parseVersion("1.2.3")?.minor !== 2 || parseVersion("1.2") !== undefined) throw new Error();
 * ```
 */
export function parseVersion(version: string): SemVer | undefined {
  const m = VERSION_RE.exec(version.trim());
  if (!m) return undefined;
  return { major: +m[1], minor: +m[2], patch: +m[3], prerelease: m[4] ?? "" };
}

function compare(a: SemVer, b: SemVer): number {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d) return d;
  if (a.prerelease === b.prerelease) return 0;
  if (!a.prerelease) return 1;
  if (!b.prerelease) return -1;
  return a.prerelease < b.prerelease ? -1 : 1;
}

type Test = (v: SemVer) => boolean;

function comparator(text: string): Test | undefined {
  const m = COMPARATOR_RE.exec(text);
  if (!m) return undefined;
  const op = m[1] ?? "";
  const p = PARTIAL_RE.exec(m[2]);
  if (!p) return undefined;
  const wild = (s: string | undefined) => s === undefined || /^[xX*]$/.test(s);
  if (wild(p[1])) return op === "<" || op === ">" ? () => false : () => true;
  const major = +p[1];
  const minor = wild(p[2]) ? undefined : +p[2];
  const patch = wild(p[3]) ? undefined : +p[3];
  const low: SemVer = { major, minor: minor ?? 0, patch: patch ?? 0, prerelease: p[4] ?? "" };
  const ge = (v: SemVer) => compare(v, low) >= 0;
  const lt = (hi: SemVer) => (v: SemVer) => compare(v, hi) < 0;
  const next = (maj: number, min: number, pat: number): SemVer => ({
    major: maj,
    minor: min,
    patch: pat,
    prerelease: "",
  });
  // The exclusive upper bound for a partial version (1 -> <2.0.0, 1.2 -> <1.3.0).
  const partialHi = minor === undefined
    ? next(major + 1, 0, 0)
    : patch === undefined
    ? next(major, minor + 1, 0)
    : undefined;
  switch (op) {
    case "^": {
      const hi = major > 0 || minor === undefined
        ? next(major + 1, 0, 0)
        : minor > 0 || patch === undefined
        ? next(0, minor + 1, 0)
        : next(0, 0, (patch ?? 0) + 1);
      return (v) => ge(v) && lt(hi)(v);
    }
    case "~": {
      const hi = minor === undefined ? next(major + 1, 0, 0) : next(major, minor + 1, 0);
      return (v) => ge(v) && lt(hi)(v);
    }
    case ">=":
      return ge;
    case ">":
      return partialHi ? (v) => compare(v, partialHi) >= 0 : (v) => compare(v, low) > 0;
    case "<":
      return (v) => compare(v, low) < 0;
    case "<=":
      return partialHi ? lt(partialHi) : (v) => compare(v, low) <= 0;
    default:
      return partialHi ? (v) => ge(v) && lt(partialHi)(v) : (v) => compare(v, low) === 0;
  }
}

/**
 * Compiles a range.
 *
 * @param range such as `^1.0.0`, `>=1.2 <2`, `1.x || 2.x`
 * @returns a test, or undefined when the range is not valid
 *
 * @example
 * ```ts
 * import { parseRange, parseVersion } from "./semver.ts";
 * const test = parseRange(">=1.2 <2")!;
 * if (!test(parseVersion("1.9.0")!) || test(parseVersion("2.0.0")!)) throw new Error();
 * ```
 */
export function parseRange(range: string): Test | undefined {
  const alternatives: Test[] = [];
  for (const alt of range.trim().split("||")) {
    const parts = alt.trim().replace(/(\^|~|>=|<=|>|<|=)\s+/g, "$1").split(/\s+/).filter(Boolean);
    if (parts.length === 0) parts.push("*");
    const tests: Test[] = [];
    for (const part of parts) {
      const t = comparator(part);
      if (!t) return undefined;
      tests.push(t);
    }
    alternatives.push((v) => tests.every((t) => t(v)));
  }
  return (v) => alternatives.some((t) => t(v));
}

/**
 * Tests a version against a range.
 *
 * @param version a full version
 * @param range a range
 * @returns whether it satisfies the range; false when either is invalid
 *
 * @example
 * ```ts
 * import { satisfies } from "./semver.ts";
 * if (!satisfies("1.4.0", "^1.0.0") || satisfies("2.0.0", "^1.0.0")) throw new Error();
 * ```
 */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  const test = parseRange(range);
  return v !== undefined && test !== undefined && test(v);
}
