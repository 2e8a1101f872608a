/**
 * A server for the HTTP benchmark, run in its own process: `plugboard` serves
 * a plugin route through the host; `hono` serves the same handler on a bare
 * Hono app. Prints the port, then serves until killed.
 *
 * @module
 */

import { Hono } from "hono";
import { createHost, serve } from "../mod.ts";
import { generatePlugins, PONG } from "./_fixtures.ts";

const kind = Deno.args[0];
if (kind === "plugboard") {
  const dir = await generatePlugins(1, 1);
  const host = createHost({ pluginsDir: dir, logger: { level: "silent" } });
  await host.start();
  const server = serve(host, { port: 0, onListen: (addr) => console.log(addr.port) });
  Deno.addSignalListener("SIGTERM", async () => {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
    Deno.exit(0);
  });
} else {
  const app = new Hono();
  app.get("/api/plugins/p0/r0", (c) => c.text(PONG));
  Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: (addr) => console.log(addr.port) }, app.fetch);
}
