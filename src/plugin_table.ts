/**
 * The startup table: one row per plugin with its state, load time, where it
 * runs (trusted, worker, or its sandbox's pid and limits), its permissions,
 * and its routes or its error.
 *
 * @module
 */

import { describePermissions } from "./plugin_permissions.ts";
import type { PluginInfo } from "./plugin_info.ts";

/**
 * Formats the startup table of plugins.
 *
 * @param plugins the host's list
 * @returns lines of text
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPluginTable } from "./plugin_table.ts";
 * assert.equal(formatPluginTable([]), "  (no plugins)");
 * ```
 */
export function formatPluginTable(plugins: PluginInfo[]): string {
  if (plugins.length === 0) return "  (no plugins)";
  const rows = plugins.map((p) => [
    p.name,
    p.version ?? "-",
    p.state,
    p.timings.totalMs === undefined ? "" : `${p.timings.totalMs.toFixed(1)} ms`,
    p.isolation === "in-process"
      ? "trusted"
      : p.sandbox
      ? `sandbox pid ${p.sandbox.pid}, ${p.sandbox.limits.memoryMb} MB, ${p.sandbox.limits.openFiles} files`
      : p.isolation ?? "-",
    p.isolation === "worker" || p.isolation === "process"
      ? describePermissions({ ...p.permissions, emits: p.emits })
      : p.isolation === "in-process"
      ? "all (the host's)"
      : "-",
    p.state === "failed" ? (p.error ?? "") : p.routes.join(", ") || "-",
  ]);
  const head = ["PLUGIN", "VERSION", "STATE", "LOAD", "RUNS", "PERMISSIONS", "ROUTES / ERROR"];
  const last = head.length - 1;
  const widths = head.slice(0, last).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => "  " + r.slice(0, last).map((c, i) => c.padEnd(widths[i])).join("  ") + "  " + r[last];
  return [line(head), ...rows.map(line)].join("\n");
}
