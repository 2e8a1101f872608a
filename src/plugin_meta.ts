/**
 * What a plugin says about itself, as plain types with no imports: the
 * manifest and the permissions it declares. Error classes and the plugin
 * forms both refer to them, so they sit at the bottom of the module graph.
 *
 * @module
 */

/** What a plugin may ask for, each as a list (relative paths start at the plugin's folder). */
export interface PluginPermissions {
  /**
   * Paths it may read, besides its own folder and data folder. Each must
   * really lead inside them (links followed); a path beyond needs the
   * operator's `grants`.
   */
  read?: string[];
  /** Paths it may write, besides its data folder; the same rule as `read`. */
  write?: string[];
  /** Hosts (`name` or `name:port`) it may connect to. */
  net?: string[];
  /** Environment variables it may read. */
  env?: string[];
  /** Hosts it may import modules from at run time, besides its own source's host. */
  import?: string[];
  /** Programs it may run. */
  run?: string[];
  /** System information it may read (`hostname`, `osRelease`, ...). */
  sys?: string[];
  /**
   * The host's events about other plugins it may see whole: `"system"`
   * (`system.error` messages and stacks), `"plugin"` (`plugin.*` sources,
   * errors, locations). Without it, those payloads come without the details.
   */
  observe?: ("system" | "plugin")[];
  /**
   * What it may do to every plugin's HTTP traffic, not only its own routes:
   * `"middleware"` (`ctx.middleware`, around every plugin route; it may read
   * and answer other plugins' requests) and `"responses"` (`ctx.onResponse`,
   * a record of every plugin request). An isolated plugin without it cannot
   * register either.
   */
  hostWide?: ("middleware" | "responses")[];
}

/** What a plugin says about itself. */
export interface PluginMeta {
  /** Lowercase kebab-case, unique in a host: `task-tracker`. */
  name: string;
  /** A semantic version: `1.0.0`. */
  version: string;
  /** One line for listings. */
  description?: string;
  /** Who maintains it. */
  author?: string;
  /** Other plugins this one needs, by name, with a semver range: `{ tasks: "^1.0.0" }`. */
  dependencies?: Record<string, string>;
  /**
   * The Deno permissions it needs when isolated, as lists in Deno's vocabulary:
   * `{ env: ["WEBHOOK_URL"], net: ["hooks.example.com"] }`. Relative paths
   * start at its folder. Nothing declared: it reads its own code and reads
   * and writes its own data folder (`ctx.dataDir`), nothing more.
   */
  permissions?: PluginPermissions;
  /**
   * Events other than its own (`<name>.*`) that it emits when isolated:
   * `["task.created", "agent.*"]`. An isolated plugin may not emit anything
   * else, so it cannot forge another plugin's events; `system.*` and
   * `plugin.*` belong to the host.
   */
  emits?: string[];
  /**
   * The service and hook names it owns: `{ services: ["tasks"], hooks:
   * ["task.execute"] }`. Another plugin that registers one of them fails,
   * whatever the order they load in. Names not declared are first come,
   * first served.
   */
  provides?: { services?: string[]; hooks?: string[] };
}
