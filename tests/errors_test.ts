import assert from "node:assert/strict";
import {
  ConfigError,
  EventBus,
  Logger,
  PermissionError,
  PluginError,
  ServiceNotFoundError,
  SettingsError,
} from "../mod.ts";
import { errorText } from "../src/error_text.ts";
import { asPluginError } from "../src/errors.ts";
import { createErrorReporter } from "../src/reporter.ts";

Deno.test("a PluginError's message is its reason alone without a stage or a plugin", () => {
  assert.equal(new PluginError("NOT_FOUND", "No such thing").message, "No such thing");
  assert.equal(new PluginError("NOT_FOUND", "No such thing", { plugin: "p" }).message, "No such thing");
  assert.equal(new PluginError("NOT_FOUND", "No such thing", { stage: "load" }).message, "No such thing");
});

Deno.test("with a stage and a plugin the message reads Cannot <stage> plugin, naming from when given", () => {
  const err = new PluginError("TIMEOUT", "setup timed out after 5000 ms", { plugin: "auth", stage: "load" });
  assert.equal(err.message, 'Cannot load plugin "auth": setup timed out after 5000 ms');
  assert.equal(err.reason, "setup timed out after 5000 ms");
  const from = new PluginError("IMPORT_FAILED", "not found", { plugin: "p", stage: "reload", from: "/x/mod.ts" });
  assert.equal(from.message, 'Cannot reload plugin "p" from /x/mod.ts: not found');
  assert.equal(from.name, "PluginError");
});

Deno.test("with({ stage }) keeps class, code, reason, cause and from, and rewrites message and stack", () => {
  const cause = new Error("root");
  const err = new PluginError("SETUP_FAILED", "boom", { plugin: "p", stage: "load", from: "/x", cause });
  const copy = err.with({ stage: "reload" });
  assert.notEqual(copy, err);
  assert.ok(copy instanceof PluginError);
  assert.equal(copy.code, "SETUP_FAILED");
  assert.equal(copy.reason, "boom");
  assert.equal(copy.cause, cause);
  assert.equal(copy.message, 'Cannot reload plugin "p" from /x: boom');
  assert.match(copy.stack ?? "", /^PluginError: Cannot reload plugin "p" from \/x: boom\n/);
  assert.equal(err.message, 'Cannot load plugin "p" from /x: boom', "the original is unchanged");
});

Deno.test("with() keeps a PermissionError's class and fix", () => {
  const err = new PermissionError("host is not allowed", "--allow-import=h", { plugin: "p", stage: "load" });
  const copy = err.with({ stage: "reload", manifest: { name: "p", version: "1.0.0" } });
  assert.ok(copy instanceof PermissionError);
  assert.equal(copy.name, "PermissionError");
  assert.equal(copy.fix, "--allow-import=h");
  assert.equal(copy.code, "PERMISSION_DENIED");
  assert.equal(copy.manifest?.version, "1.0.0");
  assert.equal(copy.message, 'Cannot reload plugin "p": host is not allowed');
});

Deno.test("with({ plugin }) names the plugin once it is known", () => {
  const err = new PluginError("INVALID_PLUGIN", "no default export", { stage: "load" });
  assert.equal(err.message, "no default export");
  assert.equal(err.with({ plugin: "p" }).message, 'Cannot load plugin "p": no default export');
});

Deno.test("status and hint come from the catalogue", () => {
  const err = new ServiceNotFoundError("mail", "notifier", ["tasks"]);
  assert.equal(err.status, 503);
  assert.equal(err.service, "mail");
  assert.match(
    err.message,
    /^Cannot resolve service "mail" for plugin "notifier": no plugin provides it \(provided: "tasks"\)/,
  );
  assert.match(err.hint, /Load the plugin that provides it/);
  assert.equal(new ConfigError("bad", { field: "a.b" }).status, 422);
  assert.equal(new SettingsError("--port must be a number").status, 400);
});

Deno.test("asPluginError() keeps a PluginError and wraps anything else with the cause", () => {
  const own = new PluginError("CONFLICT", "taken");
  assert.equal(asPluginError(own, "SETUP_FAILED"), own);
  const cause = new TypeError("x is undefined");
  const wrapped = asPluginError(cause, "SETUP_FAILED", { plugin: "p", stage: "load", prefix: "setup threw" });
  assert.equal(wrapped.code, "SETUP_FAILED");
  assert.equal(wrapped.cause, cause);
  assert.equal(wrapped.message, 'Cannot load plugin "p": setup threw: x is undefined');
  assert.equal(asPluginError("plain", "PLUGIN_FAILED").message, "plain");
});

Deno.test("a thrown value that cannot be shown as text still makes a message, a report and a system.error", () => {
  const odd = Object.create(null);
  assert.equal(
    asPluginError(odd, "SETUP_FAILED", { plugin: "p", stage: "load" }).message,
    'Cannot load plugin "p": a thrown object that cannot be shown as text',
  );
  const bus = new EventBus();
  const seen: string[] = [];
  bus.on("system.error", (e) => void seen.push(e.message));
  const reported: unknown[] = [];
  const report = createErrorReporter(new Logger("t", { level: "silent" }), bus, (f) => reported.push(f.error));
  report({ origin: "route", plugin: "hello", error: odd });
  assert.deepEqual(seen, ['route error in plugin "hello": a thrown object that cannot be shown as text']);
  assert.deepEqual(reported, [odd]);
  assert.equal(errorText({ message: "shaped like an Error" }), "shaped like an Error");
  assert.equal(errorText(Symbol("s")), "Symbol(s)");
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assert.equal(asPluginError(proxy, "SETUP_FAILED").reason, "a thrown object that cannot be shown as text");
});
