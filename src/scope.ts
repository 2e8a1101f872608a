/**
 * A plugin's scope: what it registered and how to undo it. Registrations made
 * during setup are staged and take effect together when the scope is
 * committed, so a plugin whose setup fails never had anything live, and a
 * reload can switch versions in one synchronous step.
 *
 * @module
 */

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
 * import { Scope } from "./scope.ts";
 * const log: string[] = [];
 * const scope = new Scope("p");
 * scope.register({ activate: () => log.push("on"), deactivate: () => log.push("off") });
 * scope.onDispose(() => log.push("disposed"));
 * scope.commit();
 * await scope.dispose();
 * if (log.join() !== "on,off,disposed") throw new Error(log.join());
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

  /** Current state. */
  get state(): ScopeState {
    return this.#state;
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

  /** Activates every staged registration, in order. */
  commit(): void {
    if (this.#state !== "staged") return;
    this.#state = "live";
    this.#live = true;
    for (const r of this.#registrations) r.activate();
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
   * reverse order. Every step runs even when an earlier one throws.
   *
   * @param teardown the plugin's own unload hook
   * @returns what failed, empty when everything went well
   */
  async dispose(teardown?: () => unknown): Promise<DisposeFailure[]> {
    if (this.#state === "closed") return [];
    const failures: DisposeFailure[] = [];
    if (teardown) {
      try {
        await teardown();
      } catch (error) {
        failures.push({ step: "unload", error });
      }
    }
    this.#state = "closed";
    failures.push(...this.deactivate());
    this.#controller.abort(new DOMException(`Plugin "${this.owner}" was unloaded`, "AbortError"));
    const disposers = this.#disposers;
    this.#disposers = [];
    for (let i = disposers.length - 1; i >= 0; i--) {
      try {
        await disposers[i].fn();
      } catch (error) {
        failures.push({ step: disposers[i].step, error });
      }
    }
    return failures;
  }

  #assertOpen(): void {
    if (this.#state === "closed") {
      throw new Error(`Cannot register anything for plugin "${this.owner}": it has been unloaded`);
    }
  }
}
