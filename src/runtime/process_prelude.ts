/**
 * The first module a sandboxed plugin's process evaluates, before
 * `worker_main.ts` and any plugin code: it takes the process's stdin and
 * stdout as its channel to the host and gives the process the
 * `postMessage` / `onmessage` pair a worker has over it, so the worker's
 * entry runs unchanged. Everything else that would write to stdout
 * (`console`, `Deno.stdout`, Node's `process.stdout`) is sent to stderr,
 * which the host logs under the plugin's name. The process ends when its
 * stdin closes (the host stopped or died), and ignores Ctrl-C (the host
 * stops it).
 *
 * @module
 */

import process from "node:process";
import { FrameChannel } from "./process_channel.ts";

/** What this module adds to the process's global scope. */
interface ProcessScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

const scope = globalThis as typeof globalThis & ProcessScope;
const channel = new FrameChannel(Deno.stdin.readable, Deno.stdout.writable);
channel.onmessage = (data) => scope.onmessage?.({ data });
channel.onclose = (reason) => {
  if (reason) console.error(`plugboard sandbox: the channel to the host broke: ${reason}`);
  Deno.exit(reason ? 1 : 0);
};
scope.postMessage = (message, transfer) => channel.post(message, transfer);
scope.onmessage ??= null;

// stdout is the channel: nothing else may write to it.
Object.defineProperty(Deno, "stdout", { value: Deno.stderr, configurable: true });
Object.defineProperty(process, "stdout", { value: process.stderr, configurable: true });

try {
  Deno.addSignalListener("SIGINT", () => {});
} catch { /* no signals here: nothing to ignore */ }
