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
    ctx.log.info("ready");
  },
});
