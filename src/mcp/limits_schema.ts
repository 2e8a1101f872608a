/**
 * The schema of the MCP endpoint's limits in `plugboard.json` and the host
 * options (apart from `limits.ts`, which a plugin's worker loads without
 * zod).
 *
 * @module
 */

import { z } from "zod";
import { timeoutSchema } from "../plugin_limits.ts";
import type { McpLimits } from "./limits.ts";

/** Checks `mcp` in `plugboard.json` and the host options: each limit a whole positive number. */
export const mcpLimitsSchema: z.ZodType<Partial<McpLimits>> = z.object({
  maxArgumentChars: z.number().int().positive(),
  maxResultChars: z.number().int().positive(),
  maxSessionChars: z.number().int().positive(),
  maxSessionCalls: z.number().int().positive(),
  maxSessions: z.number().int().positive(),
  idleTimeout: timeoutSchema,
  maxRequestBodySize: z.number().int().positive(),
}).partial().strict();
