/**
 * The `plugboard` command: flags, `plugboard.json`, the startup table and
 * signal handling around {@linkcode serve}.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createHost, type Host } from "./host.ts";
import { type HostSettings, hostSettingsSchema } from "./options.ts";
import { formatIssues } from "./schema.ts";
import { SettingsError } from "./errors.ts";
import type { PluginInfo } from "./plugin_info.ts";
import { type RunningServer, serve } from "./server.ts";

/** What the command runs with: the settings of `plugboard.json`, flags applied. */
export type Settings = HostSettings;

/** The command's help text. */
export const HELP = `plugboard: a plugin host for Deno

Usage: deno task start [options]

Options:
  --port <n>                 port to listen on (default 8000; 0 picks a free one)
  --hostname <name>          interface to listen on (default 127.0.0.1)
  --plugins-dir <dir>        folder of plugins to discover (default ./plugins)
  --data-dir <dir>           plugins' data folders live in <dir>/plugins/<name> (default ./data)
  --trust <name>             run this plugin in-process, trusted (repeatable);
                             every other plugin runs isolated in its own worker
  --plugin <path-or-url>     load this plugin too (repeatable)
  --allow-import-host <host> let URL plugins come from this host (repeatable);
                             plugboard fetches them itself: Deno needs --allow-net=<host>
  --frozen                   refuse URL plugins and modules plugboard.lock does not pin
  --offline                  start URL plugins from plugboard.lock and their snapshots only
  --config <file>            settings file (default ./plugboard.json if present)
  --watch                    reload plugins when their files change
  --help                     show this help

Environment:
  PLUGBOARD_API_KEY          admin API key (X-API-Key); without it the admin API
                             answers loopback clients only
  PLUGBOARD_DEBUG=1          debug logging
`;

/** The outcome of {@linkcode parseCli}: settings, or help to print. */
export type CliRequest = { help: true } | { help: false; settings: Settings; configFile: string | undefined };

/**
 * Parses the command line and the settings file; flags win over the file.
 *
 * @param args the command-line arguments
 * @param readFile reads the settings file; undefined when it does not exist
 * @returns settings or a help request
 * @throws {Error} for an unknown flag, a bad value or an invalid settings file, saying which
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCli } from "./cli.ts";
 * const r = await parseCli(["--port", "9000", "--plugin", "./a/mod.ts"], () => Promise.resolve(undefined));
 * assert.ok(!r.help);
 * assert.equal(r.settings.port, 9000);
 * assert.deepEqual(r.settings.plugins, ["./a/mod.ts"]);
 * ```
 */
export async function parseCli(
  args: string[],
  readFile: (path: string) => Promise<string | undefined>,
): Promise<CliRequest> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        hostname: { type: "string" },
        "plugins-dir": { type: "string" },
        "data-dir": { type: "string" },
        trust: { type: "string", multiple: true },
        plugin: { type: "string", multiple: true },
        "allow-import-host": { type: "string", multiple: true },
        config: { type: "string" },
        watch: { type: "boolean" },
        frozen: { type: "boolean" },
        offline: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new SettingsError(`${(err as Error).message}. Run with --help to see the options`);
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  const configFile = v.config ?? "plugboard.json";
  const text = await readFile(configFile);
  if (text === undefined && v.config) {
    throw new SettingsError(`Cannot read settings file "${v.config}": it does not exist`);
  }
  let fromFile: Settings = {};
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new SettingsError(`Settings file "${configFile}" is not valid JSON: ${(err as Error).message}`);
    }
    const r = hostSettingsSchema.safeParse(json);
    if (!r.success) {
      throw new SettingsError(`Settings file "${configFile}" is invalid: ${formatIssues(r.error.issues)}`);
    }
    fromFile = r.data;
  }
  let port = fromFile.port;
  if (v.port !== undefined) {
    port = Number(v.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new SettingsError(`--port must be a whole number from 0 to 65535: current value is "${v.port}"`);
    }
  }
  const settings: Settings = {
    ...fromFile,
    port,
    hostname: v.hostname ?? fromFile.hostname,
    pluginsDir: v["plugins-dir"] ?? fromFile.pluginsDir,
    dataDir: v["data-dir"] ?? fromFile.dataDir,
    trusted: [...(fromFile.trusted ?? []), ...(v.trust ?? [])],
    plugins: [...(fromFile.plugins ?? []), ...(v.plugin ?? [])],
    allowImport: [...(fromFile.allowImport ?? []), ...(v["allow-import-host"] ?? [])],
    watch: v.watch ?? fromFile.watch,
    ...(v.frozen ?? fromFile.frozen ? { frozen: true } : {}),
    ...(v.offline ?? fromFile.offline ? { offline: true } : {}),
  };
  return { help: false, settings, configFile: text === undefined ? undefined : configFile };
}

/**
 * Formats the startup table of plugins.
 *
 * @param plugins the host's list
 * @returns lines of text
 */
export function formatPluginTable(plugins: PluginInfo[]): string {
  if (plugins.length === 0) return "  (no plugins)";
  const rows = plugins.map((p) => [
    p.name,
    p.version ?? "-",
    p.state,
    p.timings.totalMs === undefined ? "" : `${p.timings.totalMs.toFixed(1)} ms`,
    p.state === "failed" ? (p.error ?? "") : p.routes.join(", ") || "-",
  ]);
  const head = ["PLUGIN", "VERSION", "STATE", "LOAD", "ROUTES / ERROR"];
  const widths = head.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => "  " + r.slice(0, 4).map((c, i) => c.padEnd(widths[i])).join("  ") + "  " + r[4];
  return [line(head), ...rows.map(line)].join("\n");
}

/** What {@linkcode runCli} started. */
export interface CliRun {
  host: Host;
  server: RunningServer;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * Runs the server: parse, start the host, serve, print the table, and shut
 * down gracefully on SIGINT or SIGTERM.
 *
 * @param args command-line arguments
 * @returns the host and server, or undefined when help was printed
 */
export async function runCli(args: string[]): Promise<CliRun | undefined> {
  const request = await parseCli(args, async (path) => {
    try {
      return await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
  });
  if (request.help) {
    console.log(HELP);
    return undefined;
  }
  const s = request.settings;
  const apiKey = readEnv("PLUGBOARD_API_KEY");
  const host = createHost({ ...s, apiKey });
  await host.start();
  if (s.watch) host.watch();
  const server = serve(host, { port: s.port, hostname: s.hostname, shutdownTimeout: s.shutdownTimeout });
  const { hostname, port } = server.addr;
  console.log(
    `plugboard listening on http://${hostname}:${port}${
      request.configFile ? ` (settings: ${request.configFile})` : ""
    }`,
  );
  console.log(formatPluginTable(host.list()));
  console.log(
    apiKey
      ? "Admin API: requires the X-API-Key header (PLUGBOARD_API_KEY is set)"
      : "Admin API: PLUGBOARD_API_KEY is not set, so it answers loopback clients only",
  );
  if (s.watch) console.log(`Watching ${host.pluginsDir ?? "(no plugins folder)"} for changes`);
  const stop = () => {
    console.log("Shutting down: finishing in-flight requests, then unloading plugins");
    server.shutdown().then(() => Deno.exit(0), (err) => {
      console.error(err);
      Deno.exit(1);
    });
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // SIGTERM cannot be listened to on Windows.
    }
  }
  return { host, server };
}
