/**
 * A plugin's scope: what it registered and how to undo it. Registrations made
 * during setup are staged and take effect together when the scope is
 * committed, so a plugin whose setup fails never had anything live, and a
 * reload can switch versions in one synchronous step.
 *
 * @module
 */

import { PluginError } from "./errors.ts";

/** Something a plugin registered: how to make it live and how to undo it. */
export interface Registration {
  /** Makes it live. */
  activate(): void;
  /** Undoes it; only called after `activate`. */
  deactivate(): void;
}

/** Lifecycle of a scope. */
export type ScopeState = "staged" | "live" | "closed";

/** What went wrong while disposing a scope; disposal still ran to the end. */
export interface DisposeFailure {
  /** What failed: the plugin's own teardown, a registration or an `onDispose` callback. */
  step: string;
  /** The thrown value. */
  error: unknown;
}

/**
 * Records registrations and disposers; undoes them in reverse order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Scope } from "./scope.ts";
 * const log: string[] = [];
 * const scope = new Scope("p");
 * scope.register({ activate: () => log.push("on"), deactivate: () => log.push("off") });
 * scope.onDispose(() => log.push("disposed"));
 * scope.commit();
 * await scope.dispose();
 * assert.deepEqual(log, ["on", "off", "disposed"]);
 * ```
 */
export class Scope {
  /** The plugin the scope belongs to. */
  readonly owner: string;
  #state: ScopeState = "staged";
  #registrations: Registration[] = [];
  #disposers: { step: string; fn: () => unknown }[] = [];
  #controller = new AbortController();
  /** Whether the registrations are active (staged ones never were, so undoing them is skipped). */
  #live = false;

  /** @param owner the plugin name */
  constructor(owner: string) {
    this.owner = owner;
  }

  /** Aborted when the scope is disposed. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Records a registration; activates it at once if the scope is live.
   *
   * @param registration how to activate and undo it
   * @throws {Error} when the scope is closed
   */
  register(registration: Registration): void {
    this.#assertOpen();
    this.#registrations.push(registration);
    if (this.#state === "live") registration.activate();
  }

  /**
   * Runs `fn` when the scope is disposed, after the registrations are undone,
   * in reverse order of `onDispose` calls.
   *
   * @param fn cleanup; may be async
   * @param step a label for error reports
   */
  onDispose(fn: () => unknown, step = "onDispose callback"): void {
    this.#assertOpen();
    if (typeof fn !== "function") {
      throw new TypeError(`Cannot add disposer to plugin "${this.owner}": expected a function, got ${typeof fn}`);
    }
    this.#disposers.push({ step, fn });
  }

  /**
   * Activates every staged registration, in order. One that throws (a name
   * another plugin took meanwhile) does not stop the others.
   *
   * @returns what the registrations that failed threw
   */
  commit(): unknown[] {
    const failures: unknown[] = [];
    if (this.#state !== "staged") return failures;
    this.#state = "live";
    this.#live = true;
    for (const r of this.#registrations) {
      try {
        r.activate();
      } catch (error) {
        failures.push(error);
      }
    }
    return failures;
  }

  /**
   * Undoes the registrations in reverse order (synchronously), so the plugin
   * stops receiving anything at once. Idempotent.
   *
   * @returns failures, if any registration's undo threw
   */
  deactivate(): DisposeFailure[] {
    const failures: DisposeFailure[] = [];
    const regs = this.#registrations;
    this.#registrations = [];
    if (!this.#live) return failures;
    this.#live = false;
    for (let i = regs.length - 1; i >= 0; i--) {
      try {
        regs[i].deactivate();
      } catch (error) {
        failures.push({ step: "registration", error });
      }
    }
    return failures;
  }

  /**
   * Closes the scope: runs `teardown` (the plugin's own unload), undoes every
   * registration, aborts {@linkcode Scope.signal} and runs the disposers in
   * reverse order. Every step runs even when an earlier one throws or runs
   * over time: with `timeoutMs`, the whole disposal is bounded, and a step
   * still pending when the budget runs out is reported and left behind.
   *
   * @param teardown the plugin's own unload hook
   * @param options `timeoutMs`: the time budget for every step together (default: none)
   * @returns what failed or ran over time, empty when everything went well
   */
  async dispose(teardown?: () => unknown, options: { timeoutMs?: number } = {}): Promise<DisposeFailure[]> {
    if (this.#state === "closed") return [];
    const failures: DisposeFailure[] = [];
    const budget = options.timeoutMs ?? Infinity;
    const deadline = performance.now() + budget;
    const run = async (step: string, fn: () => unknown) => {
      try {
        const result = fn();
        if (!(result instanceof Promise)) return;
        const left = Math.max(0, deadline - performance.now());
        if (!Number.isFinite(left)) return void await result;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), left));
        const outcome = await Promise.race([result.then(() => "done" as const), late]).finally(() =>
          clearTimeout(timer)
        );
        if (outcome === "late") {
          result.catch(() => {/* reported as late already */});
          failures.push({
            step,
            error: new PluginError(
              "DISPOSE_FAILED",
              `its ${step} did not finish within the ${budget} ms unload budget; ` +
                `the remaining steps ran anyway. Make it settle sooner, or raise the host's disposeTimeout`,
              { plugin: this.owner, stage: "unload" },
            ),
          });
        }
      } catch (error) {
        failures.push({ step, error });
      }
    };
    if (teardown) await run("unload", teardown);
    this.#state = "closed";
    failures.push(...this.deactivate());
    this.#controller.abort(new DOMException(`Plugin "${this.owner}" was unloaded`, "AbortError"));
    const disposers = this.#disposers;
    this.#disposers = [];
    for (let i = disposers.length - 1; i >= 0; i--) await run(disposers[i].step, disposers[i].fn);
    return failures;
  }

  #assertOpen(): void {
    if (this.#state === "closed") {
      throw new PluginError("UNLOADED", `Cannot register anything for plugin "${this.owner}": it has been unloaded`, {
        plugin: this.owner,
      });
    }
  }
}
