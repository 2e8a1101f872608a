/**
 * What a plugin's handler returns, put into MCP's shapes on the plugin's
 * side (so what crosses from a worker is plain data), and checked again on
 * the host (a worker is not trusted to send the right shape).
 *
 * @module
 */

import type { ToolResult } from "./types.ts";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A tool handler's return value as a tool result: a string is one text
 * item, a `{ content: [...] }` object is kept, anything else is sent as JSON
 * text and, for an object, as `structuredContent`.
 *
 * @param value what the handler returned
 * @returns the tool result
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toToolResult } from "./results.ts";
 * assert.deepEqual(toToolResult("hi"), { content: [{ type: "text", text: "hi" }] });
 * assert.deepEqual(toToolResult({ n: 1 }).structuredContent, { n: 1 });
 * ```
 */
export function toToolResult(value: unknown): ToolResult {
  if (typeof value === "string") return { content: [{ type: "text", text: value }] };
  if (isObject(value) && Array.isArray(value.content)) return value as unknown as ToolResult;
  const text = value === undefined ? "null" : JSON.stringify(value);
  return isObject(value)
    ? { content: [{ type: "text", text }], structuredContent: value }
    : { content: [{ type: "text", text }] };
}

/**
 * A resource reader's return value as `ReadResourceResult`: a string is
 * text, `{ text }` or `{ blob }` is kept (with its `mimeType`), anything
 * else is JSON.
 *
 * @param uri the URI read
 * @param value what the reader returned
 * @param mimeType the resource's declared MIME type
 * @returns `{ contents: [...] }`
 */
export function toResourceResult(uri: string, value: unknown, mimeType: string | undefined): unknown {
  if (typeof value === "string") return { contents: [{ uri, mimeType: mimeType ?? "text/plain", text: value }] };
  if (isObject(value) && (typeof value.text === "string" || typeof value.blob === "string")) {
    const type = typeof value.mimeType === "string" ? value.mimeType : mimeType;
    const body = typeof value.text === "string" ? { text: value.text } : { blob: value.blob };
    return { contents: [{ uri, ...(type ? { mimeType: type } : {}), ...body }] };
  }
  return { contents: [{ uri, mimeType: mimeType ?? "application/json", text: JSON.stringify(value ?? null) }] };
}

/**
 * A prompt builder's return value as `GetPromptResult`: a string is one user
 * message, a list is the messages, `{ messages }` is kept.
 *
 * @param value what the builder returned
 * @param description the prompt's description
 * @returns `{ description?, messages }`
 */
export function toPromptResult(value: unknown, description: string | undefined): unknown {
  const messages = typeof value === "string"
    ? [{ role: "user", content: { type: "text", text: value } }]
    : Array.isArray(value)
    ? value
    : isObject(value) && Array.isArray(value.messages)
    ? value.messages
    : undefined;
  if (!messages) {
    throw new TypeError("A prompt builder must return a string, a list of messages or { messages }");
  }
  return { ...(description ? { description } : {}), messages };
}

/**
 * Checks what came back for an entry of one kind before a client sees it:
 * the shape MCP requires at the top level (the SDK client checks the rest).
 *
 * @param kind the entry's kind
 * @param value the result
 * @returns why it is refused, or undefined
 */
export function resultProblem(kind: "tool" | "resource" | "prompt", value: unknown): string | undefined {
  if (!isObject(value)) return "it is not an object";
  const list = kind === "tool" ? value.content : kind === "resource" ? value.contents : value.messages;
  if (!Array.isArray(list)) {
    return `it has no ${kind === "tool" ? "content" : kind === "resource" ? "contents" : "messages"} list`;
  }
  if (!list.every(isObject)) return "an item of its list is not an object";
  if (kind === "tool" && value.structuredContent !== undefined && !isObject(value.structuredContent)) {
    return "its structuredContent is not an object";
  }
  return undefined;
}
