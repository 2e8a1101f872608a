/**
 * The `observability` host setting: access log, metrics, dashboard and
 * per-plugin debug.
 *
 * @module
 */

import { z } from "zod";

/** What `observability` in `plugboard.json` (or the host option) holds. */
export interface ObservabilitySettings {
  /** One info line per request to a plugin route (method, path, status, duration, plugin, request id). @default true */
  accessLog?: boolean;
  /** Count requests, events, reloads and crashes, and serve them at `GET /metrics`. @default true */
  metrics?: boolean;
  /** Serve `/metrics` without the admin key (for a scraper on a trusted network). @default false */
  publicMetrics?: boolean;
  /** Serve the dashboard at `/admin` (and redirect `/` there). @default true */
  dashboard?: boolean;
  /** Plugins whose debug lines are written (`"*"` for all), besides those in PLUGBOARD_DEBUG. @default [] */
  debug?: string[];
  /**
   * When the dashboard's session cookie is marked `Secure`: `"auto"` when the request came over TLS, `"always"` behind
   * a proxy that terminates TLS (plugboard then sees plain HTTP). @default "auto"
   */
  secureCookie?: "auto" | "always";
}

/** Checks the `observability` setting; an unknown key is an error. */
export const observabilitySettingsSchema: z.ZodType<ObservabilitySettings> = z.object({
  accessLog: z.boolean().optional(),
  metrics: z.boolean().optional(),
  publicMetrics: z.boolean().optional(),
  dashboard: z.boolean().optional(),
  debug: z.array(z.string().min(1)).optional(),
  secureCookie: z.enum(["auto", "always"]).optional(),
}).strict();

/**
 * Fills in the defaults.
 *
 * @param settings what was set
 * @returns every field set
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveObservability } from "./settings.ts";
 * assert.deepEqual(resolveObservability({ accessLog: false }), {
 *   accessLog: false, metrics: true, publicMetrics: false, dashboard: true, debug: [], secureCookie: "auto",
 * });
 * ```
 */
export function resolveObservability(settings: ObservabilitySettings = {}): Required<ObservabilitySettings> {
  return {
    accessLog: settings.accessLog ?? true,
    metrics: settings.metrics ?? true,
    publicMetrics: settings.publicMetrics ?? false,
    dashboard: settings.dashboard ?? true,
    debug: [...(settings.debug ?? [])],
    secureCookie: settings.secureCookie ?? "auto",
  };
}
