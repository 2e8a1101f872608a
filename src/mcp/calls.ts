/**
 * Runs one MCP call on the host, whatever the plugin's isolation: arguments
 * are checked against the entry's JSON Schema here (with the SDK's Ajv
 * validator), sized, and the entry is run under its plugin's route deadline;
 * the result is checked and sized before a client sees it. A tool's failure
 * is an `isError` result (and a `system.error` of its plugin); a resource's or
 * prompt's is a JSON-RPC error, as MCP has no error result for them.
 *
 * @module
 */

import {
  CallToolResultSchema,
  ErrorCode,
  GetPromptResultSchema,
  McpError,
  ReadResourceResultSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv-provider.js";
import { PluginError } from "../errors.ts";
import { errorText } from "../error_text.ts";
import type { ErrorReporter } from "../reporter.ts";
import type { McpLimits } from "./limits.ts";
import { matchTemplate } from "./names.ts";
import type { JsonSchema, McpEntry } from "./port.ts";
import type { McpRecord, McpRegistry } from "./registry.ts";
import { resultProblem } from "./results.ts";
import type { ToolResult } from "./types.ts";

/** What a call needs of the host. */
export interface McpCallPorts {
  registry: McpRegistry;
  report: ErrorReporter;
  limits: McpLimits;
  /** A plugin's route deadline, in ms: each call of its entries gets as long. */
  deadline(plugin: string): number;
}

/** A session's budget: calls and characters in flight. */
export interface SessionBudget {
  /** Calls in flight. */
  calls: number;
  /** Characters of their arguments in flight. */
  chars: number;
  /** Calls made so far. */
  total: number;
}

/** Where a call comes from. */
export interface CallContext {
  sessionId: string;
  /** Aborted when the client cancels or the session closes. */
  signal: AbortSignal;
  budget: SessionBudget;
}

const ajv = new AjvJsonSchemaValidator();

/** Checks `value` against a record's schema, compiling it once. */
function check(record: McpRecord, schema: JsonSchema, value: unknown): string | undefined {
  if (!record.check) {
    try {
      const validate = ajv.getValidator(schema as never);
      record.check = (v) => {
        const r = validate(v);
        return r.valid ? undefined : r.errorMessage.replaceAll("data/", "").replaceAll("data ", "");
      };
    } catch (error) {
      record.check = () => `its schema cannot be used: ${errorText(error)}`;
    }
  }
  return record.check(value);
}

/** The size of a value as JSON, in characters; Infinity for what JSON cannot hold. */
function charsOf(value: unknown): number {
  try {
    return JSON.stringify(value ?? null)?.length ?? 0;
  } catch {
    return Infinity;
  }
}

/** An `isError` tool result, as the SDK's own `McpServer` makes them. */
export function toolError(text: string): ToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

/** Runs MCP calls against the host's table. */
export class McpCalls {
  #ports: McpCallPorts;

  /** @param ports the table, the reporter, the limits and the deadlines */
  constructor(ports: McpCallPorts) {
    this.#ports = ports;
  }

  /**
   * Calls a tool.
   *
   * @param name its full name
   * @param args the client's arguments
   * @param ctx the session
   * @returns its result, or an `isError` result saying what failed
   * @throws {McpError} -32602 for an unknown tool (a protocol error, as the spec's example has it)
   */
  async tool(name: string, args: unknown, ctx: CallContext): Promise<ToolResult> {
    const record = this.#ports.registry.get("tool", name);
    if (!record) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    const invalid = (why: string) =>
      toolError(
        new McpError(ErrorCode.InvalidParams, `Input validation error: Invalid arguments for tool ${name}: ${why}`)
          .message,
      );
    const input = args ?? {};
    const size = charsOf(input);
    if (size > this.#ports.limits.maxArgumentChars) {
      return invalid(`they take ${size} characters as JSON, over the limit of ${this.#ports.limits.maxArgumentChars}`);
    }
    const why = check(record, record.entry.descriptor.inputSchema, input);
    if (why) return invalid(why);
    try {
      const result = await this.#run(record, `tool ${name}`, input, size, ctx);
      return result as ToolResult;
    } catch (error) {
      if (isArgumentsError(error)) {
        return toolError(new McpError(ErrorCode.InvalidParams, argumentsReason(error)).message);
      }
      return toolError(this.#failed(record, `Tool ${name}`, error));
    }
  }

  /**
   * Reads a resource (or an URI a template matches).
   *
   * @param uri the URI
   * @param ctx the session
   * @returns `{ contents }`
   * @throws {McpError} -32002 for an URI nobody serves, -32603 when its reader fails
   */
  async resource(uri: string, ctx: CallContext): Promise<unknown> {
    const registry = this.#ports.registry;
    let record = registry.get("resource", uri);
    let variables: Record<string, string> = {};
    if (!record) {
      for (const t of registry.templateRecords()) {
        const vars = matchTemplate(t.entry.descriptor.uri, uri);
        if (vars) [record, variables] = [t, vars];
        if (vars) break;
      }
    }
    if (!record) throw new McpError(-32002, `Resource not found: ${uri}`, { uri });
    try {
      return await this.#run(record, `resource ${uri}`, { uri, variables }, charsOf(uri), ctx);
    } catch (error) {
      throw new McpError(ErrorCode.InternalError, this.#failed(record, `Resource ${uri}`, error));
    }
  }

  /**
   * Gets a prompt.
   *
   * @param name its full name
   * @param args the client's arguments
   * @param ctx the session
   * @returns `{ description?, messages }`
   * @throws {McpError} -32602 for an unknown prompt or bad arguments, -32603 when its builder fails
   */
  async prompt(name: string, args: unknown, ctx: CallContext): Promise<unknown> {
    const record = this.#ports.registry.get("prompt", name);
    if (!record) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
    const input = args ?? {};
    const why = check(record, record.entry.descriptor.argsSchema, input);
    if (why) throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for prompt ${name}: ${why}`);
    try {
      return await this.#run(record, `prompt ${name}`, input, charsOf(input), ctx);
    } catch (error) {
      if (isArgumentsError(error)) throw new McpError(ErrorCode.InvalidParams, argumentsReason(error));
      throw new McpError(ErrorCode.InternalError, this.#failed(record, `Prompt ${name}`, error));
    }
  }

  /** Runs an entry within the session's budget and its plugin's deadline; checks and sizes the result. */
  async #run(record: McpRecord, what: string, input: unknown, size: number, ctx: CallContext): Promise<unknown> {
    const { limits } = this.#ports;
    const { budget } = ctx;
    if (budget.calls >= limits.maxSessionCalls || budget.chars + size > limits.maxSessionChars) {
      throw new PluginError(
        "RATE_LIMITED",
        `This session already has ${budget.calls} calls (${budget.chars} characters) in flight; at most ` +
          `${limits.maxSessionCalls} calls and ${limits.maxSessionChars} characters are. Wait for them to finish`,
        { plugin: record.owner },
      );
    }
    budget.calls++;
    budget.total++;
    budget.chars += size;
    const ms = this.#ports.deadline(record.owner);
    const abort = new AbortController();
    const onAbort = () => abort.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      if (!Number.isFinite(ms) || ms <= 0) return;
      timer = setTimeout(() => {
        const error = new PluginError(
          "TIMEOUT",
          `${what} of plugin "${record.owner}" did not answer within ${ms} ms. Raise "routeTimeout" under ` +
            `"limits.${record.owner}" if it needs longer`,
          { plugin: record.owner },
        );
        abort.abort(error);
        reject(error);
      }, ms);
    });
    try {
      const result = await Promise.race([
        (record.entry as McpEntry).run(input, {
          signal: abort.signal,
          sessionId: ctx.sessionId,
          maxResultChars: limits.maxResultChars,
        }),
        late,
      ]);
      const problem = resultProblem(record.entry.kind, result) ?? protocolProblem(record.entry.kind, result);
      if (problem) throw new Error(`${what} returned a result MCP cannot carry: ${problem}`);
      const chars = charsOf(result);
      if (chars > limits.maxResultChars) {
        throw new Error(`${what} returned ${chars} characters of JSON, over the limit of ${limits.maxResultChars}`);
      }
      return result;
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      budget.calls--;
      budget.chars -= size;
    }
  }

  /** Reports a failure against its plugin (unless it is the session's own limit) and says it in one line. */
  #failed(record: McpRecord, what: string, error: unknown): string {
    const code = (error as { code?: unknown })?.code;
    if (code !== "RATE_LIMITED" && code !== "PLUGIN_UNAVAILABLE") {
      this.#ports.report({ origin: "tool", plugin: record.owner, error });
    }
    return (error instanceof PluginError ? error.reason : errorText(error)) || `${what} failed`;
  }
}

/** What MCP's own schema of a result finds wrong in it (checked here, so that a plugin's mistake is its error). */
function protocolProblem(kind: "tool" | "resource" | "prompt", result: unknown): string | undefined {
  const schema = kind === "tool"
    ? CallToolResultSchema
    : kind === "resource"
    ? ReadResourceResultSchema
    : GetPromptResultSchema;
  const checked = schema.safeParse(result);
  if (checked.success) return undefined;
  const issue = checked.error.issues[0];
  return `${issue.path.join(".") || "(the result)"}: ${issue.message}`;
}

function isArgumentsError(error: unknown): error is Error {
  return error instanceof Error && error.name === "McpArgumentsError";
}

function argumentsReason(error: Error): string {
  return `Input validation error: ${error.message}`;
}
