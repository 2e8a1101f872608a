/**
 * A plugin's `config.json`: read, `${VAR}` / `${VAR:-default}` substituted
 * from the environment, and validated with the plugin's schema. Values that
 * came from the environment, and fields whose names look secret, are never
 * printed in errors.
 *
 * @module
 */

import { ConfigError, PermissionError } from "./errors.ts";
import { type ConfigSchema, validateWith } from "./schema.ts";

/** Reads an environment variable; `undefined` when unset. */
export type EnvReader = (name: string) => string | undefined;

/** The raw contents of a config file, before substitution and validation. */
export interface RawConfig {
  /** The file it came from, or undefined when there is none. */
  file: string | undefined;
  /** `false` when the file says `"enabled": false`. */
  enabled: boolean;
  /** The other fields. */
  data: Record<string, unknown>;
}

const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const SECRET_KEY_RE = /pass|secret|token|key|credential|auth/i;

/** The default environment reader: `Deno.env.get`, with a clear error when `--allow-env` is missing. */
export const denoEnv: EnvReader = (name) => {
  try {
    return Deno.env.get(name);
  } catch (cause) {
    throw new PermissionError(
      `Cannot read environment variable "${name}": run Deno with --allow-env=${name} (or --allow-env)`,
      `--allow-env=${name}`,
      { cause },
    );
  }
};

/**
 * Reads `config.json` from a plugin folder.
 *
 * @param file the config file's path
 * @param plugin the plugin name, for errors
 * @returns the raw config; an empty one when the file does not exist
 * @throws {ConfigError} when the file is not a JSON object
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readConfigFile } from "./config.ts";
 * const raw = await readConfigFile("/nonexistent/config.json", "p");
 * assert.equal(raw.file, undefined);
 * assert.equal(raw.enabled, true);
 * ```
 */
export async function readConfigFile(file: string, plugin: string): Promise<RawConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { file: undefined, enabled: true, data: {} };
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`, {
      plugin,
      stage: "load",
      file,
      cause: err,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `${file} is not valid JSON: ${(err as Error).message}`,
      { plugin, stage: "load", file, cause: err },
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`${file} must hold a JSON object`, { plugin, stage: "load", file });
  }
  const { enabled, ...data } = parsed as Record<string, unknown>;
  if (enabled !== undefined && typeof enabled !== "boolean") {
    throw new ConfigError(
      `${file} field "enabled" must be true or false: current value is ${JSON.stringify(enabled)}`,
      { plugin, stage: "load", file, field: "enabled" },
    );
  }
  return { file, enabled: enabled !== false, data };
}

/** Options for {@linkcode resolveConfig}. */
export interface ResolveConfigOptions {
  /** The plugin name, for errors. */
  plugin: string;
  /** The file the data came from, for errors. @default "config" */
  file?: string;
  /** The plugin's schema; without one the substituted data is passed through. */
  schema?: ConfigSchema;
  /** Reads variables. @default Deno.env.get */
  env?: EnvReader;
}

/**
 * Substitutes environment variables in every string of `data`, then
 * validates the result with the plugin's schema.
 *
 * @param data the raw config fields
 * @param options plugin, file, schema and environment
 * @returns the validated config
 * @throws {ConfigError} naming the plugin, file, field and (unless secret) value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { resolveConfig } from "./config.ts";
 * const config = await resolveConfig(
 *   { url: "${HOOK:-http://localhost}", retries: 2 },
 *   { plugin: "notifier", schema: z.object({ url: z.string(), retries: z.number() }), env: () => undefined },
 * );
 * assert.equal((config as { url: string }).url, "http://localhost");
 * ```
 */
export async function resolveConfig(data: Record<string, unknown>, options: ResolveConfigOptions): Promise<unknown> {
  const substituted = substituteEnv(data, options);
  if (!options.schema) return substituted.value;
  const result = await validateWith(options.schema, substituted.value);
  if (result.ok) return result.value;
  throw configIssuesError(result.issues, substituted, options);
}

/** Config fields after `${VAR}` substitution, and which fields came from the environment. */
export interface SubstitutedConfig {
  value: Record<string, unknown>;
  /** Dotted paths of fields filled from the environment (never shown in errors). */
  fromEnv: ReadonlySet<string>;
}

/**
 * Substitutes `${VAR}` and `${VAR:-default}` in every string of `data`.
 *
 * @param data the raw config fields
 * @param options plugin, file and environment
 * @returns the substituted fields
 * @throws {ConfigError} for a variable that is not set and has no default
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { substituteEnv } from "./config.ts";
 * const r = substituteEnv({ url: "${HOOK}/x" }, { plugin: "p", env: () => "http://h" });
 * assert.equal(r.value.url, "http://h/x");
 * assert.ok(r.fromEnv.has("url"));
 * ```
 */
export function substituteEnv(
  data: Record<string, unknown>,
  options: Omit<ResolveConfigOptions, "schema">,
): SubstitutedConfig {
  const { plugin } = options;
  const file = options.file ?? "config";
  const env = options.env ?? denoEnv;
  const fromEnv = new Set<string>();
  const substitute = (value: unknown, path: string[]): unknown => {
    if (typeof value === "string") {
      if (!value.includes("${")) return value;
      return value.replace(VAR_RE, (_m, name: string, fallback: string | undefined) => {
        const v = env(name);
        if (v !== undefined && v !== "") {
          fromEnv.add(path.join("."));
          return v;
        }
        if (fallback !== undefined) return fallback;
        const field = path.join(".");
        throw new ConfigError(
          `${file} field "${field}" uses \${${name}}, which is not set. ` +
            `Set ${name} in the environment, or give a default: \${${name}:-value}`,
          { plugin, stage: "load", file, field },
        );
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => substitute(v, [...path, String(i)]));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, [...path, k])]));
    }
    return value;
  };
  return { value: substitute(data, []) as Record<string, unknown>, fromEnv };
}

/**
 * Builds the error for a config that its schema refused: every issue, with
 * the current value unless it is secret or came from the environment.
 *
 * @param issues the schema's issues (at least one)
 * @param substituted the fields that were validated
 * @param options plugin, file, and `fileOf` naming where each field came from (default: `file` for all)
 * @returns the error to throw
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configIssuesError } from "./config.ts";
 * const err = configIssuesError(
 *   [{ message: "Expected number", path: ["timeout"] }],
 *   { value: { timeout: "30s" }, fromEnv: new Set() },
 *   { plugin: "notifier", file: "config.json" },
 * );
 * assert.equal(err.field, "timeout");
 * assert.match(err.message, /field "timeout" is invalid \(Expected number\): current value is "30s"/);
 * ```
 */
export function configIssuesError(
  issues: readonly { message: string; path: readonly PropertyKey[] }[],
  substituted: SubstitutedConfig,
  options: { plugin: string; file?: string; fileOf?: (field: string) => string },
): ConfigError {
  const { plugin } = options;
  const fileOf = options.fileOf ?? (() => options.file ?? "config");
  const field = (issues[0]?.path ?? []).map(String).join(".");
  const file = fileOf(field);
  let previous = file;
  const details = issues.map((issue, i) => {
    const f = issue.path.map(String).join(".");
    const from = fileOf(f);
    const named = i > 0 && from !== previous ? `${from} ` : "";
    previous = from;
    const current = valueAt(substituted.value, issue.path);
    const safe = current === undefined ? undefined : redacted(current, issue.path.map(String), substituted.fromEnv);
    const shown = current === undefined
      ? "missing"
      : safe === HIDDEN
      ? "(hidden)"
      : JSON.stringify(safe, (_k, v) => v === HIDDEN ? "(hidden)" : v);
    return `${named}field "${f || "(root)"}" is invalid (${issue.message}): current value is ${shown}`;
  });
  return new ConfigError(`${file} ${details.join("; ")}`, { plugin, stage: "load", file, field });
}

/** A value as an error may show it: `(hidden)` for it, or for each part of it, that came from the environment or sits under a secret-looking key. */
function redacted(value: unknown, path: readonly string[], fromEnv: ReadonlySet<string>): unknown {
  if (fromEnv.has(path.join(".")) || path.some((k) => SECRET_KEY_RE.test(k))) return HIDDEN;
  if (Array.isArray(value)) return value.map((v, i) => redacted(v, [...path, String(i)], fromEnv));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redacted(v, [...path, k], fromEnv)]));
  }
  return value;
}

/** What stands for a value an error must not show: `(hidden)` when it is the whole value, `"(hidden)"` inside one. */
const HIDDEN: object = Object.freeze({});

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}
