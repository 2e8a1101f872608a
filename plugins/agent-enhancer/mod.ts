/**
 * agent-enhancer: wraps the `task.execute` extension point to time each
 * execution and annotate its result. Unloading it restores the original
 * behaviour; no monkey-patching.
 *
 * @module
 */

import { z } from "zod";
import { definePlugin } from "../../plugin.ts";
import type {} from "../tasks/events.ts";

export default definePlugin({
  name: "agent-enhancer",
  provides: { services: ["agent-enhancer"] },
  version: "1.0.0",
  description: "Times task execution and annotates results",
  dependencies: { tasks: "^1.0.0" },
  config: z.object({ label: z.string().min(1).default("agent-enhancer") }),
  setup(ctx) {
    let enhanced = 0;
    ctx.hooks.wrap("task.execute", (next) => async (task) => {
      // Pre-processing: normalise the title the agent sees.
      const started = performance.now();
      const result = await next({ ...task, title: String(task.title).trim() });
      enhanced++;
      // Post-processing: annotate the result.
      return {
        ...(result as Record<string, unknown>),
        enhancedBy: ctx.config.label,
        durationMs: performance.now() - started,
      };
    });
    ctx.services.provide("agent-enhancer", { count: () => enhanced });
  },
});
