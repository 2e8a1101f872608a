/**
 * What the benchmarks share: running a measuring child process that prints
 * its result as the last line of its stdout, and the median of some figures.
 *
 * @module
 */

/**
 * Runs `deno <args>` and reads the JSON its last line of stdout holds.
 *
 * @param args Deno's arguments (`run`, flags, the script and its own)
 * @param what the measurement, named in the error
 * @returns the parsed result
 * @throws {Error} when the process printed no result
 */
export async function runChild<T>(args: string[], what: string): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${what}: the process printed no result (exit ${out.code})`);
  }
}

/**
 * The median: the middle figure, or the mean of the two middle ones.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { median } from "./_child.ts";
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 3, 2]), 2.5);
 * ```
 *
 * @param xs the figures
 * @returns their median
 */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
