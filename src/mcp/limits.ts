/**
 * The MCP endpoint's limits and their defaults.
 *
 * @module
 */

/** Limits on MCP sessions and calls. Each call also has its plugin's `routeTimeout` as deadline. */
export interface McpLimits {
  /** The largest arguments of one call, in characters of JSON. @default 262144 (256 KiB) */
  maxArgumentChars: number;
  /** The largest result of one call, in characters of JSON. @default 1048576 (1 MiB) */
  maxResultChars: number;
  /** Arguments and results of one session's calls in flight together, in characters of JSON. @default 8388608 */
  maxSessionChars: number;
  /** Calls in flight at once in one session. @default 16 */
  maxSessionCalls: number;
  /** Sessions open at once; past it, a new session is refused with 503. @default 100 */
  maxSessions: number;
  /** A session without a request for this long is closed, in ms. @default 1800000 (30 min) */
  idleTimeout: number;
  /** The largest request body `/mcp` reads, in bytes. @default 4194304 (4 MiB) */
  maxRequestBodySize: number;
}

/** The defaults of {@linkcode McpLimits}. */
export const DEFAULT_MCP_LIMITS: Readonly<McpLimits> = Object.freeze({
  maxArgumentChars: 256 * 1024,
  maxResultChars: 1024 * 1024,
  maxSessionChars: 8 * 1024 * 1024,
  maxSessionCalls: 16,
  maxSessions: 100,
  idleTimeout: 30 * 60_000,
  maxRequestBodySize: 4 * 1024 * 1024,
});
