/**
 * `ctx.events`: the event bus as one plugin sees it. What it listens to is
 * owned by it and removed when it unloads.
 *
 * @module
 */

import type { PlugboardEvents } from "./event_types.ts";
import type { EmitResult, EventBus, EventHandler, EventName, MatchingEvents, WildcardPattern } from "./events.ts";
import type { Scope } from "./scope.ts";

/**
 * A bus that learns which plugin emits (the host's, tapped for its metrics:
 * `metrics/tapped_bus.ts`). Told apart by its methods, so that a worker's
 * module graph need not load that bus.
 */
interface EmitsFrom<E extends PlugboardEvents> {
  emitFrom<K extends EventName<E>>(emitter: string, event: K, payload: E[K]): number;
  emitAsyncFrom<K extends EventName<E>>(emitter: string, event: K, payload: E[K]): Promise<EmitResult>;
}

/**
 * The event bus as a plugin sees it: listeners are owned by the plugin and
 * removed when it unloads.
 */
export class PluginEvents<E extends PlugboardEvents = PlugboardEvents> {
  #bus: EventBus<E>;
  #scope: Scope;

  /**
   * Wraps the host's bus for one plugin; the host builds one per plugin, a
   * plugin only meets it as `ctx.events`.
   *
   * @param bus the host's bus
   * @param scope the plugin's scope: it owns every listener added here
   */
  constructor(bus: EventBus<E>, scope: Scope) {
    this.#bus = bus;
    this.#scope = scope;
  }

  /**
   * Listens to an event (or a wildcard such as `task.*`) until the plugin unloads.
   *
   * @param event name or pattern
   * @param handler called with the payload and the event's name
   * @returns a function that removes the listener now
   */
  on<K extends EventName<E>>(event: K, handler: EventHandler<E, K>): () => void;
  /**
   * Listens to every event a wildcard (`*`, or a prefix such as `task.*`)
   * matches, until the plugin unloads.
   *
   * @param pattern `*`, or a prefix ending in `*` such as `task.*`
   * @param handler called with the payload and the name of the event that matched
   * @returns a function that removes the listener now
   * @throws {TypeError} when `handler` is not a function
   */
  on<P extends WildcardPattern>(
    pattern: P,
    handler: (payload: E[MatchingEvents<E, P>], event: MatchingEvents<E, P>) => unknown,
  ): () => void;
  // deno-lint-ignore no-explicit-any
  on(event: string, handler: (payload: any, event: any) => unknown): () => void {
    return this.#listen(event, handler, false);
  }

  /**
   * Listens to the next occurrence of an event.
   *
   * @param event the name
   * @param handler called once
   * @returns a function that removes the listener now
   */
  once<K extends EventName<E>>(event: K, handler: EventHandler<E, K>): () => void {
    return this.#listen(event, handler as (payload: unknown, event: string) => unknown, true);
  }

  /**
   * Removes a listener this plugin added.
   *
   * @param event the name or pattern it was added with
   * @param handler the same function
   * @returns whether it was removed
   */
  off(event: string, handler: (...args: never[]) => unknown): boolean {
    return this.#bus.off(event, handler, this.#scope.owner);
  }

  /**
   * Emits an event to every listener of the host.
   *
   * @param event the name
   * @param payload the data
   * @returns how many listeners were called
   */
  emit<K extends EventName<E>>(event: K, payload: E[K]): number {
    const bus = this.#bus as Partial<EmitsFrom<E>>;
    return bus.emitFrom ? bus.emitFrom(this.#scope.owner, event, payload) : this.#bus.emit(event, payload);
  }

  /**
   * Emits an event and waits for every handler to settle.
   *
   * @param event the name
   * @param payload the data
   * @returns counts of handlers called and failed
   */
  emitAsync<K extends EventName<E>>(event: K, payload: E[K]): Promise<EmitResult> {
    const bus = this.#bus as Partial<EmitsFrom<E>>;
    return bus.emitAsyncFrom
      ? bus.emitAsyncFrom(this.#scope.owner, event, payload)
      : this.#bus.emitAsync(event, payload);
  }

  #listen(event: string, handler: (payload: unknown, event: string) => unknown, once: boolean): () => void {
    if (typeof handler !== "function") {
      throw new TypeError(
        `Cannot listen to "${event}" in plugin "${this.#scope.owner}": handler must be a function, got ${typeof handler}`,
      );
    }
    let off: (() => void) | undefined;
    let removed = false;
    const bus = this.#bus as unknown as EventBus<Record<string, unknown>>;
    this.#scope.register({
      activate: () => {
        if (!removed) off = bus.on(event as "x", handler, { owner: this.#scope.owner, once });
      },
      deactivate: () => off?.(),
    });
    return () => {
      removed = true;
      off?.();
    };
  }
}
