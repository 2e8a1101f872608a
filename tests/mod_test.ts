import assert from "node:assert/strict";
import * as mod from "../mod.ts";
import * as testing from "../testing.ts";

Deno.test("mod.ts exports exactly the public API (values)", () => {
  assert.deepEqual(Object.keys(mod).sort(), [
    "ConfigError",
    "Container",
    "ERROR_CATALOGUE",
    "EventBus",
    "HookRegistry",
    "KeyExistsError",
    "Logger",
    "PLUGIN_ROUTE_PREFIX",
    "PermissionError",
    "Plugin",
    "PluginError",
    "RouteTable",
    "ServiceNotFoundError",
    "SettingsError",
    "Storage",
    "StorageBusyError",
    "createHost",
    "definePlugin",
    "openPluginStorage",
    "retryBusy",
    "serve",
  ]);
  assert.deepEqual(Object.keys(testing).sort(), ["createTestHost"]);
});

// Type-only exports: this list fails `deno check` when one disappears.
type _TypeExports = [
  mod.Host,
  mod.HostOptions,
  mod.RouteLimits,
  mod.UnloadOptions,
  mod.PluginContext,
  mod.PluginEvents,
  mod.PluginServices,
  mod.PluginHooks,
  mod.PluginRouter,
  mod.PlugboardEvents,
  mod.PlugboardHooks,
  mod.PlugboardServices,
  mod.SystemErrorEvent,
  mod.PluginLifecycleEvent,
  mod.ErrorOrigin,
  mod.PluginErrorCode,
  mod.PluginStage,
  mod.ErrorSpec,
  mod.PluginInfo,
  mod.PluginState,
  // Added so that every type the public API refers to is public (`deno doc --lint`):
  mod.UnloadResult,
  mod.UpdateResult,
  mod.ModuleChange,
  mod.HostSettings,
  mod.PluginSource,
  mod.RemoteLimits,
  mod.EnvReader,
  mod.PluginPermissions,
  mod.Capabilities,
  mod.SafeParseSchema,
  mod.SchemaIssue,
  mod.StandardResult<unknown>,
  mod.HostMiddleware,
  mod.MiddlewareEntry,
  mod.ObserverEntry,
  mod.LegacyMigrationReport,
  mod.LegacyPluginReport,
  // Another plugin's service, as ctx.services.resolve types it:
  mod.RemoteService<{ m(): number }>,
  mod.RemoteMember<number>,
  mod.RemoteMethod<() => number>,
];

Deno.test("the task domain is not part of the core's exports", async () => {
  const source = await Deno.readTextFile(new URL("../mod.ts", import.meta.url));
  for (
    const name of [
      "TaskCreatedEvent",
      "TaskUpdatedEvent",
      "TaskFailedEvent",
      "AgentTaskCompletedEvent",
      "AgentChatEvent",
    ]
  ) {
    assert.doesNotMatch(source, new RegExp(`\\b${name}\\b`), name);
  }
});
