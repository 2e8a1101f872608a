/**
 * A sandboxed plugin's own Deno process, seen from the host as a Worker:
 * `postMessage`, `onmessage`, `onerror`, `terminate()`. It is started through
 * `prlimit` (open files, core dumps, CPU time: limits the kernel enforces)
 * and `setpriv --pdeathsig KILL` (it dies with the host, even when its loop
 * is stuck), with Deno's own permission flags built from the plugin's grant,
 * a V8 heap limit, a clean environment, its folder as working directory and
 * a frozen lock copy. It talks to the host over its stdin and stdout (no
 * permission on either side; its stdin closing ends it); its stderr is
 * drained into the host's log.
 *
 * @module
 */

import { PluginError } from "../errors.ts";
import { escapeControl } from "../log_escape.ts";
import type { Logger } from "../logger.ts";
import { FrameChannel } from "./process_channel.ts";
import { exitReason, prlimitArgs, type SandboxLimits } from "./process_limits.ts";
import { permissionFlags } from "./process_flags.ts";
import { LOG_RATE, RateBudget } from "./rate_budget.ts";

const MAIN_URL = new URL("./process_main.ts", import.meta.url);
/** Output lines kept for a crash's reason, and the longest line logged. */
const TAIL_LINES = 20;
const MAX_LINE = 10_000;

/** What the host side of a plugin's channel exposes: a Worker's surface. */
export interface WorkerLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message: string; preventDefault(): void }) => void) | null;
  onmessageerror: ((event: unknown) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
  terminate(): void;
}

/** How to start one sandboxed plugin. */
export interface SpawnOptions {
  /** The plugin's name, for messages and the log. */
  name: string;
  /** Its permission set, as a worker would get it; becomes the child's flags. */
  granted: Deno.PermissionOptionsObject;
  limits: SandboxLimits;
  /** Its working directory: its own folder (or its data folder). */
  cwd: string;
  /** plugboard's deno.json, whose imports the child resolves with, and the frozen lock copy it must not change. */
  config: string;
  lock: string;
  /** Its environment: only what it declared, plus what Deno itself needs to find its cache. */
  env: Record<string, string>;
  log?: Logger;
  /** Lines of its output logged per second at most (`limits.<name>.logsPerSecond`). @default 100 */
  logsPerSecond?: number;
}

/** One plugin's process, and its channel. */
export class ProcessWorker implements WorkerLike {
  onmessage: WorkerLike["onmessage"] = null;
  onerror: WorkerLike["onerror"] = null;
  onmessageerror: WorkerLike["onmessageerror"] = null;
  /** The child's process id. */
  readonly pid: number;
  /** Its limits, as started. */
  readonly limits: SandboxLimits;
  /** Settles when the child has exited and its output is drained. */
  readonly exited: Promise<Deno.CommandStatus>;
  #child: Deno.ChildProcess;
  #channel: FrameChannel;
  #terminated = false;
  #failed = false;
  #tail: string[] = [];

  private constructor(child: Deno.ChildProcess, options: SpawnOptions) {
    this.#child = child;
    const channel = this.#channel = new FrameChannel(child.stdout, child.stdin);
    const tail = this.#tail;
    const log = options.log?.child(options.name);
    // Its output is logged within its log budget, as a worker's lines are; the last lines are kept whatever the rate.
    const budget = new RateBudget(options.logsPerSecond ?? LOG_RATE, (n, limit) => {
      log?.warn(`${n} lines of its output dropped (over ${limit} per second)`);
    });
    const output = drainLines(child.stderr, (line) => budget.take() && log?.warn(line), tail).finally(() =>
      budget.close()
    );
    this.pid = child.pid;
    this.limits = options.limits;
    channel.onmessage = (data) => this.onmessage?.({ data });
    channel.onclose = (reason) => {
      if (reason) this.#fail(`its process broke its channel to the host, and was ended (${reason})`);
    };
    this.exited = Promise.all([child.status, output]).then(([status]) => {
      this.#channel.close();
      if (!this.#terminated) this.#fail(`its process ${exitReason(status, this.#tail, this.limits)}`);
      return status;
    });
  }

  /**
   * Starts a plugin's process. What is posted before it is ready waits in its
   * stdin; one that cannot start fails the first call (its exit is reported
   * as a crash, with its reason).
   *
   * @param options what to start, with which permissions and limits
   * @returns the process
   * @throws {PluginError} `PERMISSION_DENIED` when the host may not start it
   */
  static spawn(options: SpawnOptions): ProcessWorker {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("prlimit", {
        args: [...prlimitArgs(options.limits), "--", "setpriv", "--pdeathsig", "KILL", "--", ...denoArgs(options)],
        cwd: options.cwd,
        clearEnv: true,
        env: options.env,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (cause) {
      throw new PluginError("PERMISSION_DENIED", spawnRefusal(cause), { plugin: options.name, stage: "load", cause });
    }
    return new ProcessWorker(child, options);
  }

  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.#channel.post(message, transfer);
  }

  /** Ends the process at once (its channel first, then SIGKILL). Idempotent. */
  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#channel.close();
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already exited */ }
  }

  /**
   * The child's resident memory, read by `ps` (the kernel's figure, not the
   * plugin's word), or `undefined` when the host may not run `ps`.
   */
  async rssBytes(): Promise<number | undefined> {
    if (this.#terminated) return undefined;
    try {
      const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(this.pid)], stderr: "null" })
        .output();
      const kb = Number(new TextDecoder().decode(out.stdout).trim());
      return out.success && Number.isFinite(kb) ? kb * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** Tells the host side it failed, once; the host then terminates it. */
  #fail(message: string): void {
    if (this.#terminated || this.#failed) return;
    this.#failed = true;
    this.onerror?.({ message, preventDefault() {} });
  }
}

function denoArgs(o: SpawnOptions): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    `--v8-flags=--max-old-space-size=${o.limits.memoryMb}`,
    `--config=${o.config}`,
    `--lock=${o.lock}`,
    "--frozen",
    ...permissionFlags(o.granted),
    MAIN_URL.href,
  ];
}

function spawnRefusal(cause: unknown): string {
  const text = (cause as Error)?.message ?? String(cause);
  if (cause instanceof Deno.errors.NotCapable || /requires run access/i.test(text)) {
    return `cannot start its sandbox process: the host may not run "prlimit" (${text}). Run Deno with ` +
      `--allow-run=prlimit,ps (prlimit sets its limits; ps reads its memory), or do not name it in "sandboxed"`;
  }
  if (cause instanceof Deno.errors.NotFound) {
    return `cannot start its sandbox process: "prlimit" was not found (${text}). Install util-linux (it provides ` +
      `prlimit and setpriv; the sandbox tier needs Linux), or do not name it in "sandboxed"`;
  }
  return `cannot start its sandbox process: ${text}`;
}

/** Reads a child's output line by line into the log (escaped, each cut at 10,000 characters), keeping the last lines. */
async function drainLines(
  stream: ReadableStream<Uint8Array>,
  log: (line: string) => void,
  tail: string[],
): Promise<void> {
  let rest = "";
  const take = (line: string) => {
    if (!line.trim()) return;
    const cut = line.length > MAX_LINE ? line.slice(0, MAX_LINE) + " [cut]" : line;
    tail.push(cut);
    if (tail.length > TAIL_LINES) tail.shift();
    log(escapeControl(cut));
  };
  try {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      if (rest.length > MAX_LINE) {
        take(rest);
        rest = "";
      }
      for (const line of lines) take(line);
    }
  } catch { /* the pipe broke: the process is gone */ }
  take(rest);
}
