/**
 * The service container: named singletons and lazy factories, each owned by
 * the plugin that provided it so it can vanish when that plugin unloads.
 *
 * @module
 */

import { PluginError, ServiceNotFoundError } from "./errors.ts";

/**
 * Service types by name. Augment it to type `resolve` for your services:
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Container } from "../mod.ts";
 * type Services = { clock: { now(): number } };
 * const c = new Container<Services>();
 * c.provide("clock", { now: () => 1 });
 * assert.equal(c.resolve("clock").now(), 1);
 * ```
 */
// deno-lint-ignore no-empty-interface
export interface PlugboardServices {}

/** Options for {@linkcode Container.provide} and {@linkcode Container.factory}. */
export interface ProvideOptions {
  /** The plugin providing the service. @default undefined (the host) */
  owner?: string;
}

/** Options for {@linkcode Container}. */
export interface ContainerOptions {
  /**
   * Who owns a service name by declaration (a plugin's manifest
   * `provides`): another plugin that provides it is refused. @default nobody
   */
  claimedBy?: (name: string) => string | undefined;
}

/** Options for {@linkcode Container.resolve}. */
export interface ResolveOptions {
  /** Who is asking; named in the error when the service is missing. @default undefined (the host) */
  requester?: string;
}

interface Entry {
  owner: string | undefined;
  value?: unknown;
  factory?: () => unknown;
  built: boolean;
}

/**
 * Holds services by name.
 *
 * @typeParam S map from service name to service type
 *
 * @example A lazy factory runs once, on first resolve
 * ```ts
 * import assert from "node:assert/strict";
 * import { Container } from "../mod.ts";
 * const c = new Container();
 * let built = 0;
 * c.factory("db", () => ({ id: ++built }));
 * c.resolve("db"); c.resolve("db");
 * assert.equal(built, 1);
 * ```
 */
// deno-lint-ignore no-explicit-any
export class Container<S extends Record<string, any> = PlugboardServices & Record<string, any>> {
  #entries = new Map<string, Entry>();
  #claimedBy: ContainerOptions["claimedBy"];

  /**
   * Creates an empty container.
   *
   * @param options who owns names by declaration
   */
  constructor(options: ContainerOptions = {}) {
    this.#claimedBy = options.claimedBy;
  }

  /**
   * Registers a ready-made service.
   *
   * @param name unique service name
   * @param value the service
   * @param options the owning plugin
   * @throws {PluginError} `CONFLICT` when the name is taken
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Container } from "../mod.ts";
   * const c = new Container();
   * c.provide("greeter", { hi: () => "hi" }, { owner: "hello" });
   * assert.equal(c.owner("greeter"), "hello");
   * ```
   */
  provide<K extends keyof S & string>(name: K, value: S[K], options: ProvideOptions = {}): void {
    this.#add(name, { owner: options.owner, value, built: true });
  }

  /**
   * Registers a factory called on first {@linkcode Container.resolve}; its
   * result is kept (a lazy singleton).
   *
   * @param name unique service name
   * @param factory builds the service
   * @param options the owning plugin
   * @throws {PluginError} `CONFLICT` when the name is taken
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Container } from "../mod.ts";
   * const c = new Container();
   * c.factory("now", () => Date.now());
   * assert.equal(typeof c.resolve("now"), "number");
   * ```
   */
  factory<K extends keyof S & string>(name: K, factory: () => S[K], options: ProvideOptions = {}): void {
    if (typeof factory !== "function") {
      throw new TypeError(`Cannot register service "${name}": factory must be a function, got ${typeof factory}`);
    }
    this.#add(name, { owner: options.owner, factory, built: false });
  }

  /**
   * Returns a service.
   *
   * @param name the service name
   * @param options who is asking
   * @returns the service
   * @throws {ServiceNotFoundError} when nobody provides it
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Container } from "../mod.ts";
   * const c = new Container();
   * c.provide("n", 42);
   * assert.equal(c.resolve<number>("n"), 42);
   * ```
   */
  resolve<K extends keyof S & string>(name: K, options?: ResolveOptions): S[K];
  /**
   * Returns a service that `S` does not type, as the type the caller names
   * (not checked at run time).
   *
   * @param name the service name
   * @param options who is asking
   * @returns the service
   * @throws {ServiceNotFoundError} when nobody provides it
   */
  resolve<T>(name: string, options?: ResolveOptions): T;
  resolve(name: string, options: ResolveOptions = {}): unknown {
    const entry = this.#entries.get(name);
    if (!entry) throw new ServiceNotFoundError(name, options.requester, this.names());
    if (!entry.built) {
      entry.value = entry.factory!();
      entry.built = true;
      entry.factory = undefined;
    }
    return entry.value;
  }

  /**
   * Returns a service, or `undefined` when nobody provides it.
   *
   * @param name the service name
   * @returns the service or undefined
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Container } from "../mod.ts";
   * assert.equal(new Container().tryResolve("nope"), undefined);
   * ```
   */
  tryResolve<T = unknown>(name: string): T | undefined {
    return this.#entries.has(name) ? this.resolve<T>(name) : undefined;
  }

  /**
   * Tells whether a service is provided.
   *
   * @param name the service name
   * @returns true when provided
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Container } from "../mod.ts";
   * const c = new Container();
   * c.provide("x", 1);
   * assert.ok(c.has("x"));
   * ```
   */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /**
   * The plugin that provided a service.
   *
   * @param name the service name
   * @returns the owner, or undefined for the host or a missing service
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Container } from "../mod.ts";
   * const c = new Container();
   * c.provide("x", 1, { owner: "p" });
   * assert.equal(c.owner("x"), "p");
   * ```
   */
  owner(name: string): string | undefined {
    return this.#entries.get(name)?.owner;
  }

  /**
   * Removes a service.
   *
   * @param name the service name
   * @param owner when given, removes it only if this owner provided it
   * @returns whether it was removed
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Container } from "../mod.ts";
   * const c = new Container();
   * c.provide("x", 1, { owner: "p" });
   * assert.equal(c.remove("x", "q"), false);
   * assert.equal(c.remove("x", "p"), true);
   * ```
   */
  remove(name: string, owner?: string): boolean {
    const entry = this.#entries.get(name);
    if (!entry || (owner !== undefined && entry.owner !== owner)) return false;
    return this.#entries.delete(name);
  }

  /**
   * The names of every provided service, in the order they were provided.
   *
   * @param owner only this plugin's services
   * @returns service names
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Container } from "../mod.ts";
   * const c = new Container();
   * c.provide("a", 1); c.provide("b", 2, { owner: "p" });
   * assert.deepEqual(c.names("p"), ["b"]);
   * ```
   */
  names(owner?: string): string[] {
    const out: string[] = [];
    for (const [name, e] of this.#entries) if (owner === undefined || e.owner === owner) out.push(name);
    return out;
  }

  #add(name: string, entry: Entry): void {
    if (typeof name !== "string" || name.length === 0) {
      throw new TypeError(`Cannot register service: name must be a non-empty string, got ${JSON.stringify(name)}`);
    }
    const existing = this.#entries.get(name);
    if (existing) throw serviceConflict(name, entry.owner, existing.owner);
    const claimant = entry.owner === undefined ? undefined : this.#claimedBy?.(name);
    if (claimant !== undefined && claimant !== entry.owner) {
      throw claimConflict("service", name, entry.owner!, claimant);
    }
    this.#entries.set(name, entry);
  }
}

/**
 * The error for a service name that is taken.
 *
 * @param name the service
 * @param owner who tried to provide it
 * @param holder who provides it now
 * @returns a `CONFLICT` error
 */
export function serviceConflict(name: string, owner: string | undefined, holder: string | undefined): PluginError {
  const by = (o: string | undefined) => (o ? `plugin "${o}"` : "the host");
  return new PluginError(
    "CONFLICT",
    `Cannot provide service "${name}" for ${by(owner)}: it is already provided by ${by(holder)}. ` +
      `Pick another name or unload the other provider first`,
    { plugin: owner },
  );
}

/**
 * The error for a name another plugin declares in its manifest's `provides`.
 *
 * @param kind "service" or "hook"
 * @param name the name
 * @param owner who tried to register it
 * @param claimant who declares it
 * @returns a `CONFLICT` error
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { claimConflict } from "./services.ts";
 * assert.match(claimConflict("service", "tasks", "squat", "tasks").message, /declares it in its manifest's "provides"/);
 * ```
 */
export function claimConflict(kind: "service" | "hook", name: string, owner: string, claimant: string): PluginError {
  return new PluginError(
    "CONFLICT",
    `Plugin "${owner}" may not ${kind === "service" ? "provide service" : "define hook"} "${name}": plugin ` +
      `"${claimant}" declares it in its manifest's "provides". Choose another name`,
    { plugin: owner },
  );
}
