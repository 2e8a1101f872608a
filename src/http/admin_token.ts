/**
 * The admin token a server makes when no admin key is configured (as
 * Jupyter does): random, new at each start, kept in `.plugboard/admin-token`
 * readable by its owner only, and shown once at startup.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";

/** Where the server keeps its admin token, relative to the folder it runs in. */
export const ADMIN_TOKEN_FILE = join(".plugboard", "admin-token");

const getRandomValues = crypto.getRandomValues.bind(crypto);

/**
 * A new admin token: 32 random bytes, as 64 hex digits.
 *
 * @returns the token
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateAdminToken } from "./admin_token.ts";
 * assert.match(generateAdminToken(), /^[0-9a-f]{64}$/);
 * assert.notEqual(generateAdminToken(), generateAdminToken());
 * ```
 */
export function generateAdminToken(): string {
  const bytes = getRandomValues(new Uint8Array(32));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** Why a token could not be stored: what failed, and the fix. */
export class AdminTokenError extends Error {
  /** Always `ADMIN_TOKEN_NOT_STORED`. */
  readonly code = "ADMIN_TOKEN_NOT_STORED";
  /** What to change so that it is stored next time. */
  readonly fix: string;

  /**
   * @param message what failed and where
   * @param fix what to change
   * @param cause the underlying error
   */
  constructor(message: string, fix: string, cause: unknown) {
    super(`${message}. ${fix}`, { cause });
    this.name = "AdminTokenError";
    this.fix = fix;
  }
}

/**
 * Writes a token to `path` as a new file that only its owner may read or
 * write (mode 0600; the folder is made 0700). A file already
 * there (the previous run's token, or anything planted in its place) is
 * removed first, so the file is always created afresh with that mode.
 *
 * @param path the file, such as {@linkcode ADMIN_TOKEN_FILE}
 * @param token the token
 * @throws {AdminTokenError} when the file cannot be written, saying which flag or folder to fix
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { storeAdminToken } from "./admin_token.ts";
 * const dir = await Deno.makeTempDir();
 * const file = join(dir, ".plugboard", "admin-token");
 * await storeAdminToken(file, "t".repeat(64));
 * assert.equal(await Deno.readTextFile(file), "t".repeat(64) + "\n");
 * if (Deno.build.os !== "windows") assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function storeAdminToken(path: string, token: string): Promise<void> {
  try {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Made 0700 even when it was there already (`deno task start` makes it first, for its lock copy): others may not
    // list it. A folder this process does not own keeps its mode (the file is 0600 regardless).
    if (Deno.build.os !== "windows") {
      await Deno.chmod(dirname(path), 0o700).catch((error) => {
        if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
      });
    }
    await Deno.remove(path).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    await Deno.writeTextFile(path, `${token}\n`, { createNew: true, mode: 0o600 });
    if (Deno.build.os !== "windows") await Deno.chmod(path, 0o600);
  } catch (error) {
    const denied = error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
    throw new AdminTokenError(
      `Cannot store the admin token in ${path}: ${(error as Error)?.message ?? error}`,
      denied
        ? `Run Deno with --allow-write=${dirname(path)} (deno task start has it), or set PLUGBOARD_API_KEY`
        : `Make ${dirname(path)} a folder this process may write to, or set PLUGBOARD_API_KEY`,
      error,
    );
  }
}

/**
 * Stores a token in {@linkcode ADMIN_TOKEN_FILE} under the current folder,
 * for the server's startup: a failure is not fatal (the token is printed
 * anyway), so it is returned, not thrown.
 *
 * @param token the token
 * @returns "" once it is stored, else why it is not and the fix
 */
export async function keepAdminToken(token: string): Promise<string> {
  try {
    await storeAdminToken(resolve(ADMIN_TOKEN_FILE), token);
    return "";
  } catch (error) {
    return error instanceof AdminTokenError ? error.message : String(error);
  }
}

/**
 * What the startup output says about the admin API: with the operator's key,
 * how to send it; with a token made for this run, the token itself (once,
 * here) and a curl line to copy.
 *
 * @param token the token made at start, or undefined when PLUGBOARD_API_KEY is set
 * @param unstored why the token could not be stored in .plugboard/admin-token; "" when it is stored
 * @param listening where the server listens; unknown under `deno serve`, which owns the port
 * @returns the lines to print
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeAdminAccess } from "./admin_token.ts";
 * const text = describeAdminAccess("abc", "", { hostname: "0.0.0.0", port: 8000 });
 * assert.match(text, /curl -H "X-API-Key: abc" http:\/\/127\.0\.0\.1:8000\/api\/plugins/);
 * assert.match(describeAdminAccess(undefined, ""), /requires the key in PLUGBOARD_API_KEY/);
 * ```
 */
export function describeAdminAccess(
  token: string | undefined,
  unstored: string,
  listening?: { hostname: string; port: number },
): string {
  if (token === undefined) {
    return "Admin API: requires the key in PLUGBOARD_API_KEY (X-API-Key or Authorization: Bearer header)";
  }
  const where = unstored === ""
    ? `it is in ${ADMIN_TOKEN_FILE} (mode 0600) and changes at each start`
    : `it is not stored: ${unstored}`;
  // Only this machine may use the token: a client here reaches a wildcard address on loopback.
  const name = listening?.hostname ?? "127.0.0.1";
  const host = name === "0.0.0.0" ? "127.0.0.1" : name === "::" ? "[::1]" : name.includes(":") ? `[${name}]` : name;
  return `Admin API: PLUGBOARD_API_KEY is not set, so it requires the token made for this run, from this machine ` +
    `only; ${where}:\n  curl -H "X-API-Key: ${token}" http://${host}:${listening?.port ?? "<port>"}/api/plugins`;
}
