/**
 * Checks of settings that zod's shapes cannot express: the admin key's
 * length and the names a plugin cannot be in at once (`trusted` and
 * `sandboxed`). Each failure is a {@linkcode SettingsError} that says how to
 * fix it.
 *
 * @module
 */

import { SettingsError } from "./errors.ts";

/** The shortest admin key the host accepts. */
export const MIN_API_KEY_LENGTH = 16;

/**
 * The sandboxed names, checked: a plugin cannot be both trusted (in-process) and sandboxed.
 *
 * @param sandboxed the names in `sandboxed`
 * @param trusted the names in `trusted`
 * @returns a copy of `sandboxed`
 * @throws {SettingsError} a name in both
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSandboxed } from "./settings_checks.ts";
 * assert.deepEqual(checkSandboxed(["a"], ["b"]), ["a"]);
 * assert.throws(() => checkSandboxed(["a"], ["a"]), /named in both "trusted"/);
 * ```
 */
export function checkSandboxed(sandboxed: readonly string[], trusted: readonly string[]): string[] {
  const both = sandboxed.find((name) => trusted.includes(name));
  if (both !== undefined) {
    throw new SettingsError(
      `"${both}" is named in both "trusted" (run in-process) and "sandboxed" (run in its own process). ` +
        `Remove it from one of them`,
    );
  }
  return [...sandboxed];
}

/**
 * Checks an admin key: it must not be empty, blank or shorter than
 * {@linkcode MIN_API_KEY_LENGTH} characters, since such a key either means
 * "no key" by accident, locks everyone out, or is guessed at once.
 *
 * @param apiKey the key, or undefined for none
 * @param from where the key came from, for the message
 * @returns the key
 * @throws {SettingsError} for an empty, blank or short key, saying why and how to fix it
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkApiKey } from "./settings_checks.ts";
 * assert.equal(checkApiKey(undefined), undefined);
 * assert.equal(checkApiKey("0123456789abcdef"), "0123456789abcdef");
 * assert.throws(() => checkApiKey("x"), /at least 16 characters/);
 * assert.throws(() => checkApiKey(""), /is empty/);
 * ```
 */
export function checkApiKey(apiKey: string | undefined, from = "The apiKey option"): string | undefined {
  if (apiKey === undefined) return undefined;
  const fix =
    "set a random key of at least 16 characters (openssl rand -hex 32), or unset it to use the generated admin token (.plugboard/admin-token)";
  if (apiKey === "") throw new SettingsError(`${from} is empty, which would silently mean no key: ${fix}`);
  if (apiKey.trim() === "") throw new SettingsError(`${from} is only whitespace, which locks everyone out: ${fix}`);
  if (apiKey.length < MIN_API_KEY_LENGTH) {
    throw new SettingsError(
      `${from} has ${apiKey.length} characters; an admin key needs at least ${MIN_API_KEY_LENGTH}: ${fix}`,
    );
  }
  return apiKey;
}
