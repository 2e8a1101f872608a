/**
 * A server for the HTTP benchmark, run in its own process on 127.0.0.1, port
 * 0. Prints its port on the first line of stdout, then serves until killed.
 *
 * - `hello`: plugboard (`createHost` + `serve` from mod.ts) with the shipped
 *   `plugins/hello` only, isolated in a worker (the default);
 * - `hello-inproc`: the same with `isolation: "none"` (in-process);
 * - `hello-sandbox`: the same with `hello` sandboxed (its own process);
 * - `all`, `all-inproc`: plugboard with every shipped plugin in `plugins/`
 *   (host-wide middleware of `analytics` on; `notifier`'s webhook points at a
 *   127.0.0.1 URL that is never called, as no task fails), isolated or not;
 * - `flood`: `hello` plus two isolated plugins, one emitting 5,000 events and
 *   200 log lines every timer turn, one listening to them (for `/health`
 *   under a flood; the host's budgets drop what is over them);
 * - `hono`: a bare Hono app on `Deno.serve` answering the same paths with the
 *   same status, content type and body as the `hello` server;
 * - `hono-worker`: the same Hono app (plugin route only) in a worker, behind
 *   the least forwarding there is: the floor under any design that serves a
 *   plugin's routes from its worker (the HTTP bench's "the floor" case).
 *
 * Plugins' data goes to a temporary folder, removed on SIGTERM.
 *
 * Usage: deno run --unstable-worker-options <flags> bench/_http_server.ts <kind>
 *
 * @module
 */

import { Hono } from "hono";
import { createHost, serve } from "../mod.ts";

/** The repository's root folder. */
const ROOT = new URL("..", import.meta.url).pathname;

/** The plugin route every case measures, and its body. */
export const HELLO_PATH = "/api/plugins/hello/greet/bench";
/** What {@linkcode HELLO_PATH} answers. */
export const HELLO_BODY = "Hello, bench!";
/** A path no plugin serves. */
export const MISSING_PATH = "/api/plugins/hello/missing";

/**
 * Starts the server of one kind.
 *
 * @param kind `hello`, `hello-inproc`, `all`, `all-inproc` or `hono`
 * @returns a function that stops it
 */
async function start(kind: string): Promise<() => Promise<void>> {
  const onListen = (addr: Deno.NetAddr) => console.log(addr.port);
  const [set, mode] = kind.split("-");
  if ((set === "hello" || set === "all") && (mode === undefined || mode === "inproc" || mode === "sandbox")) {
    const dataDir = await Deno.makeTempDir({ prefix: "plugboard-http-bench-" });
    const host = createHost({
      cwd: ROOT,
      pluginsDir: set === "all" ? `${ROOT}plugins` : null,
      plugins: set === "hello" ? [`${ROOT}plugins/hello/mod.ts`] : [],
      allowRead: [`${ROOT}plugins`],
      isolation: mode === "inproc" ? "none" : "worker",
      sandboxed: mode === "sandbox" ? ["hello"] : [],
      // The MCP bench calls /mcp with this key (unset: a generated token, as usual).
      apiKey: Deno.env.get("BENCH_ADMIN_KEY"),
      // Generous: a busy machine must make startup slow, not make plugins fail.
      importTimeout: 300_000,
      setupTimeout: 300_000,
      dataDir,
      logger: { level: "silent" },
    });
    try {
      await host.start();
      const failed = host.list().filter((p) => p.state !== "active");
      if (failed.length) {
        throw new Error(`Plugins not active: ${failed.map((p) => `${p.name} (${p.error})`).join(", ")}`);
      }
    } catch (error) {
      // The process exits at once on a failed start: its data folder goes first.
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      throw error;
    }
    const server = serve(host, { port: 0, onListen });
    return async () => {
      await server.shutdown();
      await Deno.remove(dataDir, { recursive: true });
    };
  }
  if (kind === "flood") {
    const dir = await Deno.makeTempDir({ prefix: "plugboard-http-bench-flood-" });
    const plugin = (name: string, setup: string) =>
      Deno.mkdir(`${dir}/plugins/${name}`, { recursive: true }).then(() =>
        Deno.writeTextFile(
          `${dir}/plugins/${name}/mod.ts`,
          `export default { name: "${name}", version: "1.0.0", setup(ctx) { ${setup} } };`,
        )
      );
    await plugin(
      "flooder",
      `ctx.setInterval(() => {
        for (let i = 0; i < 5000; i++) ctx.events.emit("flooder.tick", { i });
        for (let i = 0; i < 200; i++) ctx.log.error("line " + i);
      }, 0);`,
    );
    await plugin("counter", `let n = 0; ctx.events.on("flooder.tick", () => { n++; });`);
    const host = createHost({
      cwd: ROOT,
      pluginsDir: `${dir}/plugins`,
      plugins: [`${ROOT}plugins/hello/mod.ts`],
      allowRead: [`${ROOT}plugins`],
      importTimeout: 300_000,
      setupTimeout: 300_000,
      dataDir: `${dir}/data`,
      logger: { level: "silent" },
    });
    await host.start();
    const server = serve(host, { port: 0, onListen });
    return async () => {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    };
  }
  if (kind === "hono") {
    const app = new Hono();
    app.get("/api/plugins/hello/greet/:who", (c) => c.text(`Hello, ${c.req.param("who")}!`));
    app.get("/health", (c) => c.json({ status: "ok", plugins: { active: 1 } }));
    app.notFound((c) =>
      c.body(
        JSON.stringify({
          type: "about:blank",
          status: 404,
          title: "Not Found",
          // plugboard's 404: the same words whether the plugin or the route is missing (no enumeration).
          detail: `No route ${c.req.method} ${c.req.path}`,
        }),
        404,
        { "content-type": "application/problem+json" },
      )
    );
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen }, app.fetch);
    return () => server.shutdown();
  }
  if (kind === "hono-worker") {
    // The floor under any design that runs a plugin's routes in a worker: the same Hono app in a worker, behind the
    // least forwarding there is (request head out, one message; status, headers and a transferred buffer back).
    const source = `import { Hono } from ${JSON.stringify(import.meta.resolve("hono"))};
const app = new Hono();
app.get("/api/plugins/hello/greet/:who", (c) => c.text("Hello, " + c.req.param("who") + "!"));
self.onmessage = async ({ data: [id, method, url, headers] }) => {
  const res = await app.fetch(new Request(url, { method, headers }));
  const body = await res.arrayBuffer();
  self.postMessage([id, res.status, [...res.headers], body], [body]);
};`;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "application/javascript" })), {
      type: "module",
    });
    const waiting = new Map<number, (response: Response) => void>();
    worker.onmessage = ({ data: [id, status, headers, body] }) => {
      waiting.get(id)!(new Response(body, { status, headers }));
      waiting.delete(id);
    };
    let next = 0;
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen },
      (request) =>
        new Promise<Response>((resolve) => {
          const id = next++;
          waiting.set(id, resolve);
          worker.postMessage([id, request.method, request.url, [...request.headers]]);
        }),
    );
    return async () => {
      await server.shutdown();
      worker.terminate();
    };
  }
  throw new TypeError(
    `Unknown server kind '${kind}': use hello, hello-inproc, hello-sandbox, all, all-inproc, flood, hono or hono-worker`,
  );
}

if (import.meta.main) {
  const stop = await start(Deno.args[0]).catch((error) => {
    // Exit at once: live plugin workers would keep a failed server's process running.
    console.error(`The ${Deno.args[0]} server did not start: ${error?.message ?? error}`);
    Deno.exit(1);
  });
  Deno.addSignalListener("SIGTERM", async () => {
    await stop();
    Deno.exit(0);
  });
}
