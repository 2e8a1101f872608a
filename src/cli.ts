/**
 * The `plugboard` command: flags, `plugboard.json`, the startup table and
 * signal handling around {@linkcode serve}.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createHost, type Host } from "./host.ts";
import { resolve } from "node:path";
import { checkApiKey, type HostSettings, hostSettingsSchema } from "./options.ts";
import { formatIssues } from "./schema.ts";
import { SettingsError } from "./errors.ts";
import { errorText } from "./error_text.ts";
import { assertReadableFolder } from "./discovery.ts";
import { formatPluginTable } from "./plugin_table.ts";
import { type RunningServer, serve } from "./server.ts";
import { describeAdminAccess, keepAdminToken } from "./http/admin_token.ts";

export { formatPluginTable } from "./plugin_table.ts";

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
  --sandbox <name>           run this plugin in its own Deno process, with kernel
                             limits (repeatable; Linux; needs --allow-run=prlimit,ps)
  --plugin <path-or-url>     load this plugin too (repeatable)
  --allow-import-host <host> let URL plugins come from this host (repeatable);
                             plugboard fetches them itself: Deno needs --allow-net=<host>
  --frozen                   refuse URL plugins and modules plugboard.lock does not pin
  --offline                  start URL plugins from plugboard.lock and their snapshots only
  --config <file>            settings file (default ./plugboard.json if present)
  --watch                    reload plugins when their files change
  --help                     show this help

Environment:
  PLUGBOARD_API_KEY          admin API key (X-API-Key or Authorization: Bearer),
                             at least 16 characters; without it the server makes a
                             token at each start, stores it in .plugboard/admin-token,
                             prints it, and asks it of loopback clients only
  PLUGBOARD_DEBUG=<names>    debug lines of these plugins (comma-separated; * or 1 for all)
  PLUGBOARD_LOG=json         log as JSON lines (time, level, plugin, msg, error with stack)

MCP clients: http://<host>:<port>/mcp (with the admin key); deno task mcp for stdio.

Ctrl-C or SIGTERM shuts down gracefully (exit 0); a second one exits at once.
A usage or startup error prints one line and exits with code 2.
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
        sandbox: { type: "string", multiple: true },
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
    // Decimal digits only: Number() would also take "", "0x1f", "1e3" and " 80 ".
    port = /^[0-9]{1,5}$/.test(v.port) ? Number(v.port) : Number.NaN;
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
    sandboxed: [...(fromFile.sandboxed ?? []), ...(v.sandbox ?? [])],
    plugins: [...(fromFile.plugins ?? []), ...(v.plugin ?? [])],
    allowImport: [...(fromFile.allowImport ?? []), ...(v["allow-import-host"] ?? [])],
    watch: v.watch ?? fromFile.watch,
    ...(v.frozen ?? fromFile.frozen ? { frozen: true } : {}),
    ...(v.offline ?? fromFile.offline ? { offline: true } : {}),
  };
  return { help: false, settings, configFile: text === undefined ? undefined : configFile };
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
 * The exit code of a process ended by `signal` (128 + its number, as shells report it).
 *
 * @param signal the signal
 * @returns 130 for SIGINT, 143 for SIGTERM
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signalExitCode } from "./cli.ts";
 * assert.equal(signalExitCode("SIGTERM"), 143);
 * ```
 */
export function signalExitCode(signal: "SIGINT" | "SIGTERM"): number {
  return signal === "SIGINT" ? 130 : 143;
}

/**
 * Checks, before any plugin loads, what would otherwise fail late or crash:
 * the plugins folder must be readable under Deno's `--allow-read`, and the
 * port must be free and allowed by `--allow-net`.
 *
 * @param settings the resolved settings
 * @throws {SettingsError} saying what is wrong and how to fix it
 */
export function checkStartup(settings: Settings): void {
  const pluginsDir = settings.pluginsDir === null ? null : resolve(settings.pluginsDir ?? "./plugins");
  if (pluginsDir !== null) assertReadableFolder(pluginsDir);
  const port = settings.port ?? 8000;
  const hostname = settings.hostname ?? "127.0.0.1";
  let listener: Deno.Listener | undefined;
  try {
    listener = Deno.listen({ hostname, port });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new SettingsError(
        `Cannot listen on ${hostname}:${port}: the port is in use. Stop the other server or choose another --port`,
      );
    }
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      throw new SettingsError(
        `Cannot listen on ${hostname}:${port}: Deno's --allow-net does not include it. ` +
          `Run deno with --allow-net=${hostname}:${port}, or choose another --hostname`,
      );
    }
    if (err instanceof Deno.errors.AddrNotAvailable) {
      throw new SettingsError(
        `Cannot listen on ${hostname}:${port}: no interface of this machine has that address. Choose another --hostname`,
      );
    }
    throw err;
  } finally {
    listener?.close();
  }
}

/** Host names that only this machine can reach. */
function isLoopbackName(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname === "[::1]" || hostname.startsWith("127.");
}

/** Reads a settings file; undefined when it does not exist. */
async function readSettingsFile(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      throw new SettingsError(
        `Cannot read settings file "${path}": it is outside Deno's --allow-read. Run deno with ` +
          `--allow-read=${resolve(path)}, or pass --config with a file it may read`,
      );
    }
    throw err;
  }
}

/**
 * Runs the server: parse, check the port and folders, install signal
 * handling, start the host, serve, print the table. The first SIGINT or
 * SIGTERM shuts down gracefully (exit 0); a second one, or one that arrives
 * while plugins are still loading, exits at once (130 or 143).
 *
 * @param args command-line arguments
 * @returns the host and server, or undefined when help was printed
 * @throws {SettingsError} for a bad flag, settings file, key, port or folder
 */
export async function runCli(args: string[]): Promise<CliRun | undefined> {
  const request = await parseCli(args, readSettingsFile);
  if (request.help) {
    console.log(HELP);
    return undefined;
  }
  const s = request.settings;
  const apiKey = checkApiKey(readEnv("PLUGBOARD_API_KEY"), "PLUGBOARD_API_KEY");
  checkStartup(s);
  const hostname = s.hostname ?? "127.0.0.1";

  // Signals first: a plugin that hangs while loading must not make the process deaf to them.
  let phase: "loading" | "serving" | "stopping" = "loading";
  // Assigned once listening; the signal handler reads it.
  // deno-lint-ignore prefer-const
  let server: RunningServer | undefined;
  const onSignal = (signal: "SIGINT" | "SIGTERM") => {
    if (phase === "loading" || phase === "stopping" || !server) {
      console.error(
        phase === "stopping"
          ? `plugboard: second ${signal}: exiting now, without waiting for plugins to unload`
          : `plugboard: ${signal} while plugins were loading: exiting now`,
      );
      Deno.exit(signalExitCode(signal));
    }
    phase = "stopping";
    console.log(`Shutting down: finishing in-flight requests, then unloading plugins (${signal} again to exit now)`);
    server.shutdown().then(() => Deno.exit(0), (err) => {
      console.error(err);
      Deno.exit(1);
    });
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, () => onSignal(signal));
    } catch {
      // SIGTERM cannot be listened to on Windows.
    }
  }

  if (!apiKey && !isLoopbackName(hostname)) {
    console.warn(
      `Warning: listening on ${hostname} without PLUGBOARD_API_KEY. The admin API still answers loopback clients ` +
        `only (with the token made at start), but plugin routes are reachable from the network; set ` +
        `PLUGBOARD_API_KEY to manage plugins remotely`,
    );
  }
  const host = createHost({ ...s, apiKey, allowedHosts: [...(s.allowedHosts ?? []), hostname] });
  // Stored before any plugin loads; isolated plugins cannot read .plugboard/ (a trusted one can read anything).
  const unstored = apiKey ? "" : await keepAdminToken(host.adminKey);
  await host.start();
  if (s.watch) host.watch();
  server = serve(host, { port: s.port, hostname, shutdownTimeout: s.shutdownTimeout });
  // Deno ends its accept loop on a fatal error (such as running out of file descriptors): never live on without it.
  server.finished.catch((error) => {
    console.error(`plugboard: the server stopped accepting connections (${errorText(error)}); exiting with code 1`);
    Deno.exit(1);
  });
  phase = "serving";
  const { port } = server.addr;
  console.log(
    `plugboard listening on http://${server.addr.hostname}:${port}${
      request.configFile ? ` (settings: ${request.configFile})` : ""
    }`,
  );
  console.log(formatPluginTable(host.list()));
  console.log(describeAdminAccess(apiKey ? undefined : host.adminKey, unstored, server.addr));
  if (s.watch) console.log(`Watching ${host.pluginsDir ?? "(no plugins folder)"} for changes`);
  return { host, server };
}

/**
 * Starts the host for `deno serve serve.ts`: settings from `plugboard.json`
 * and the flags after `--` (`--port` and `--hostname` belong to `deno serve`
 * itself and are refused here), plugins loaded, signals handled (the first
 * unloads plugins then exits 0, a second exits at once).
 *
 * @param args the flags after `--`
 * @returns the fetch handler for `deno serve`
 * @throws {SettingsError} for a bad flag, settings file, key or plugins folder
 */
export async function startForServe(args: string[]): Promise<{ fetch: Deno.ServeHandler }> {
  const request = await parseCli(args, readSettingsFile);
  if (request.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const s = request.settings;
  if (args.some((a) => a.startsWith("--port") || a.startsWith("--hostname"))) {
    throw new SettingsError("With deno serve, pass --port and --host to deno serve itself, before serve.ts");
  }
  const apiKey = checkApiKey(readEnv("PLUGBOARD_API_KEY"), "PLUGBOARD_API_KEY");
  checkStartup({ ...s, port: 0 });
  let stopping = false;
  // Assigned once created; the signal handler reads it.
  // deno-lint-ignore prefer-const
  let host: Host | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, () => {
        if (stopping || !host) Deno.exit(signalExitCode(signal));
        stopping = true;
        console.log(`Shutting down: unloading plugins (${signal} again to exit now)`);
        host.stop().then(() => Deno.exit(0), (err) => {
          console.error(err);
          Deno.exit(1);
        });
      });
    } catch {
      // SIGTERM cannot be listened to on Windows.
    }
  }
  host = createHost({ ...s, apiKey });
  const unstored = apiKey ? "" : await keepAdminToken(host.adminKey);
  await host.start();
  if (s.watch) host.watch();
  console.log(formatPluginTable(host.list()));
  console.log(describeAdminAccess(apiKey ? undefined : host.adminKey, unstored));
  const started = host;
  return { fetch: (request, info) => started.fetch(request, info) };
}
