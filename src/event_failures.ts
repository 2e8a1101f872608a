/**
 * Where an event handler's failure goes: to the bus's `onHandlerError`
 * reporter when it has one, else as a `system.error` event; a failure of a
 * `system.error` handler (or one nobody would hear) goes to `onUnhandled`,
 * so reporting can never recurse, and a reporter that throws never stops
 * the other handlers.
 *
 * @module
 */

import { errorText } from "./error_text.ts";
import type { EventBusOptions } from "./event_bus_types.ts";

const SYSTEM_ERROR = "system.error";

/** What the failure path needs of its bus. */
export interface FailingBus {
  /** How many listen to an event. */
  listenerCount(event: string): number;
  /** Emits `system.error`. */
  emitSystemError(payload: Record<string, unknown>): void;
}

/**
 * Builds the failure path of one bus.
 *
 * @param options the bus's `onUnhandled` and `onHandlerError`
 * @param bus the bus, for `system.error`
 * @returns a function reporting one handler's failure
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handlerFailures } from "./event_failures.ts";
 * const seen: unknown[] = [];
 * const fail = handlerFailures({ onUnhandled: (e) => seen.push(e) }, {
 *   listenerCount: () => 0,
 *   emitSystemError: () => {},
 * });
 * fail("p", "task.created", "boom");
 * assert.deepEqual(seen, ["boom"]);
 * ```
 */
export function handlerFailures(
  options: Pick<EventBusOptions, "onUnhandled" | "onHandlerError">,
  bus: FailingBus,
): (owner: string | undefined, event: string, error: unknown) => void {
  const given = options.onUnhandled ??
    ((error, event, owner) =>
      console.error(`[plugboard] handler of "${event}"${owner ? ` in plugin "${owner}"` : ""} failed:`, error));
  const onUnhandled = (error: unknown, event: string, owner: string | undefined) => {
    try {
      given(error, event, owner);
    } catch (thrown) {
      try {
        console.error(`[plugboard] onUnhandled threw while reporting a failed handler of "${event}":`, thrown);
      } catch { /* nowhere left to report it; the other handlers still run */ }
    }
  };
  const onHandlerError = options.onHandlerError;
  return (owner, event, error) => {
    if (event === SYSTEM_ERROR) return onUnhandled(error, event, owner);
    if (onHandlerError) {
      try {
        onHandlerError({ event, owner, error });
      } catch (reporterError) {
        onUnhandled(reporterError, event, owner);
      }
      return;
    }
    if (bus.listenerCount(SYSTEM_ERROR) === 0) return onUnhandled(error, event, owner);
    bus.emitSystemError({
      origin: "event",
      plugin: owner,
      event,
      message: `Handler of "${event}"${owner ? ` in plugin "${owner}"` : ""} failed: ${errorText(error)}`,
      error,
    });
  };
}
