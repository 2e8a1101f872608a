/**
 * The `plugboard` server: `deno task start` runs this file.
 *
 * @module
 */

import { runCli } from "./src/cli.ts";
import { SettingsError } from "./src/errors.ts";

if (import.meta.main) {
  try {
    await runCli(Deno.args);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    // A usage error: one line that says what to fix, no stack trace.
    console.error(`plugboard: ${error.message}`);
    Deno.exit(2);
  }
}
