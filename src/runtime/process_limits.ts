/**
 * A sandboxed plugin's limits, enforced by the kernel or by V8 rather than
 * by plugboard: its heap (`--max-old-space-size`), its open files and CPU
 * time (`prlimit`), no core dumps; and the reason a child's exit is given,
 * read from its status and the last lines it wrote.
 *
 * @module
 */

/** What a sandboxed plugin's process may use. */
export interface SandboxLimits {
  /** Its V8 heap, in MB (the host's `memoryLimitMb`, or `limits.<name>.memoryMb`). */
  memoryMb: number;
  /** Descriptors it may hold open at once (Deno itself holds about 20). */
  openFiles: number;
  /** CPU seconds over its whole life, when set (SIGXCPU past them). */
  cpuSeconds?: number;
}

/**
 * The `prlimit` options for these limits.
 *
 * @param limits the limits
 * @returns prlimit's arguments, before its `--`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prlimitArgs } from "./process_limits.ts";
 * assert.deepEqual(prlimitArgs({ memoryMb: 128, openFiles: 64 }), ["--nofile=64:64", "--core=0"]);
 * assert.deepEqual(prlimitArgs({ memoryMb: 128, openFiles: 64, cpuSeconds: 5 }).at(-1), "--cpu=5:7");
 * ```
 */
export function prlimitArgs(limits: SandboxLimits): string[] {
  const args = [`--nofile=${limits.openFiles}:${limits.openFiles}`, "--core=0"];
  // The soft limit sends SIGXCPU (a reason we can name); the hard one, a little later, SIGKILL.
  if (limits.cpuSeconds) args.push(`--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 2}`);
  return args;
}

/**
 * Why a plugin's process ended, in words: the heap limit, the CPU limit, a
 * signal, or its exit code (with its last line of output when it has one).
 *
 * @param status how it ended
 * @param tail its last lines of output
 * @param limits its limits
 * @returns e.g. `"reached its heap limit (64 MB)"`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitReason } from "./process_limits.ts";
 * const limits = { memoryMb: 64, openFiles: 256 };
 * const oom = { success: false, code: 133, signal: "SIGTRAP" as const };
 * assert.equal(exitReason(oom, ["# Fatal JavaScript out of memory: Reached heap limit"], limits),
 *   "reached its heap limit (64 MB)");
 * assert.equal(exitReason({ success: false, code: 137, signal: "SIGKILL" }, [], limits), "was killed by signal 9 (SIGKILL)");
 * assert.equal(exitReason({ success: false, code: 3, signal: null }, ["boom"], limits), 'exited with code 3 ("boom")');
 * // A plugin printing V8's words and exiting is not V8's exit:
 * assert.match(exitReason({ success: false, code: 3, signal: null }, ["Reached heap limit"], limits), /^exited with code 3/);
 * ```
 */
export function exitReason(status: Deno.CommandStatus, tail: readonly string[], limits: SandboxLimits): string {
  // V8's out-of-memory exit is a trap (SIGTRAP, 133): only then is its message V8's, not one the plugin printed.
  const trapped = status.signal === "SIGTRAP" || status.code === 133;
  if (trapped && /out of memory|heap limit/i.test(tail.join("\n"))) {
    return `reached its heap limit (${limits.memoryMb} MB)`;
  }
  if (status.signal === "SIGXCPU") return `reached its CPU time limit (${limits.cpuSeconds} s)`;
  if (status.signal) return `was killed by signal ${signalNumber(status.signal)} (${status.signal})`;
  const last = tail.at(-1);
  return `exited with code ${status.code}${last ? ` (${JSON.stringify(last.slice(0, 200))})` : ""}`;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
};

function signalNumber(signal: string): string {
  return String(SIGNALS[signal] ?? signal);
}
