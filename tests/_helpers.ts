/**
 * Test helpers: temporary plugin folders, a static file server for URL
 * plugins, and quiet hosts that record what they log.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { createHost, type Host, type HostOptions, type LogRecord } from "../mod.ts";

/** The file URL of the project's mod.ts, for fixture plugins that import it. */
export const MOD_URL = new URL("../mod.ts", import.meta.url).href;

/** A temporary folder of plugins. */
export interface TempPlugins {
  dir: string;
  write(path: string, content: string): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Makes a temporary folder holding the given files.
 *
 * @param files relative path → content
 */
export async function tempPlugins(files: Record<string, string> = {}): Promise<TempPlugins> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "plugboard-test-" }));
  const write = async (path: string, content: string) => {
    await Deno.mkdir(dirname(join(dir, path)), { recursive: true });
    await Deno.writeTextFile(join(dir, path), content);
  };
  for (const [path, content] of Object.entries(files)) await write(path, content);
  return { dir, write, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** A plain-object plugin module's source. */
export function pluginSource(
  name: string,
  options: { version?: string; dependencies?: Record<string, string>; setup?: string; extra?: string } = {},
): string {
  return `export default {
  name: ${JSON.stringify(name)},
  version: ${JSON.stringify(options.version ?? "1.0.0")},
  dependencies: ${JSON.stringify(options.dependencies ?? {})},
  ${options.extra ?? ""}
  setup(ctx) { ${options.setup ?? ""} },
};
`;
}

/** A static file server on 127.0.0.1 with a request counter. */
export interface StaticServer {
  base: string;
  host: string;
  requests: string[];
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Serves a folder over HTTP on 127.0.0.1, port 0.
 *
 * @param dir the folder
 */
export function serveStatic(dir: string): StaticServer {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requests.push(path);
    try {
      const body = await Deno.readTextFile(join(dir, decodeURIComponent(path)));
      return new Response(body, { headers: { "content-type": "application/javascript" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const host = `127.0.0.1:${server.addr.port}`;
  return { base: `http://${host}`, host, requests, [Symbol.asyncDispose]: () => server.shutdown() };
}

/** Data folders made by {@linkcode quietHost} for hosts a test did not stop: removed when the test module ends. */
const madeDataDirs = new Set<string>();
globalThis.addEventListener("unload", () => {
  for (const dir of madeDataDirs) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone already */ }
  }
});

/**
 * A host that logs to an array instead of the console, keeps plugin data in
 * a temporary folder, and runs plugins in-process unless `isolation` says
 * otherwise (the isolation tests ask for workers).
 */
export function quietHost(options: HostOptions = {}): Host & { logs: LogRecord[] } {
  const logs: LogRecord[] = [];
  // A data folder of its own unless the test names one; removed when the host stops.
  const own = options.dataDir === undefined ? Deno.makeTempDirSync({ prefix: "plugboard-data-" }) : undefined;
  const dataDir = own ?? options.dataDir!;
  if (own) madeDataDirs.add(own);
  let host: Host;
  try {
    host = createHost({
      logger: { level: "debug", sink: (r) => logs.push(r) },
      isolation: "none",
      dataDir,
      lockFile: join(dataDir, "plugboard.lock"),
      ...options,
    });
  } catch (error) {
    // Refused options (the tests of bad settings): no host will stop, so its folder goes now.
    if (own) {
      Deno.removeSync(own, { recursive: true });
      madeDataDirs.delete(own);
    }
    throw error;
  }
  if (own) {
    const stop = host.stop.bind(host);
    host.stop = async (...args: Parameters<Host["stop"]>) => {
      await stop(...args);
      await Deno.remove(own, { recursive: true }).catch(() => {});
      madeDataDirs.delete(own);
    };
  }
  return Object.assign(host, { logs });
}

/**
 * A quiet host over a test folder's `plugins/` and `data/`, with budgets
 * generous enough for workers started on a busy machine.
 *
 * @param dir the test folder
 * @param options more host options (`isolation`, limits, ...)
 */
export function folderHost(dir: string, options: HostOptions = {}): Host & { logs: LogRecord[] } {
  return quietHost({
    pluginsDir: join(dir, "plugins"),
    dataDir: join(dir, "data"),
    setupTimeout: 20_000,
    ...options,
  });
}

/** Connection info of a loopback client, for `host.fetch`. */
export const LOOPBACK = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 40000 },
  completed: Promise.resolve(),
} as unknown as Deno.ServeHandlerInfo;

/** The project's root folder. */
export const ROOT_DIR = new URL("..", import.meta.url).pathname;

/**
 * A frozen copy of the project's lock for child processes: they resolve
 * exactly the versions `deno.lock` pins (never a newer one a cache or the
 * registry happens to offer), and none of them can write to `deno.lock`.
 * One copy in `.plugboard/` serves every test module; it is replaced (by a
 * rename, so a child never reads half a file) only when `deno.lock` changed.
 */
export const CHILD_LOCK: string = (() => {
  const lock = Deno.readTextFileSync(join(ROOT_DIR, "deno.lock"));
  const copy = join(ROOT_DIR, ".plugboard", "child.lock");
  try {
    if (Deno.readTextFileSync(copy) === lock) return copy;
  } catch { /* not made yet */ }
  Deno.mkdirSync(dirname(copy), { recursive: true });
  const fresh = `${copy}.${Deno.pid}.${crypto.randomUUID()}`;
  Deno.writeTextFileSync(fresh, lock);
  Deno.renameSync(fresh, copy);
  return copy;
})();

/**
 * A `deno <subcommand>` child process with the project's config (for its
 * import map) and a frozen copy of its lock ({@linkcode CHILD_LOCK}).
 *
 * @param subcommand `run`, `serve`, `test`, `eval` or `info`
 * @param args flags and files after the subcommand
 * @param options extra Deno.Command options
 */
export function denoCommand(
  subcommand: "run" | "serve" | "test" | "eval" | "info",
  args: string[],
  options: Deno.CommandOptions = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [subcommand, `--lock=${CHILD_LOCK}`, "--frozen", `--config=${join(ROOT_DIR, "deno.json")}`, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    ...options,
  });
}

/**
 * Waits until `predicate` holds, checking after every timer turn; rejects
 * naming `what` when it still does not hold after `timeoutMs`.
 *
 * @param predicate the condition
 * @param options `timeoutMs` (default 5000) and `what` (for the message)
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const { timeoutMs = 5000, what = "the condition" } = options;
  const end = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Waits for `n` turns of a 1 ms timer started now. Any 1 ms timer or interval
 * that was already scheduled fires before each of these turns (timers of the
 * same delay fire in the order they were set), so after it resolves, a
 * cleared interval that still ran would have been seen.
 *
 * @param n how many turns
 */
export async function timerTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 1));
}

/**
 * Plugin code (a statement) that loops without ever yielding while the file
 * `spinning` exists beside the plugin's module: a hung plugin, for the
 * watchdog. Write that file to make it spin; the loop ends when the test's
 * temporary folder is removed. Deno cannot stop a thread stuck in a loop
 * (denoland/deno#35657): a bare `for (;;) {}` would keep a core of the
 * machine busy until the whole suite ends.
 */
export const SPIN =
  `for (const spinning = new URL("./spinning", import.meta.url);;) { try { Deno.statSync(spinning); } catch { break; } }`;
