/**
 * Runs a host behind `Deno.serve`, with a graceful shutdown: stop accepting,
 * let in-flight requests finish (bounded), then unload every plugin in
 * reverse dependency order.
 *
 * @module
 */

import type { Host } from "./host.ts";

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** The port; 0 picks a free one. @default 8000 */
  port?: number;
  /** The interface to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** How long in-flight requests may take to finish on shutdown, in ms. @default 10000 */
  shutdownTimeout?: number;
  /** Called once listening. @default nothing */
  onListen?: (addr: Deno.NetAddr) => void;
}

/** A running server. */
export interface RunningServer {
  /** Where it listens. */
  addr: Deno.NetAddr;
  /**
   * Stops accepting connections, waits for in-flight requests (up to
   * `shutdownTimeout`), then stops the host. Safe to call more than once.
   */
  shutdown(): Promise<void>;
  /** Settles when the server has shut down. */
  finished: Promise<void>;
}

/**
 * Serves a host's `fetch` over HTTP. The host should already be started.
 *
 * @param host the plugin host
 * @param options port, hostname, shutdown bound
 * @returns the running server
 *
 * @example Serve on a free port, then shut down
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHost, serve } from "../mod.ts";
 * const host = createHost({ pluginsDir: null, logger: { level: "silent" } });
 * await host.start();
 * const server = serve(host, { port: 0 });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/health`);
 * assert.equal(res.status, 200);
 * await res.body?.cancel();
 * await server.shutdown();
 * ```
 */
export function serve(host: Host, options: ServeOptions = {}): RunningServer {
  const server = Deno.serve({
    port: options.port ?? 8000,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: (addr) => options.onListen?.(addr as Deno.NetAddr),
  }, host.fetch);
  const bound = options.shutdownTimeout ?? 10_000;
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      // An MCP session's open event stream is a request in flight: closed first, it does not hold the shutdown.
      await host.mcp.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), bound));
      host.observability.close(); // event streams never finish on their own
      const outcome = await Promise.race([server.shutdown().then(() => "done" as const), late]);
      clearTimeout(timer);
      if (outcome === "late") {
        host.log.warn(`In-flight requests did not finish within ${bound} ms; stopping plugins anyway`);
      }
      // Past the bound, the plugins' unloads do not wait for those requests again.
      await host.stop(outcome === "late" ? { drainTimeout: 0 } : {});
    })();
  return { addr: server.addr as Deno.NetAddr, shutdown, finished: server.finished.then(() => stopping) };
}
