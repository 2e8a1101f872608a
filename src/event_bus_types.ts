/**
 * The types of the event bus's API: event maps and names, wildcard
 * patterns, handlers, and the bus's options and results.
 *
 * @module
 */

/** Any map from event name to payload type. */
// deno-lint-ignore no-explicit-any
export type EventMap = Record<string, any>;

/** Event names of `E` that are strings. */
export type EventName<E> = keyof E & string;

/** A wildcard pattern: `*` for everything, or a prefix ending in `*` such as `task.*`. */
export type WildcardPattern = `${string}*`;

/** The event names of `E` that `P` matches. */
export type MatchingEvents<E, P extends string> = P extends "*" ? EventName<E>
  : P extends `${infer Prefix}*` ? Extract<EventName<E>, `${Prefix}${string}`>
  : never;

/** A handler for event `K`; it receives the payload and the event's name. */
export type EventHandler<E, K extends EventName<E>> = (payload: E[K], event: K) => unknown;

/** Options for {@linkcode EventBus.on}. */
export interface ListenOptions {
  /** Who owns the listener; named in `system.error` when it fails. @default undefined */
  owner?: string;
  /** Removes the listener when aborted. @default undefined */
  signal?: AbortSignal;
  /** Remove the listener after its first call. @default false */
  once?: boolean;
}

/** A handler's failure, as given to {@linkcode EventBusOptions.onHandlerError}. */
export interface HandlerFailure {
  /** The event being dispatched. */
  event: string;
  /** The failing listener's owner (`ListenOptions.owner`), if any. */
  owner: string | undefined;
  /** What the handler threw, or why its promise rejected. */
  error: unknown;
}

/** Options for {@linkcode EventBus}. */
export interface EventBusOptions {
  /**
   * Called when a handler of `system.error` itself fails (and, without
   * `onHandlerError`, when a handler fails while nobody listens to
   * `system.error`), so such failures are never lost nor recursive. If it
   * throws, that goes to `console.error`, and the other handlers still run.
   * @default console.error
   */
  onUnhandled?: (error: unknown, event: string, owner: string | undefined) => void;
  /**
   * Reports a failing handler (one that threw or whose promise rejected)
   * instead of the bus emitting `system.error` itself: give it to route
   * every failure through one reporter. Not called for handlers of
   * `system.error`, whose failures go to `onUnhandled`, so a reporter that
   * emits `system.error` cannot recurse. If it throws, that goes to
   * `onUnhandled` too.
   * @default undefined (the bus emits `system.error`)
   */
  onHandlerError?: (failure: HandlerFailure) => void;
  /**
   * Listener lists up to this long get a generated dispatcher (one guarded
   * call per listener); longer ones use a loop. `0` always uses the loop.
   * @default 128
   */
  unrollLimit?: number;
}

/** What {@linkcode EventBus.emitAsync} reports once every handler settled. */
export interface EmitResult {
  /** Handlers called. */
  called: number;
  /** Handlers that threw or rejected (each also reported as `system.error`). */
  failed: number;
}
