/**
 * The smallest useful plugin: a greeting service, a route, and a counter of
 * created tasks. Copy it to start your own.
 *
 * @module
 */

import { z } from "zod";
import { definePlugin } from "../../plugin.ts";
import type {} from "../tasks/events.ts";

export default definePlugin({
  name: "hello",
  provides: { services: ["hello"] },
  version: "1.0.0",
  description: "Says hello and counts created tasks",
  config: z.object({ greeting: z.string().default("Hello") }),
  setup(ctx) {
    let created = 0;
    ctx.events.on("task.created", () => {
      created++;
    });
    ctx.services.provide("hello", { greet: (who: string) => `${ctx.config.greeting}, ${who}!` });
    ctx.routes.get("/", (c) => c.json({ greeting: ctx.config.greeting, tasksSeen: created }));
    ctx.routes.get("/greet/:who", (c) => c.text(`${ctx.config.greeting}, ${c.req.param("who")}!`));
    // For MCP clients: the tool hello__greet and the prompt hello__introduce.
    ctx.mcp.tool("greet", {
      description: "Greets someone by name with the configured greeting",
      input: z.object({ who: z.string().min(1).max(100).describe("Whom to greet") }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    }, ({ who }) => `${ctx.config.greeting}, ${who}!`);
    ctx.mcp.prompt(
      "introduce",
      {
        description: "Asks the model to introduce plugboard's task system to someone",
        args: z.object({ who: z.string().describe("Whom to introduce it to") }),
      },
      ({ who }) =>
        `${ctx.config.greeting}! Introduce ${who} to this task system in three sentences: it creates tasks, ` +
        `agents run them, and plugins track and report on them.`,
    );
    ctx.log.info("ready");
  },
});
