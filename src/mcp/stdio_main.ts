/**
 * `deno task mcp`: the host with its plugins, spoken to over stdio, for
 * desktop MCP clients that spawn a process. Same settings and flags as
 * `deno task start` (`plugboard.json`, `--plugins-dir`, `--trust`, ...), no
 * HTTP server and no key (whoever can spawn the process is the operator).
 * stdout carries MCP frames only: every log line, the plugins' output
 * included, goes to stderr. The process ends when the client closes stdin or
 * sends SIGINT/SIGTERM, after the plugins unload.
 *
 * @module
 */

import process from "node:process";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { HELP, parseCli } from "../cli.ts";
import { SettingsError } from "../errors.ts";
import { createHost, type Host } from "../host.ts";

/** Reads the settings file; undefined when it does not exist. */
async function readSettings(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Sends everything `console` would print to stdout to stderr instead: stdout
 * carries the MCP frames alone, and a trusted plugin's `console.dir` or
 * `console.table` would corrupt them (an isolated plugin's console is routed
 * to the host's log already; the logger's sink prints with `console.log`).
 * Deno's console gives no way to pick its stream, so the methods that print
 * to stdout are replaced: the same words, without `table`'s grid or the
 * groups' indentation.
 */
function printToStderr(): void {
  const print = console.error.bind(console);
  const c = console as unknown as Record<string, unknown>;
  for (const name of ["log", "info", "debug", "dirxml"]) c[name] = print;
  c.dir = (item: unknown, options?: Deno.InspectOptions) => print(Deno.inspect(item, { colors: false, ...options }));
  c.table = (data: unknown) => print(Deno.inspect(data, { colors: false }));
  const counts = new Map<string, number>();
  c.count = (label = "default") => {
    const n = (counts.get(label) ?? 0) + 1;
    counts.set(label, n);
    print(`${label}: ${n}`);
  };
  c.countReset = (label = "default") => void counts.delete(label);
  const timers = new Map<string, number>();
  c.time = (label = "default") => void timers.set(label, performance.now());
  c.timeLog = (label = "default", ...data: unknown[]) => {
    const at = timers.get(label);
    if (at === undefined) print(`Timer '${label}' does not exist`);
    else print(`${label}: ${Math.round(performance.now() - at)}ms`, ...data);
  };
  c.timeEnd = (label = "default") => {
    (c.timeLog as (label: string) => void)(label);
    timers.delete(label);
  };
  c.group = c.groupCollapsed = (...label: unknown[]) => void (label.length && print(...label));
  c.groupEnd = () => {};
  c.clear = () => {};
}

/**
 * Starts the host and serves MCP over stdio until the client goes.
 *
 * @param args the command-line flags
 * @returns when the host has stopped
 * @throws {SettingsError} for a bad flag or settings file
 */
export async function runStdio(args: string[]): Promise<void> {
  printToStderr();
  const request = await parseCli(args, readSettings);
  if (request.help) {
    // On stderr: stdout is the client's. The options are deno task start's (--port, --hostname and --watch unused).
    const options = HELP.slice(HELP.indexOf("Options:"), HELP.indexOf("\nMCP clients:")).trimEnd();
    console.error(
      `deno task mcp [options]: serves the plugins' MCP tools over stdio (the options of deno task start; --port and\n` +
        `--hostname do nothing here)\n\n${options}`,
    );
    return;
  }
  const { port: _port, hostname: _hostname, watch, ...settings } = request.settings;
  const host: Host = createHost(settings);
  await host.start();
  if (watch) host.watch();
  const failed = host.list().filter((p) => p.state === "failed");
  for (const p of failed) console.error(`plugboard mcp: plugin "${p.name}" failed: ${p.error}`);
  let stopping: Promise<void> | undefined;
  const stop = () => stopping ??= host.stop();
  const transport = new StdioServerTransport();
  const session = await host.mcp.connect(transport);
  const tools = host.mcp.registry.tools().length;
  console.error(`plugboard mcp: serving ${tools} tool(s) over stdio${tools ? "" : " (no plugin registered one)"}`);
  const ended = new Promise<void>((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
    const previous = session.server.onclose;
    session.server.onclose = () => {
      previous?.();
      resolve();
    };
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(signal, () => resolve());
      } catch {
        // SIGTERM cannot be listened to on Windows.
      }
    }
  });
  await ended;
  await session.close();
  await stop();
}

if (import.meta.main) {
  try {
    await runStdio(Deno.args);
    Deno.exit(0);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    console.error(`plugboard mcp: ${error.message}`);
    Deno.exit(2);
  }
}
