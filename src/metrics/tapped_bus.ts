/**
 * The host's event bus with a tap: told the name and payload of every event
 * before its listeners run, without being a listener itself (so it never
 * shows in `listenerCount` and never changes how events are dispatched).
 * The tap feeds the metrics and the event streams.
 *
 * @module
 */

import type { EmitResult, EventBusOptions, EventMap, EventName } from "../event_bus_types.ts";
import { EventBus } from "../events.ts";
import type { PlugboardEvents } from "../event_types.ts";

/** Told about each event before its listeners run, with the plugin that emitted it (`""`: the host); must not throw. */
export type EventTap = (event: string, payload: unknown, emitter: string) => void;

/**
 * An {@linkcode EventBus} that tells a tap about every emit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TappedEventBus } from "./tapped_bus.ts";
 * const seen: string[] = [];
 * const bus = new TappedEventBus((name) => seen.push(name));
 * bus.emit("task.created", { taskId: "t1" });
 * assert.deepEqual(seen, ["task.created"]);
 * assert.equal(bus.listenerCount(), 0);
 * ```
 */
export class TappedEventBus<E extends EventMap = PlugboardEvents> extends EventBus<E> {
  #tap: EventTap;

  /**
   * @param tap told about each event
   * @param options see {@linkcode EventBusOptions}
   */
  constructor(tap: EventTap, options: EventBusOptions = {}) {
    super(options);
    this.#tap = tap;
  }

  /**
   * Tells the tap, then emits as {@linkcode EventBus.emit} does.
   *
   * @param event the event name
   * @param payload the event's data
   * @returns how many listeners the event had
   */
  override emit<K extends EventName<E>>(event: K, payload: E[K]): number {
    this.#tap(event, payload, "");
    return super.emit(event, payload);
  }

  /**
   * Emits on behalf of a plugin: the tap learns who emitted.
   *
   * @param emitter the plugin that emits
   * @param event the event name
   * @param payload the event's data
   * @returns how many listeners the event had
   */
  emitFrom<K extends EventName<E>>(emitter: string, event: K, payload: E[K]): number {
    this.#tap(event, payload, emitter);
    return super.emit(event, payload);
  }

  /**
   * Tells the tap, then emits as {@linkcode EventBus.emitAsync} does.
   *
   * @param event the event name
   * @param payload the event's data
   * @returns how many handlers were called and how many failed
   */
  override emitAsync<K extends EventName<E>>(event: K, payload: E[K]): Promise<EmitResult> {
    this.#tap(event, payload, "");
    return super.emitAsync(event, payload);
  }

  /**
   * Emits on behalf of a plugin and waits for the handlers, as {@linkcode EventBus.emitAsync} does.
   *
   * @param emitter the plugin that emits
   * @param event the event name
   * @param payload the event's data
   * @returns how many handlers were called and how many failed
   */
  emitAsyncFrom<K extends EventName<E>>(emitter: string, event: K, payload: E[K]): Promise<EmitResult> {
    this.#tap(event, payload, emitter);
    return super.emitAsync(event, payload);
  }
}

/**
 * Emits on a plugin's behalf: a tapped bus learns the emitter, any other bus
 * just emits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitFrom, TappedEventBus } from "./tapped_bus.ts";
 * const seen: string[] = [];
 * const bus = new TappedEventBus((name, _payload, emitter) => seen.push(`${emitter}:${name}`));
 * emitFrom(bus, "shop", "task.created", { taskId: "t1" });
 * assert.deepEqual(seen, ["shop:task.created"]);
 * ```
 *
 * @param bus the host's bus
 * @param emitter the plugin that emits
 * @param event the event name
 * @param payload the event's data
 * @returns how many listeners the event had
 */
export function emitFrom<E extends EventMap, K extends EventName<E>>(
  bus: EventBus<E>,
  emitter: string,
  event: K,
  payload: E[K],
): number {
  return bus instanceof TappedEventBus ? bus.emitFrom(emitter, event, payload) : bus.emit(event, payload);
}

/**
 * Emits on a plugin's behalf and waits for the handlers; see {@linkcode emitFrom}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitAsyncFrom, TappedEventBus } from "./tapped_bus.ts";
 * const seen: string[] = [];
 * const bus = new TappedEventBus((name, _payload, emitter) => seen.push(`${emitter}:${name}`));
 * await emitAsyncFrom(bus, "shop", "task.created", { taskId: "t1" });
 * assert.deepEqual(seen, ["shop:task.created"]);
 * ```
 *
 * @param bus the host's bus
 * @param emitter the plugin that emits
 * @param event the event name
 * @param payload the event's data
 * @returns how many handlers were called and how many failed
 */
export function emitAsyncFrom<E extends EventMap, K extends EventName<E>>(
  bus: EventBus<E>,
  emitter: string,
  event: K,
  payload: E[K],
): Promise<EmitResult> {
  return bus instanceof TappedEventBus ? bus.emitAsyncFrom(emitter, event, payload) : bus.emitAsync(event, payload);
}
