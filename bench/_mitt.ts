/**
 * mitt, imported the same way whatever Deno's CommonJS interop gives back.
 *
 * @module
 */

import * as mittModule from "mitt";

/** The part of mitt's emitter the benchmarks use. */
export interface MittEmitter<E> {
  on<K extends keyof E>(type: K, handler: (event: E[K]) => void): void;
  emit<K extends keyof E>(type: K, event: E[K]): void;
}

type Factory = <E>() => MittEmitter<E>;
const ns = mittModule as unknown as { default?: Factory | { default?: Factory } };
const inner = ns.default;
const factory: Factory = typeof inner === "function" ? inner : inner!.default!;

/**
 * Creates a mitt emitter.
 *
 * @returns the emitter
 */
export const mitt = <E>(): MittEmitter<E> => factory<E>();
