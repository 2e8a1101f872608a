/**
 * Times one cold `host.start()` over a plugins folder (argument 1) in a fresh
 * process and prints the milliseconds.
 *
 * @module
 */

import { createHost } from "../mod.ts";

const host = createHost({ pluginsDir: Deno.args[0], logger: { level: "silent" } });
const t = performance.now();
const list = await host.start();
const ms = performance.now() - t;
const failed = list.filter((p) => p.state !== "active").length;
console.log(JSON.stringify({ ms, plugins: list.length, failed }));
await host.stop();
