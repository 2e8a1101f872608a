/**
 * Limits per plugin: the host-wide `bodyLimit`, `routeTimeout`,
 * `hangTimeout` and `memoryLimitMb` (as `memoryMb`), each overridable for one plugin under `limits.<name>` in
 * `plugboard.json` or the host options, and {@linkcode limitsOf}, which
 * resolves them for a plugin. `openFiles` and `cpuSeconds` apply to
 * sandboxed plugins only (the kernel enforces them on their process).
 *
 * @module
 */

import { z } from "zod";

/** Limits on one plugin; see `HostSettings.limits`. */
export interface RouteLimits {
  /** The largest request body, in bytes. @default the host's `bodyLimit` */
  bodyLimit?: number;
  /**
   * How long a route may take to send its headers, in ms; also how long an
   * isolated version's requests and service calls in flight may have taken,
   * since each was sent, before its reload or unload stops waiting for them.
   * @default the host's `routeTimeout`
   */
  routeTimeout?: number;
  /** How long its worker may stay silent while it owes an answer, in ms. @default the host's `hangTimeout` */
  hangTimeout?: number;
  /** The heap its worker or sandbox process may use, in MB. @default the host's `memoryLimitMb` */
  memoryMb?: number;
  /** Sandboxed plugins: the files (descriptors) its process may hold open at once. @default 256 */
  openFiles?: number;
  /** Sandboxed plugins: CPU seconds its process may use over its whole life (none when unset). */
  cpuSeconds?: number;
  /** Isolated plugins: events it may emit per second; the rest of each second's are dropped and reported. @default 1000 */
  emitsPerSecond?: number;
  /** Isolated plugins: log lines and reports it may send per second; the rest are counted in one warning. @default 100 */
  logsPerSecond?: number;
}

/** One plugin's limits, resolved: every value set but those with no default (`cpuSeconds`, the rates). */
export type PluginLimits =
  & Required<Omit<RouteLimits, "cpuSeconds" | "emitsPerSecond" | "logsPerSecond">>
  & Pick<RouteLimits, "cpuSeconds" | "emitsPerSecond" | "logsPerSecond">;

/** Open files a sandboxed plugin may hold unless `limits.<name>.openFiles` says otherwise. */
export const DEFAULT_OPEN_FILES = 256;

/** The host-wide request body limit unless `bodyLimit` says otherwise: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** How long a plugin route may take to send its headers unless `routeTimeout` says otherwise: 30 s. */
export const DEFAULT_ROUTE_TIMEOUT = 30_000;
/** How long a worker may stay silent while it owes an answer unless `hangTimeout` says otherwise: 10 s. */
export const DEFAULT_HANG_TIMEOUT = 10_000;

/** The longest a timer can wait, in ms (2^31 - 1, about 24.8 days): a longer delay fires at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A time limit in ms: a whole number from 1 to {@linkcode MAX_TIMEOUT_MS}. */
export const timeoutSchema: z.ZodNumber = z.number().int().positive().max(MAX_TIMEOUT_MS);

/** Checks one plugin's entry under `limits` (an unknown key is an error). */
export const routeLimitsSchema: z.ZodType<RouteLimits> = z.object({
  bodyLimit: z.number().int().positive().optional(),
  routeTimeout: timeoutSchema.optional(),
  hangTimeout: timeoutSchema.optional(),
  memoryMb: z.number().int().positive().optional(),
  openFiles: z.number().int().min(32).max(1_048_576).optional(),
  cpuSeconds: z.number().int().positive().optional(),
  emitsPerSecond: z.number().int().positive().optional(),
  logsPerSecond: z.number().int().positive().optional(),
}).strict();

/** The host-wide limits and the per-plugin entries, as the resolved host options hold them. */
export type HostLimits = Required<Pick<RouteLimits, "bodyLimit" | "routeTimeout" | "hangTimeout">> & {
  memoryLimitMb: number;
  limits: Readonly<Record<string, RouteLimits>>;
};

/**
 * One plugin's limits: its entry under `limits`, over the host-wide values.
 *
 * @param host the host-wide values and the per-plugin entries (the resolved host options)
 * @param name the plugin
 * @returns every limit, filled in
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveHostOptions } from "./options.ts";
 * import { limitsOf } from "./plugin_limits.ts";
 * const o = resolveHostOptions({ cwd: "/srv/app", limits: { slow: { hangTimeout: 60_000 } } });
 * assert.equal(limitsOf(o, "slow").hangTimeout, 60_000);
 * assert.equal(limitsOf(o, "other").hangTimeout, 10_000);
 * ```
 */
export function limitsOf(host: HostLimits, name: string): PluginLimits {
  const own = Object.hasOwn(host.limits, name) ? host.limits[name] : undefined;
  return {
    bodyLimit: own?.bodyLimit ?? host.bodyLimit,
    routeTimeout: own?.routeTimeout ?? host.routeTimeout,
    hangTimeout: own?.hangTimeout ?? host.hangTimeout,
    memoryMb: own?.memoryMb ?? host.memoryLimitMb,
    openFiles: own?.openFiles ?? DEFAULT_OPEN_FILES,
    cpuSeconds: own?.cpuSeconds,
    emitsPerSecond: own?.emitsPerSecond,
    logsPerSecond: own?.logsPerSecond,
  };
}
