/**
 * MCP names: a plugin's tools and prompts are `<plugin>__<name>`, in the form
 * every major LLM tool-calling API accepts, and its resources live under
 * `plugboard://<plugin>/`. Plugin names are kebab-case without `_`, so the
 * first `__` always splits a name into its plugin and its own part.
 *
 * @module
 */

import { PluginError } from "../errors.ts";

/** What a client-facing tool or prompt name may be (Anthropic's and OpenAI's rule). */
export const MCP_NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/;
/** What a plugin's own part of a name may be. */
export const LOCAL_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** The separator between plugin and name. */
export const NAME_SEPARATOR = "__";
/** The scheme of plugin resources. */
export const RESOURCE_SCHEME = "plugboard:";
/** A resource path: segments of URL-safe characters, `{variable}` for a template part. */
const PATH_RE =
  /^(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\})(?:\/(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\}))*$/;

/**
 * The full name of a plugin's tool or prompt, checked.
 *
 * @param plugin the plugin
 * @param name its own part
 * @param kind "tool" or "prompt", for the message
 * @returns `<plugin>__<name>`
 * @throws {PluginError} `INVALID_PLUGIN` when the name is not allowed, saying why and how to fix it
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullName } from "./names.ts";
 * assert.equal(fullName("tasks", "create_task", "tool"), "tasks__create_task");
 * assert.throws(() => fullName("tasks", "tasks.create", "tool"), /letters, digits/);
 * ```
 */
export function fullName(plugin: string, name: string, kind: "tool" | "prompt"): string {
  if (typeof name !== "string" || !LOCAL_NAME_RE.test(name)) {
    throw new PluginError(
      "INVALID_PLUGIN",
      `its MCP ${kind} name ${JSON.stringify(name)} is not allowed: use letters, digits, "_" and "-", starting ` +
        `with a letter (no dots: LLM tool-calling APIs refuse them)`,
      { plugin },
    );
  }
  const full = `${plugin}${NAME_SEPARATOR}${name}`;
  if (!MCP_NAME_RE.test(full)) {
    throw new PluginError(
      "INVALID_PLUGIN",
      `its MCP ${kind} "${full}" has ${full.length} characters; clients accept at most 64 with the plugin's ` +
        `prefix. Shorten "${name}" to at most ${64 - plugin.length - NAME_SEPARATOR.length}`,
      { plugin },
    );
  }
  return full;
}

/**
 * The URI of a plugin's resource, checked: a path under `plugboard://<plugin>/`.
 *
 * @param plugin the plugin
 * @param path the path, or the whole URI
 * @returns the URI (with its `{variables}` for a template)
 * @throws {PluginError} `INVALID_PLUGIN` for a path outside the plugin's prefix or with other characters
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resourceUri } from "./names.ts";
 * assert.equal(resourceUri("analytics", "stats"), "plugboard://analytics/stats");
 * assert.equal(resourceUri("tasks", "plugboard://tasks/task/{id}"), "plugboard://tasks/task/{id}");
 * ```
 */
export function resourceUri(plugin: string, path: string): string {
  const prefix = `${RESOURCE_SCHEME}//${plugin}/`;
  const own = typeof path === "string" && path.startsWith(prefix) ? path.slice(prefix.length) : path;
  if (typeof own !== "string" || own.length > 200 || !PATH_RE.test(own)) {
    throw new PluginError(
      "INVALID_PLUGIN",
      `its MCP resource ${JSON.stringify(path)} is not allowed: give a path such as "stats" or "task/{id}" ` +
        `(letters, digits, ".", "_", "~", "-", "/" and {variables}), which is served as ${prefix}<path>`,
      { plugin },
    );
  }
  return `${prefix}${own}`;
}

/**
 * Tells whether a resource URI is a template (it has `{variables}`).
 *
 * @param uri a URI from {@linkcode resourceUri}
 * @returns true for a template
 */
export function isTemplate(uri: string): boolean {
  return uri.includes("{");
}

/**
 * Matches a concrete URI against a template: each `{variable}` takes one
 * path segment.
 *
 * @param template the template
 * @param uri the URI a client asked for
 * @returns the variables, or undefined when it does not match
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchTemplate } from "./names.ts";
 * assert.deepEqual(matchTemplate("plugboard://t/task/{id}", "plugboard://t/task/42"), { id: "42" });
 * assert.equal(matchTemplate("plugboard://t/task/{id}", "plugboard://t/task/4/2"), undefined);
 * ```
 */
export function matchTemplate(template: string, uri: string): Record<string, string> | undefined {
  const want = template.split("/");
  const got = uri.split("/");
  if (want.length !== got.length) return undefined;
  const vars: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (w.startsWith("{") && w.endsWith("}")) {
      if (got[i] === "") return undefined;
      try {
        vars[w.slice(1, -1)] = decodeURIComponent(got[i]);
      } catch {
        return undefined;
      }
    } else if (w !== got[i]) return undefined;
  }
  return vars;
}
