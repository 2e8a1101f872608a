/**
 * `ctx.mcp`, built the same way in every isolation mode: names are checked
 * and namespaced, zod schemas are turned into JSON Schema (what the host
 * checks arguments with, and what clients list), and each handler is wrapped
 * so that it parses its arguments with its zod schema and returns MCP's
 * shapes. Registrations are staged in the plugin's scope like any other.
 *
 * @module
 */

import type { z } from "zod";
import { PluginError } from "../errors.ts";
import { formatIssues, validateWith } from "../schema.ts";
import type { Scope } from "../scope.ts";
import { fullName, resourceUri } from "./names.ts";
import { type JsonSchema, McpArgumentsError, type McpEntry, type McpPort, type PromptArgument } from "./port.ts";
import { toPromptResult, toResourceResult, toToolResult } from "./results.ts";
import type { PluginMcp, PromptSpec, ResourceMeta, ToolSpec } from "./types.ts";

/** JSON Schema of a zod object schema, or a refusal naming what is wrong. */
function objectSchema(plugin: string, what: string, schema: unknown, io: "input" | "output"): JsonSchema {
  let json: JsonSchema;
  try {
    // The schema's own method, not zod's module: a worker whose plugin has no MCP schema never loads zod.
    const describe = (schema as { toJSONSchema?: (p: object) => unknown })?.toJSONSchema;
    if (typeof describe !== "function") throw new TypeError("not a zod 4 schema");
    json = describe.call(schema, { io, unrepresentable: "any" }) as JsonSchema;
  } catch (cause) {
    throw new PluginError(
      "INVALID_PLUGIN",
      `the ${io} schema of its MCP ${what} cannot be described as JSON Schema: pass a zod 4 schema such as ` +
        `z.object({ ... })`,
      { plugin, cause },
    );
  }
  if (json.type !== "object") {
    throw new PluginError(
      "INVALID_PLUGIN",
      `the ${io} schema of its MCP ${what} must be a zod object (MCP arguments are named): wrap it in z.object({ ... })`,
      { plugin },
    );
  }
  delete json.$schema;
  return json;
}

/** Parses with the plugin's own schema; zod's issues become MCP's -32602. */
async function parse(schema: unknown, value: unknown, name: string): Promise<unknown> {
  const r = await validateWith(schema as z.ZodType, value ?? {});
  if (r.ok) return r.value;
  throw new McpArgumentsError(`Invalid arguments for ${name}: ${formatIssues(r.issues)}`);
}

function requireFunction(plugin: string, what: string, fn: unknown): void {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot add MCP ${what} in plugin "${plugin}": expected a function, got ${typeof fn}`);
  }
}

/**
 * Builds a plugin's `ctx.mcp`.
 *
 * @param plugin the plugin's name
 * @param port where entries go live (the host's table, or a worker's stand-in)
 * @param scope the version's scope: entries are staged there and removed on unload
 * @returns `ctx.mcp`
 *
 * @example A tool, registered into a table of one's own
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { Scope } from "../scope.ts";
 * import { createPluginMcp } from "./plugin_mcp.ts";
 * import type { McpEntry } from "./port.ts";
 * const live: McpEntry[] = [];
 * const scope = new Scope("hello");
 * const mcp = createPluginMcp("hello", { add: (_owner, e) => (live.push(e), () => {}) }, scope);
 * mcp.tool("greet", { description: "Greets", input: z.object({ who: z.string() }) }, ({ who }) => `Hi, ${who}`);
 * scope.commit();
 * assert.equal(live[0].descriptor.name, "hello__greet");
 * const signal = new AbortController().signal;
 * assert.deepEqual(await live[0].run({ who: "Ada" }, { signal, sessionId: "s" }), {
 *   content: [{ type: "text", text: "Hi, Ada" }],
 * });
 * ```
 */
export function createPluginMcp(plugin: string, port: McpPort, scope: Scope): PluginMcp {
  const taken = new Set<string>();
  const claim = (key: string, shown: string) => {
    if (taken.has(key)) {
      throw new PluginError("CONFLICT", `it adds the MCP ${shown} twice: give each a name of its own`, { plugin });
    }
    taken.add(key);
  };
  const stage = (entry: McpEntry) => {
    let remove: (() => void) | undefined;
    scope.register({ activate: () => remove = port.add(plugin, entry), deactivate: () => remove?.() });
  };
  return {
    tool(name, spec: ToolSpec, handler) {
      const full = fullName(plugin, name, "tool");
      requireFunction(plugin, `tool "${full}"`, handler);
      if (typeof spec?.description !== "string" || spec.description.trim() === "") {
        throw new PluginError("INVALID_PLUGIN", `its MCP tool "${full}" needs a description: say what it does`, {
          plugin,
        });
      }
      const inputSchema = objectSchema(plugin, `tool "${full}"`, spec.input, "input");
      const outputSchema = spec.output ? objectSchema(plugin, `tool "${full}"`, spec.output, "output") : undefined;
      claim(`tool:${full}`, `tool "${full}"`);
      stage({
        kind: "tool",
        descriptor: {
          name: full,
          ...(spec.title ? { title: spec.title } : {}),
          description: spec.description,
          inputSchema,
          ...(outputSchema ? { outputSchema } : {}),
          ...(spec.annotations ? { annotations: structuredClone(spec.annotations) } : {}),
        },
        run: async (args, extra) => {
          const value = await parse(spec.input, args, `tool ${full}`);
          // Its signal also follows the version's own (`ctx.signal`): a call still running when the plugin's version
          // is disposed (unloaded, or replaced by a reload) is told, rather than left running against it. A signal of
          // the call's own, unhooked when it ends (`AbortSignal.any` would keep every call's alive, with whatever
          // listens to it, as long as the version lives).
          const abort = new AbortController();
          const stop = (from: AbortSignal) => () => abort.abort(from.reason);
          const onCall = stop(extra.signal);
          const onScope = stop(scope.signal);
          if (extra.signal.aborted) onCall();
          else if (scope.signal.aborted) onScope();
          extra.signal.addEventListener("abort", onCall, { once: true });
          scope.signal.addEventListener("abort", onScope, { once: true });
          let answer: unknown;
          try {
            answer = await handler(value as never, { ...extra, signal: abort.signal });
          } finally {
            extra.signal.removeEventListener("abort", onCall);
            scope.signal.removeEventListener("abort", onScope);
          }
          const result = toToolResult(answer as never);
          if (spec.output && !result.isError) {
            const r = await validateWith(spec.output, result.structuredContent);
            if (!r.ok) {
              throw new Error(
                `Tool ${full} returned data that does not match its output schema: ${formatIssues(r.issues)}`,
              );
            }
          }
          return result;
        },
      });
    },
    resource(path, meta: ResourceMeta, reader) {
      const uri = resourceUri(plugin, path);
      requireFunction(plugin, `resource "${uri}"`, reader);
      claim(`resource:${uri}`, `resource "${uri}"`);
      const own = uri.slice(`plugboard://${plugin}/`.length).replace(/[^A-Za-z0-9_-]/g, "_");
      stage({
        kind: "resource",
        descriptor: {
          name: `${plugin}__${own}`,
          uri,
          ...(meta?.title ? { title: meta.title } : {}),
          ...(meta?.description ? { description: meta.description } : {}),
          ...(meta?.mimeType ? { mimeType: meta.mimeType } : {}),
        },
        run: async (input) => {
          const { uri: asked, variables } = input as { uri: string; variables: Record<string, string> };
          return toResourceResult(asked, await reader(new URL(asked), variables ?? {}), meta?.mimeType);
        },
      });
    },
    prompt(name, spec: PromptSpec, builder) {
      const full = fullName(plugin, name, "prompt");
      requireFunction(plugin, `prompt "${full}"`, builder);
      const argsSchema = spec?.args
        ? objectSchema(plugin, `prompt "${full}"`, spec.args, "input")
        : { type: "object", properties: {} };
      const properties = (argsSchema.properties ?? {}) as Record<string, { description?: string }>;
      const required = new Set(Array.isArray(argsSchema.required) ? argsSchema.required as string[] : []);
      const args: PromptArgument[] = Object.entries(properties).map(([key, p]) => ({
        name: key,
        ...(typeof p?.description === "string" ? { description: p.description } : {}),
        required: required.has(key),
      }));
      claim(`prompt:${full}`, `prompt "${full}"`);
      stage({
        kind: "prompt",
        descriptor: {
          name: full,
          ...(spec?.title ? { title: spec.title } : {}),
          ...(spec?.description ? { description: spec.description } : {}),
          arguments: args,
          argsSchema,
        },
        run: async (input) => {
          const value = spec?.args ? await parse(spec.args, input, `prompt ${full}`) : {};
          return toPromptResult(await builder(value as never), spec?.description);
        },
      });
    },
  };
}
