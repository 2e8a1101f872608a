/**
 * Failures nobody awaited: a rejected promise left floating, or an error
 * thrown from a plain `setTimeout` callback. By default either ends a Deno
 * process. When one comes from a plugin (its file is on the error's stack),
 * the host reports it as `system.error` (origin `unhandled`), counts it in
 * the plugin's info, and keeps serving. Anything else is left to Deno's
 * default: an embedding application's own stray failure still ends its
 * process with the stack, as it would without plugboard. Isolated plugins
 * catch their own in their worker.
 *
 * @module
 */

import { resolve, sep } from "node:path";
import { filesOf } from "../error_location.ts";
import { isUrlSource } from "../permissions.ts";
import type { Lifecycle } from "./lifecycle.ts";

/** What a host does with a stray failure. */
export interface StrayFailureHandler {
  /** Reports the failure if it belongs to one of the host's plugins, and says whether it did. */
  claim(error: unknown): boolean;
}

/**
 * Reports a stray failure against the plugin whose code is on its stack: its
 * folder, its live snapshot, or the snapshot of a version being set up (which
 * then refuses that version).
 *
 * @param lc the lifecycle
 * @param error the failure
 * @returns true when a plugin of this host owns it
 */
export function claimStrayFailure(lc: Lifecycle, error: unknown): boolean {
  const files = filesOf(error);
  if (files.length === 0) return false;
  const within = (dir: string | undefined) => dir !== undefined && files.some((f) => f.startsWith(dir + sep));
  for (const [snapshot, strays] of lc.strays) {
    if (!within(snapshot)) continue;
    strays.push(error);
    const owner = lc.registry.records().find((r) => snapshot.includes(`${sep}.${r.name}@`));
    lc.ports.report({ origin: "unhandled", plugin: owner?.name, error });
    return true;
  }
  for (const record of lc.registry.records()) {
    const folder = isUrlSource(record.source) ? undefined : resolve(lc.options.cwd, record.source, "..");
    if (within(folder) || within(record.live?.snapshot)) {
      lc.ports.report({ origin: "unhandled", plugin: record.name, error });
      return true;
    }
  }
  return false;
}

const handlers: StrayFailureHandler[] = [];

/** True when a host claimed the failure; an unclaimed one keeps Deno's default. */
function claimed(error: unknown): boolean {
  return handlers.some((h) => h.claim(error));
}

function onRejection(e: PromiseRejectionEvent): void {
  if (claimed(e.reason)) e.preventDefault();
}

function onError(e: ErrorEvent): void {
  if (claimed(e.error ?? e.message)) e.preventDefault();
}

/**
 * Starts catching a host's plugins' stray failures (the listeners are
 * installed once per process, and removed when the last host stops). A
 * failure no handler claims is not touched.
 *
 * @param handler how the host claims and reports them
 * @returns a function that stops catching them for this host
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { catchStrayFailures } from "./stray_failures.ts";
 * const seen: unknown[] = [];
 * const stop = catchStrayFailures({ claim: (e) => seen.push(e) > 0 });
 * Promise.reject(new Error("floating"));
 * await new Promise((r) => setTimeout(r, 0));
 * stop();
 * assert.equal((seen[0] as Error).message, "floating");
 * ```
 */
export function catchStrayFailures(handler: StrayFailureHandler): () => void {
  if (handlers.length === 0) {
    globalThis.addEventListener("unhandledrejection", onRejection);
    globalThis.addEventListener("error", onError);
  }
  handlers.push(handler);
  return () => {
    const i = handlers.indexOf(handler);
    if (i >= 0) handlers.splice(i, 1);
    if (handlers.length === 0) {
      globalThis.removeEventListener("unhandledrejection", onRejection);
      globalThis.removeEventListener("error", onError);
    }
  };
}
