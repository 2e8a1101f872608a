/**
 * What happens when an isolated plugin's worker crashes, hangs or runs over
 * its memory budget: the failure is reported, and the plugin is restarted
 * (a fresh worker, the same source) after a growing delay; after
 * {@linkcode MAX_CRASHES} crashes within {@linkcode CRASH_WINDOW_MS} it is
 * `failed` with the reason. Until the restart, its routes answer 503. The
 * operator's load or reload of the plugin empties its window
 * (`registry.track`, `reload`), so a plugin fixed after crash-looping gets
 * its full allowance again; its own `ctx.reload()` does not.
 *
 * @module
 */

import { asPluginError, PluginError } from "../errors.ts";
import { type Lifecycle, round } from "./lifecycle.ts";
import { setUp } from "./set_up.ts";
import type { LiveVersion, PluginRecord } from "./registry.ts";
import { unapprovedFor } from "./approval.ts";

/** Crashes within {@linkcode CRASH_WINDOW_MS} that make a plugin `failed`. */
export const MAX_CRASHES = 3;
/** The window crashes are counted in, in ms. */
export const CRASH_WINDOW_MS = 5 * 60_000;
/** The delay before the first restart, doubled after each crash in the window. */
export const FIRST_RESTART_DELAY_MS = 100;

/**
 * Watches a live version: a crash leads to a restart or to `failed`.
 *
 * @param lc the lifecycle
 * @param record the plugin
 * @param live the version that went live
 */
export function superviseCrashes(lc: Lifecycle, record: PluginRecord, live: LiveVersion): void {
  live.version.onCrash = (error) => {
    if (record.live !== live) return;
    lc.ports.report({ origin: "worker", plugin: record.name, error });
    const now = Date.now();
    record.crashes = [...record.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    if (record.crashes.length >= MAX_CRASHES) {
      void lc.enqueue(() => giveUp(lc, record, live, error));
      return;
    }
    const delay = FIRST_RESTART_DELAY_MS * 2 ** (record.crashes.length - 1);
    lc.log.warn(`${error.message}; restarting plugin "${record.name}" in ${delay} ms`);
    setTimeout(() => void lc.enqueue(() => restart(lc, record, live)), delay);
  };
}

async function giveUp(lc: Lifecycle, record: PluginRecord, live: LiveVersion, error: PluginError): Promise<void> {
  if (record.live !== live) return;
  await live.scope.dispose();
  lc.registry.transition(record, "failed", {
    error: new PluginError(
      "PLUGIN_UNAVAILABLE",
      `it crashed ${record.crashes.length} times within ${CRASH_WINDOW_MS / 60_000} minutes (last: ${error.reason}). ` +
        `Fix it, then reload it`,
      { plugin: record.name, stage: "load", cause: error },
    ),
  });
}

/** Starts the same source again in a fresh worker and swaps it in for the crashed one. */
async function restart(lc: Lifecycle, record: PluginRecord, crashed: LiveVersion): Promise<void> {
  if (record.live !== crashed || record.state !== "active") return;
  const started = performance.now();
  try {
    // The version on disk may have changed since it was approved: it gets no more than the crashed one had.
    const prepared = await lc.loader.prepare(record.source, record.name, { unapproved: unapprovedFor(record) });
    const next = await setUp(lc, record, prepared);
    crashed.scope.deactivate();
    for (const error of next.scope.commit()) lc.ports.report({ origin: "setup", plugin: record.name, error });
    record.live = next;
    record.manifest = next.version.manifest;
    record.restarts++;
    superviseCrashes(lc, record, next);
    await crashed.scope.dispose();
    lc.log.info(`Plugin "${record.name}" restarted in ${round(performance.now() - started)} ms`);
  } catch (error) {
    await crashed.scope.dispose();
    const reason = asPluginError(error, "SETUP_FAILED");
    lc.registry.transition(record, "failed", {
      error: new PluginError("PLUGIN_UNAVAILABLE", `its restart after a crash failed: ${reason.reason}`, {
        plugin: record.name,
        stage: "load",
        cause: error,
      }),
    });
  }
}
