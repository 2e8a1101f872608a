/**
 * plugboard: a plugin host for Deno. Plugins are ESM modules loaded from a
 * local folder or an http(s) URL; each gets a scoped context (events,
 * services, routes, middleware, timers) that is undone when it unloads.
 *
 * @example Start a host
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHost } from "./mod.ts";
 * const host = createHost({ pluginsDir: null, logger: { level: "silent" } });
 * await host.start();
 * const res = await host.fetch(new Request("http://localhost/health"));
 * assert.equal(res.status, 200);
 * await host.stop();
 * ```
 *
 * Classes users only meet as the type of something the host hands them
 * (`Host`, `PluginEvents`, `PluginServices`, `PluginHooks`) are exported as
 * types; those users (or embedders and their tests) build themselves
 * (`EventBus`, `Container`, `HookRegistry`, `RouteTable`, `Logger`, `Plugin`,
 * the errors) as values.
 *
 * @module
 */

export {
  createHost,
  type Host,
  type HostOptions,
  type UnloadOptions,
  type UnloadResult,
  type UpdateResult,
} from "./src/host.ts";
export type { HostSettings, PluginSource, RemoteLimits, RouteLimits } from "./src/options.ts";
export type { EnvReader } from "./src/config.ts";
export type { ModuleChange } from "./src/remote/errors.ts";
export type { Capabilities, PluginPermissions } from "./src/plugin_permissions.ts";
export { definePlugin, Plugin, type PluginDefinition, type PluginMeta } from "./src/plugin.ts";
export type { PluginContext, PluginEvents, PluginHooks, PluginServices } from "./src/context.ts";
export {
  type EmitResult,
  EventBus,
  type EventBusOptions,
  type EventHandler,
  type EventMap,
  type EventName,
  type HandlerFailure,
  type ListenOptions,
  type MatchingEvents,
  type WildcardPattern,
} from "./src/events.ts";
export type { ErrorOrigin, PlugboardEvents, PluginLifecycleEvent, SystemErrorEvent } from "./src/event_types.ts";
export { Container, type PlugboardServices, type ProvideOptions, type ResolveOptions } from "./src/services.ts";
export type { RemoteItems, RemoteMember, RemoteMethod, RemoteService } from "./src/service_types.ts";
export {
  ConfigError,
  ERROR_CATALOGUE,
  type ErrorSpec,
  PermissionError,
  PluginError,
  type PluginErrorCode,
  type PluginErrorOptions,
  type PluginStage,
  ServiceNotFoundError,
  SettingsError,
} from "./src/errors.ts";
export { Logger, type LoggerOptions, type LogLevel, type LogRecord, type LogSink } from "./src/logger.ts";
export type { PluginInfo, PluginState, PluginTimings } from "./src/plugin_info.ts";
export type { ConfigSchema, SafeParseSchema, SchemaIssue, StandardResult, StandardSchema } from "./src/schema.ts";
export {
  type HostMiddleware,
  type MiddlewareEntry,
  type ObserverEntry,
  PLUGIN_ROUTE_PREFIX,
  type PluginRouter,
  type ResponseObserver,
  type ResponseRecord,
  RouteTable,
} from "./src/routes.ts";
export { HookRegistry, type HookWrapper, type PlugboardHooks } from "./src/hooks.ts";
export { type RunningServer, serve, type ServeOptions } from "./src/server.ts";
export type { FolderWatch, WatchOptions } from "./src/watcher.ts";
export type { McpHub } from "./src/mcp/hub.ts";
export type { McpSessionEvent } from "./src/event_types.ts";
export type {
  McpContent,
  PluginMcp,
  PromptBuilder,
  PromptSpec,
  ResourceMeta,
  ResourceReader,
  ToolAnnotations,
  ToolCallExtra,
  ToolHandler,
  ToolResult,
  ToolSpec,
} from "./src/mcp/types.ts";
export {
  KeyExistsError,
  type LegacyMigrationReport,
  type LegacyPluginReport,
  type Migration,
  openPluginStorage,
  type OpenPluginStorageOptions,
  type PluginSql,
  type PluginStorage,
  type PluginStore,
  retryBusy,
  type RetryBusyOptions,
  type RunResult,
  Storage,
  StorageBusyError,
  type StorageOptions,
  type StoredEntry,
} from "./src/storage.ts";
