/**
 * The seam between `ctx.mcp` and the host's MCP table: what a plugin's
 * tools, resources and prompts look like once described (plain data that
 * can cross to the host from a worker) and the one call that runs each.
 * In-process, `ctx.mcp` adds entries to the host's {@linkcode McpPort}
 * directly; in a worker, to a stand-in that announces the descriptor and
 * runs the entry when the host asks.
 *
 * @module
 */

import type { ToolAnnotations } from "./types.ts";

/** A JSON Schema object, as `z.toJSONSchema` makes it. */
export type JsonSchema = Record<string, unknown>;

/** The three kinds of MCP registrations. */
export type McpKind = "tool" | "resource" | "prompt";

/** A tool, described. */
export interface ToolDescriptor {
  /** `<plugin>__<name>`. */
  name: string;
  title?: string;
  description: string;
  /** Its arguments, checked on the host before the handler runs. */
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  annotations?: ToolAnnotations;
}

/** A resource or resource template, described. */
export interface ResourceDescriptor {
  /** `<plugin>__<path>`, a name for listings. */
  name: string;
  /** `plugboard://<plugin>/<path>`, with `{variables}` for a template. */
  uri: string;
  title?: string;
  description?: string;
  mimeType?: string;
}

/** One argument of a prompt. */
export interface PromptArgument {
  name: string;
  description?: string;
  required?: boolean;
}

/** A prompt, described. */
export interface PromptDescriptor {
  /** `<plugin>__<name>`. */
  name: string;
  title?: string;
  description?: string;
  arguments: PromptArgument[];
  /** Its arguments as JSON Schema, checked on the host. */
  argsSchema: JsonSchema;
}

/** What runs an entry: tool arguments, `{ uri, variables }` for a resource, prompt arguments. */
export interface McpRunExtra {
  /** Aborted when the call is cancelled, runs over its deadline, or the plugin unloads. */
  signal: AbortSignal;
  /** The session the call came from. */
  sessionId: string;
  /** The most characters of JSON its result may have (a worker checks before sending it). */
  maxResultChars?: number;
}

/** Runs one entry; the result is already in MCP's shape (`ToolResult`, `{ contents }`, `{ messages }`). */
export type McpRun = (input: unknown, extra: McpRunExtra) => Promise<unknown>;

/** A registration of one kind, described, with what runs it. */
export type McpEntry =
  | { kind: "tool"; descriptor: ToolDescriptor; run: McpRun }
  | { kind: "resource"; descriptor: ResourceDescriptor; run: McpRun }
  | { kind: "prompt"; descriptor: PromptDescriptor; run: McpRun };

/** Where `ctx.mcp` registers: the host's table, or a worker's stand-in for it. */
export interface McpPort {
  /**
   * Makes an entry live.
   *
   * @param owner the plugin
   * @param entry the entry
   * @returns what removes it
   * @throws {PluginError} when the name is taken or the descriptor is refused
   */
  add(owner: string, entry: McpEntry): () => void;
}

/** An error of the arguments, answered as MCP's -32602 (the host checks them first; zod may find more). */
export class McpArgumentsError extends Error {
  /** @param message what is wrong with which argument */
  constructor(message: string) {
    super(message);
    this.name = "McpArgumentsError";
  }
}
