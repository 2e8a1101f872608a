/**
 * What the HTTP layer needs from the rest of plugboard: narrow interfaces,
 * so the HTTP side never depends on the concrete host. `createHost` wires them.
 *
 * @module
 */

import type { Logger } from "../logger.ts";
import type { Observability } from "../metrics/observability.ts";
import type { PluginInfo } from "../plugin_info.ts";
import type { ErrorReporter } from "../reporter.ts";
import type { RouteTable } from "../routes.ts";

/** The admin API's view of the host. */
export interface AdminPort {
  /** Every known plugin. */
  list(): PluginInfo[];
  /** How many plugins are in each state (cheap: `/health` asks on every request). */
  stateCounts(): Record<string, number>;
  /** One plugin, or undefined. */
  get(name: string): PluginInfo | undefined;
  /** Loads a plugin from a path or URL. */
  load(source: string): Promise<PluginInfo>;
  /** Unloads a plugin (and, with `cascade`, its dependents). */
  unload(name: string, options: { cascade?: boolean }): Promise<PluginInfo & { unloaded?: string[] }>;
  /** Reloads a plugin. */
  reload(name: string): Promise<PluginInfo>;
  /** Deletes a plugin's stored data. */
  purge(name: string): Promise<unknown>;
  /** Lets in a new version that asks for more permissions. */
  approve(name: string): Promise<PluginInfo>;
  /** Checks a URL plugin against its pins; with `apply`, takes and re-pins the new version. */
  update(name: string, options: { apply?: boolean }): Promise<unknown>;
}

/** Everything the host's HTTP app is built from. */
export interface HttpPorts {
  /** Plugin routers and host-wide middleware. */
  routes: RouteTable;
  /** The admin operations. */
  admin: AdminPort;
  /** Reports failures of plugin routes and middleware. */
  report: ErrorReporter;
  /** The host's logger. */
  log: Logger;
  /** The admin key every admin request must carry (`X-API-Key` or `Authorization: Bearer`). */
  apiKey: string;
  /**
   * The key is a token the host made (no operator key configured): the admin
   * API also answers loopback clients only, addressed to a loopback name, from
   * no other origin. @default false
   */
  localAdmin?: boolean;
  /** Host names the admin API accepts in local mode besides loopback names. @default [] */
  allowedHosts?: readonly string[];
  /** The body limit (bytes) and route deadline (ms) of one plugin's routes. @default 1 MiB and 30 s */
  limits?: (plugin: string) => { bodyLimit: number; routeTimeout: number };
  /** Metrics, event streams, access log and the dashboard (`/metrics`, `/api/events`, `/admin`). @default none */
  observability?: Observability;
}
