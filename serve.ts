/**
 * plugboard for `deno serve`: `deno serve` owns the port, the interface and
 * the workers' count; plugboard's own flags go after `--`.
 *
 * ```sh
 * deno serve --port 8000 --host 127.0.0.1 --unstable-worker-options --allow-net=127.0.0.1 \
 *   --allow-read=. --allow-write=./data,./.plugboard,./plugins --allow-env serve.ts -- --plugins-dir ./plugins
 * ```
 *
 * Without PLUGBOARD_API_KEY it makes an admin token, stores it in
 * `.plugboard/admin-token` and prints it (set the key with `--parallel`:
 * each worker would make its own).
 *
 * ```sh
 * curl -H "X-API-Key: $(cat .plugboard/admin-token)" http://127.0.0.1:8000/api/plugins
 * ```
 *
 * @module
 */

import { startForServe } from "./src/cli.ts";
import { SettingsError } from "./src/errors.ts";

let app: { fetch: Deno.ServeHandler };
try {
  app = await startForServe(Deno.args);
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  console.error(`plugboard: ${error.message}`);
  Deno.exit(2);
}

/** The fetch handler `deno serve` runs. */
export default { fetch: (request, info) => app.fetch(request, info) } satisfies Deno.ServeDefaultExport;
