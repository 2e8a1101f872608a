/**
 * The one place contained failures are reported: every `system.error` the
 * host emits goes through {@linkcode createErrorReporter}, so they share one
 * message shape and one log line.
 *
 * @module
 */

import { errorText } from "./error_text.ts";
import type { ErrorOrigin, PlugboardEvents } from "./event_types.ts";
import type { EventBus } from "./events.ts";
import type { Logger } from "./logger.ts";

/** A failure that was contained: the host keeps running. */
export interface Failure {
  /** What failed. */
  origin: ErrorOrigin;
  /** Whose code failed, when known. */
  plugin?: string;
  /** The event being dispatched, for `origin: "event"`. */
  event?: string;
  /** The id a client was given for it in a `500` answer (routes and middleware), so that the log line can be found. */
  errorId?: string;
  /** The thrown value. */
  error: unknown;
}

/** Reports a contained failure. */
export type ErrorReporter = (failure: Failure) => void;

/**
 * Builds the host's reporter: logs each failure and emits it as `system.error`
 * (when anyone listens), then calls `onReport` (the host counts failures per plugin).
 *
 * @param log where to log
 * @param events the bus to emit `system.error` on
 * @param onReport called after each report
 * @returns the reporter
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventBus, Logger } from "../mod.ts";
 * import { createErrorReporter } from "./reporter.ts";
 * const bus = new EventBus();
 * const seen: string[] = [];
 * bus.on("system.error", (e) => void seen.push(e.message));
 * const report = createErrorReporter(new Logger("t", { level: "silent" }), bus);
 * report({ origin: "route", plugin: "hello", error: new Error("boom") });
 * report({ origin: "route", plugin: "hello", error: new Error("boom"), errorId: "e1" });
 * assert.deepEqual(seen, ['route error in plugin "hello": boom', 'route error in plugin "hello": boom (error id e1)']);
 * ```
 */
export function createErrorReporter(
  log: Logger,
  events: EventBus<PlugboardEvents>,
  onReport?: (failure: Failure) => void,
): ErrorReporter {
  return (failure) => {
    const { origin, plugin, event, error, errorId } = failure;
    const reason = errorText(error);
    const where = `${plugin ? ` in plugin "${plugin}"` : ""}${event ? ` (event "${event}")` : ""}`;
    const message = `${origin} error${where}: ${reason}${errorId === undefined ? "" : ` (error id ${errorId})`}`;
    if (errorId === undefined) log.error(message, error);
    else log.error(message, error, { errorId });
    onReport?.(failure);
    if (events.listenerCount("system.error") > 0 && !(origin === "event" && event === "system.error")) {
      events.emit("system.error", {
        origin,
        plugin,
        event,
        message,
        error,
        ...errorId === undefined ? {} : { errorId },
      });
    }
  };
}
