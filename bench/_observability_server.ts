/**
 * A server for `observability_bench.ts`: plugboard with the shipped `hello`
 * plugin, with the access log and metrics on or off. Writes its port to the
 * file named last (stdout carries the access lines, one per request when on),
 * and serves until killed.
 *
 * Usage: deno run --unstable-worker-options <flags> bench/_observability_server.ts <on|off|metrics> <worker|none> <port file>
 *
 * @module
 */

import { createHost, serve } from "../mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const [mode, isolation, portFile] = Deno.args;
const dataDir = await Deno.makeTempDir({ prefix: "plugboard-observability-bench-" });
const host = createHost({
  cwd: ROOT,
  pluginsDir: null,
  plugins: [`${ROOT}plugins/hello/mod.ts`],
  allowRead: [`${ROOT}plugins`],
  isolation: isolation === "none" ? "none" : "worker",
  importTimeout: 300_000,
  setupTimeout: 300_000,
  dataDir,
  // The access log is written as a server writes it: info lines to stdout (the bench reads and discards them).
  logger: { level: "info" },
  observability: { accessLog: mode === "on", metrics: mode !== "off" },
});
await host.start();
const server = serve(host, { port: 0, onListen: (addr) => Deno.writeTextFileSync(portFile, String(addr.port)) });
Deno.addSignalListener("SIGTERM", async () => {
  await server.shutdown();
  await Deno.remove(dataDir, { recursive: true });
  Deno.exit(0);
});
