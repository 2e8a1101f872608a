/**
 * What a plugin sees of MCP: `ctx.mcp` and the shapes of its tools,
 * resources and prompts. Light on purpose (types only): a plugin's worker
 * imports it with the context.
 *
 * @module
 */

import type { z } from "zod";

/** Hints a client may show about a tool (MCP `ToolAnnotations`); none is enforced. */
export interface ToolAnnotations {
  /** A human-readable title. */
  title?: string;
  /** The tool does not change its environment. @default false */
  readOnlyHint?: boolean;
  /** The tool may make destructive updates. @default true */
  destructiveHint?: boolean;
  /** Calling it again with the same arguments has no additional effect. @default false */
  idempotentHint?: boolean;
  /** It interacts with an open world of external entities. @default true */
  openWorldHint?: boolean;
}

/** One item of a tool result's or prompt message's content. */
export type McpContent =
  | { type: "text"; text: string }
  | { type: "image" | "audio"; data: string; mimeType: string }
  | { type: "resource_link"; uri: string; name: string; mimeType?: string; description?: string }
  | { type: "resource"; resource: { uri: string; mimeType?: string; text?: string; blob?: string } };

/** A tool's answer as MCP carries it. */
export interface ToolResult {
  /** What the model reads. */
  content: McpContent[];
  /** The same answer as data, checked against the tool's `output` schema when it has one. */
  structuredContent?: Record<string, unknown>;
  /** The call failed; `content` says why. */
  isError?: boolean;
}

/** What a tool handler receives besides its arguments. */
export interface ToolCallExtra {
  /** Aborted when the client cancels the call, the call runs over its deadline, or the plugin's version stops (`ctx.signal`). */
  signal: AbortSignal;
  /** The MCP session the call came from (`stdio` for the stdio entry). */
  sessionId: string;
}

/**
 * A tool handler: takes the parsed arguments. It may return a string (one
 * text item), a {@linkcode ToolResult}, or any other JSON value (sent as JSON
 * text and, for an object, as `structuredContent`). A throw becomes an
 * `isError` result with its message.
 */
export type ToolHandler<I> = (args: I, extra: ToolCallExtra) => unknown;

/** How a tool is described and checked. */
export interface ToolSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** What the tool does, for the model: say when to use it. */
  description: string;
  /** A human-readable name. @default none */
  title?: string;
  /** The arguments: a zod object schema (checked on the host as JSON Schema, then parsed with zod). */
  input: I;
  /** The shape of `structuredContent`, when the tool returns data. @default none */
  output?: O;
  /** Hints for clients. @default none */
  annotations?: ToolAnnotations;
}

/** What a resource is listed with. */
export interface ResourceMeta {
  /** What the resource holds. @default none */
  description?: string;
  /** A human-readable name. @default none */
  title?: string;
  /** The MIME type of its contents. @default "application/json" for data, "text/plain" for text */
  mimeType?: string;
}

/** A resource's contents as a reader returns them: text, `{ text }`, `{ blob }` (base64), or any JSON value. */
export type ResourceReader = (uri: URL, variables: Record<string, string>) => unknown;

/** How a prompt is described. */
export interface PromptSpec<A extends z.ZodType = z.ZodType> {
  /** What the prompt is for. @default none */
  description?: string;
  /** A human-readable name. @default none */
  title?: string;
  /** Its arguments: a zod object of strings (MCP prompt arguments are strings). @default no arguments */
  args?: A;
}

/** A prompt builder: returns a string (one user message), a list of messages, or `{ messages }`. */
export type PromptBuilder<A> = (args: A) => unknown;

/**
 * `ctx.mcp`: tools, resources and prompts that every MCP client of the host
 * sees, under names prefixed with the plugin's (`<plugin>__<name>`). What is
 * registered goes live when setup completes and is removed on unload.
 */
export interface PluginMcp {
  /**
   * Adds a tool, listed as `<plugin>__<name>`.
   *
   * @param name letters, digits, `_` and `-`, starting with a letter; the full name is at most 64 characters
   * @param spec description, input schema, output schema, annotations
   * @param handler runs the tool (in the plugin's worker when isolated)
   * @throws {PluginError} `INVALID_PLUGIN` for a bad name or schema, `CONFLICT` for a name used twice
   */
  tool<I extends z.ZodType, O extends z.ZodType = z.ZodType>(
    name: string,
    spec: ToolSpec<I, O>,
    handler: ToolHandler<z.output<I>>,
  ): void;
  /**
   * Adds a resource at `plugboard://<plugin>/<path>`; a path with `{variables}` is a template.
   *
   * @param path the part after `plugboard://<plugin>/`, or that whole URI
   * @param meta description, title, MIME type
   * @param reader returns the contents (in the plugin's worker when isolated)
   * @throws {PluginError} `INVALID_PLUGIN` for a bad path, `CONFLICT` for one used twice
   */
  resource(path: string, meta: ResourceMeta, reader: ResourceReader): void;
  /**
   * Adds a prompt, listed as `<plugin>__<name>`.
   *
   * @param name as for tools
   * @param spec description and argument schema
   * @param builder builds the messages
   * @throws {PluginError} `INVALID_PLUGIN` for a bad name or schema, `CONFLICT` for a name used twice
   */
  prompt<A extends z.ZodType>(name: string, spec: PromptSpec<A>, builder: PromptBuilder<z.output<A>>): void;
}
