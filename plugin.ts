/**
 * What a plugin imports: `definePlugin` (or the `Plugin` class), the types of
 * its context, and the few helpers a plugin uses. A light module: it does not
 * pull in the host, so an isolated plugin's worker starts quickly. (`mod.ts`
 * exports all of this too, with the host.)
 *
 * @example A plugin
 * ```ts
 * import assert from "node:assert/strict";
 * import { definePlugin } from "./plugin.ts";
 * const plugin = definePlugin({
 *   name: "greeter",
 *   version: "1.0.0",
 *   setup(ctx) {
 *     ctx.routes.get("/", (c) => c.text("hi"));
 *   },
 * });
 * assert.equal(plugin.name, "greeter");
 * ```
 *
 * @module
 */

export { definePlugin, Plugin, type PluginDefinition, type PluginMeta } from "./src/plugin.ts";
export type { PluginContext, PluginEvents, PluginHooks, PluginServices } from "./src/context.ts";
export type { PlugboardEvents, PluginLifecycleEvent, SystemErrorEvent } from "./src/event_types.ts";
export type { PlugboardHooks } from "./src/hooks.ts";
export type { PlugboardServices } from "./src/services.ts";
export type { RemoteItems, RemoteMember, RemoteMethod, RemoteService } from "./src/service_types.ts";
export type { PluginPermissions } from "./src/plugin_permissions.ts";
export type { PluginSql, PluginStorage } from "./src/storage.ts";
export type { McpSessionEvent } from "./src/event_types.ts";
export type {
  McpContent,
  PluginMcp,
  PromptSpec,
  ResourceMeta,
  ToolAnnotations,
  ToolCallExtra,
  ToolResult,
  ToolSpec,
} from "./src/mcp/types.ts";
export { ConfigError, PermissionError, PluginError, ServiceNotFoundError } from "./src/errors.ts";
export { KeyExistsError, StorageBusyError } from "./src/storage/errors.ts";
export { retryBusy } from "./src/storage/retry.ts";
export {
  type HostMiddleware,
  PLUGIN_ROUTE_PREFIX,
  type PluginRouter,
  type ResponseObserver,
  type ResponseRecord,
} from "./src/routes.ts";
