/**
 * Validation against a plugin's config schema from any copy of zod (or any
 * Standard Schema library such as valibot), without `instanceof`.
 *
 * @module
 */

/** One problem a schema found. */
export interface SchemaIssue {
  /** Where, as a list of keys. */
  path: readonly PropertyKey[];
  /** What is wrong. */
  message: string;
}

/** The Standard Schema v1 interface (zod 3.24+, zod 4, valibot, arktype). */
export interface StandardSchema<Output = unknown> {
  /**
   * The part plugboard reads: `validate`, which it calls with the raw config
   * and awaits. `version`, `vendor` and `types` are part of the standard;
   * plugboard does not read them.
   */
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

/**
 * What a Standard Schema's `validate` returns: the parsed `value`, or the
 * `issues` found (each `path` entry a key, or an object holding the key).
 *
 * @typeParam T the parsed value's type
 */
export type StandardResult<T> =
  | { readonly value: T; readonly issues?: undefined }
  | { readonly issues: readonly { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] }[] };

/** A schema with zod's `safeParse`, for older copies of zod. */
export interface SafeParseSchema<Output = unknown> {
  /**
   * Parses a value without throwing.
   *
   * @param value the raw config
   * @returns `data` (defaults applied) on success, else the `issues` found
   */
  safeParse(value: unknown):
    | { success: true; data: Output }
    | { success: false; error: { issues: readonly SchemaIssue[] } };
}

/** Any schema plugboard can validate config with. */
export type ConfigSchema<Output = unknown> = StandardSchema<Output> | SafeParseSchema<Output>;

/** The type a schema produces. */
export type InferOutput<S> = S extends StandardSchema<infer O> ? O : S extends SafeParseSchema<infer O> ? O : never;

/** The outcome of {@linkcode validateWith}. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: SchemaIssue[] };

/**
 * Tells whether a value can serve as a config schema.
 *
 * @param value anything
 * @returns true for a Standard Schema or an object with `safeParse`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { isConfigSchema } from "./schema.ts";
 * assert.equal(isConfigSchema(z.object({})), true);
 * assert.equal(isConfigSchema({}), false);
 * ```
 */
export function isConfigSchema(value: unknown): value is ConfigSchema {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return false;
  const std = (value as Partial<StandardSchema>)["~standard"];
  if (std && typeof std.validate === "function") return true;
  return typeof (value as Partial<SafeParseSchema>).safeParse === "function";
}

/**
 * Validates a value, applying the schema's defaults.
 *
 * @param schema a Standard Schema or an object with `safeParse`
 * @param value the input
 * @returns the parsed value or the issues
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { validateWith } from "./schema.ts";
 * const r = await validateWith(z.object({ n: z.number().default(7) }), {});
 * assert.ok(r.ok);
 * assert.equal(r.value.n, 7);
 * ```
 */
export async function validateWith<T>(schema: ConfigSchema<T>, value: unknown): Promise<ValidationResult<T>> {
  const std = (schema as Partial<StandardSchema<T>>)["~standard"];
  if (std && typeof std.validate === "function") {
    const r = await std.validate(value);
    if (r.issues === undefined) return { ok: true, value: (r as { value: T }).value };
    return {
      ok: false,
      issues: r.issues.map((i) => ({
        message: i.message,
        path: (i.path ?? []).map((k) => (typeof k === "object" && k !== null ? k.key : k)),
      })),
    };
  }
  const r = (schema as SafeParseSchema<T>).safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: [...r.error.issues] };
}

/**
 * Formats validation issues on one line: `path: message; path: message`.
 *
 * @param issues what a schema reported
 * @returns one line
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatIssues } from "./schema.ts";
 * assert.equal(formatIssues([{ path: ["port"], message: "Expected number" }, { path: [], message: "bad" }]),
 *   "port: Expected number; (root): bad");
 * ```
 */
export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((i) =>
    `${i.path.map(String).join(".") || "(root)"}: ${i.message}`
  );
  const more = issues.length - shown.length;
  return shown.join("; ") + (more > 0 ? `; and ${more} more` : "");
}

/** How many issues a message lists; the rest are counted. */
const MAX_ISSUES_SHOWN = 10;
