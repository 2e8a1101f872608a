/**
 * The type of another plugin's service as a plugin sees it. A service may
 * live in another isolate (a worker, or another plugin's worker), where every
 * call is a message: so every method returns a promise and every property is
 * read by awaiting it, whatever the provider's own types say. A missing
 * `await` is then a type error, in whichever mode the plugins run.
 *
 * @module
 */

/** A method of a service as a caller in another isolate sees it: its result always comes as a promise. */
export type RemoteMethod<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/**
 * A service as {@linkcode PluginServices.resolve} returns it: methods return
 * promises, nested objects keep their shape, and a property is read with
 * `await`.
 *
 * @example A missing await does not type-check
 * ```ts
 * import type { RemoteService } from "./service_types.ts";
 * type Chat = { count(): number; limits: { max: number }; post(text: string): Promise<string> };
 * const chat = {
 *   count: () => Promise.resolve(1),
 *   limits: Promise.resolve({ max: 3 }),
 *   post: (text: string) => Promise.resolve(text),
 * } as unknown as RemoteService<Chat>;
 * const n: number = await chat.count();
 * const max: number = (await chat.limits).max;
 * // @ts-expect-error: count() gives a promise
 * const wrong: number = chat.count();
 * ```
 */
export type RemoteService<T> = T extends (...args: never[]) => unknown ? RemoteMethod<T>
  : T extends readonly unknown[] ? RemoteItems<T>
  : T extends object ? { readonly [K in keyof T]: RemoteMember<T[K]> }
  : T;

/**
 * An array of a service: one item is read by awaiting it (`await svc.tags[0]`),
 * and its length too; its methods are not called across (most take a
 * callback, which cannot cross). Awaited whole, it is the array.
 */
export type RemoteItems<A extends readonly unknown[]> =
  & (number extends A["length"] ? { readonly [index: number]: RemoteMember<A[number]> }
    : { readonly [K in Exclude<keyof A, keyof readonly unknown[]>]: RemoteMember<A[K]> })
  & { readonly length: PromiseLike<number> };

/**
 * One member of a service: a method (an optional one too), or a property
 * read by awaiting it (an object property is walked too).
 */
export type RemoteMember<V> = [NonNullable<V>] extends [never] ? PromiseLike<V>
  : [NonNullable<V>] extends [(...args: never[]) => unknown] ? RemoteMethod<NonNullable<V>>
  : V extends object ? RemoteService<V> & PromiseLike<V>
  : PromiseLike<V>;
