/**
 * Deno's permission errors, said for plugin authors: inside a plugin's
 * worker, `Requires env access to "X", run again with the --allow-env flag`
 * becomes `Plugin "x" may not read env "X": declare it in permissions.env of
 * its manifest`, since the fix is the manifest, not a flag.
 *
 * @module
 */

import { errorText } from "../error_text.ts";

const DENO_RE = /Requires (\w+) access(?: to "?([^",]*)"?)?/;

const VERB: Record<string, string> = {
  env: "read env",
  read: "read",
  write: "write",
  net: "reach",
  run: "run",
  sys: "read sys",
  import: "import from",
  ffi: "load native code",
  all: "use every permission",
};

/**
 * Rewrites a Deno permission error's message for a plugin; other errors are returned as they are.
 *
 * @param plugin the plugin's name
 * @param error anything thrown
 * @returns an error whose message names the manifest field to declare
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainPermissionError } from "./permission_messages.ts";
 * const denied = new Deno.errors.NotCapable('Requires env access to "API_KEY", run again with the --allow-env flag');
 * assert.equal(
 *   (explainPermissionError("hello", denied) as Error).message,
 *   'Plugin "hello" may not read env "API_KEY": declare it in permissions.env of its manifest',
 * );
 * ```
 */
export function explainPermissionError(plugin: string, error: unknown): unknown {
  let m: RegExpExecArray | null;
  try {
    const denied = error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied ||
      (error instanceof TypeError && errorText(error).startsWith("Requires "));
    m = denied ? DENO_RE.exec(errorText(error)) : null;
  } catch {
    return error; // a value that cannot be inspected (a revoked Proxy) is passed on as it is
  }
  if (!m) return error;
  const [, kind, target = ""] = m;
  const what = `${VERB[kind] ?? `use ${kind}`}${target ? ` "${target}"` : ""}`;
  const explained = new Deno.errors.NotCapable(`Plugin "${plugin}" may not ${what}: ${fixFor(plugin, kind)}`, {
    cause: error,
  });
  return explained;
}

/** The manifest's permission fields: what a fix may tell the author to declare. */
const FIELDS = ["read", "write", "net", "env", "import", "run", "sys"];

/**
 * What the author should do about a refused kind of access: declare it in
 * the manifest field of that name; `ffi` is never granted; anything else
 * (Deno's `all`, for an operation that needs every permission) has no field,
 * so the fix names the fields there are and the operator's way out.
 */
function fixFor(plugin: string, kind: string): string {
  if (FIELDS.includes(kind)) return `declare it in permissions.${kind} of its manifest`;
  if (kind === "ffi") return "plugins are never granted ffi";
  return `an isolated plugin gets only what its manifest declares in permissions (${FIELDS.join(", ")}), and ` +
    `this needs more than those give. Do without it, or ask the operator to trust the plugin (--trust ${plugin})`;
}

/** Functions of the `Deno` namespace that check permissions, rewrapped in a worker. */
const GUARDED = [
  "readTextFile",
  "readTextFileSync",
  "readFile",
  "readFileSync",
  "writeTextFile",
  "writeTextFileSync",
  "writeFile",
  "writeFileSync",
  "open",
  "openSync",
  "readDir",
  "readDirSync",
  "stat",
  "statSync",
  "lstat",
  "lstatSync",
  "remove",
  "removeSync",
  "mkdir",
  "mkdirSync",
  "rename",
  "renameSync",
  "copyFile",
  "copyFileSync",
  "realPath",
  "realPathSync",
  "readLink",
  "readLinkSync",
  "makeTempDir",
  "makeTempDirSync",
  "makeTempFile",
  "makeTempFileSync",
  "create",
  "createSync",
  "chmod",
  "chmodSync",
  "chown",
  "chownSync",
  "symlink",
  "symlinkSync",
  "link",
  "linkSync",
  "truncate",
  "truncateSync",
  "utime",
  "utimeSync",
  "watchFs",
  "resolveDns",
  "listenTls",
  "connect",
  "connectTls",
  "listen",
  "hostname",
  "osRelease",
  "systemMemoryInfo",
  "networkInterfaces",
  "loadavg",
] as const;

/**
 * Makes every permission failure inside a plugin's worker say which
 * manifest field to declare: wraps the `Deno` functions that check
 * permissions, `Deno.env`, `Deno.Command` and `fetch`.
 *
 * @param plugin the plugin's name
 */
export function explainPermissionsIn(plugin: string): void {
  const wrap = <F extends (...args: never[]) => unknown>(fn: F, self: unknown): F =>
    function (this: unknown, ...args: Parameters<F>) {
      try {
        const result = fn.apply(self ?? this, args);
        return result instanceof Promise
          ? result.catch((e) => Promise.reject(explainPermissionError(plugin, e)))
          : result;
      } catch (error) {
        throw explainPermissionError(plugin, error);
      }
    } as F;
  const ns = Deno as unknown as Record<string, unknown>;
  for (const name of GUARDED) {
    const fn = ns[name];
    if (typeof fn === "function") ns[name] = wrap(fn as (...args: never[]) => unknown, Deno);
  }
  const env = Deno.env as unknown as Record<string, unknown>;
  for (const name of ["get", "set", "delete", "has", "toObject"]) {
    const fn = env[name];
    if (typeof fn === "function") env[name] = wrap(fn as (...args: never[]) => unknown, Deno.env);
  }
  const realFetch = globalThis.fetch;
  globalThis.fetch = wrap(realFetch, globalThis);
  const guardCommand = (RealCommand: typeof Deno.Command) =>
    new Proxy(RealCommand, {
      construct(target, args) {
        const command = new target(...(args as ConstructorParameters<typeof Deno.Command>));
        for (const method of ["output", "outputSync", "spawn"] as const) {
          const fn = command[method] as (...a: never[]) => unknown;
          (command as unknown as Record<string, unknown>)[method] = wrap(fn, command);
        }
        return command;
      },
    });
  // Wrapped when first read: Deno loads its process module (~0.7 MiB in a worker) the first time `Deno.Command` is.
  const own = Object.getOwnPropertyDescriptor(Deno, "Command");
  if (!own?.configurable || !own.get) {
    ns.Command = guardCommand(Deno.Command);
    return;
  }
  const define = (value: unknown) =>
    Object.defineProperty(Deno, "Command", { value, writable: true, configurable: true, enumerable: own.enumerable });
  Object.defineProperty(Deno, "Command", {
    configurable: true,
    enumerable: own.enumerable,
    get() {
      const guarded = guardCommand(own.get!.call(Deno) as typeof Deno.Command);
      define(guarded);
      return guarded;
    },
    set: define,
  });
}
