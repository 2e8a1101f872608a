import assert from "node:assert/strict";
import * as mod from "../mod.ts";
import * as testing from "../testing.ts";

Deno.test("mod.ts exports exactly the public API (values)", () => {
  assert.deepEqual(Object.keys(mod).sort(), [
    "ConfigError",
    "Container",
    "EventBus",
    "HookRegistry",
    "Host",
    "KeyExistsError",
    "Logger",
    "PLUGIN_ROUTE_PREFIX",
    "PermissionError",
    "Plugin",
    "PluginError",
    "PluginEvents",
    "PluginHooks",
    "PluginServices",
    "RouteTable",
    "ServiceNotFoundError",
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
