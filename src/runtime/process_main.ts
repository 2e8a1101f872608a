/**
 * The entry of a sandboxed plugin's own Deno process: the channel to the
 * host first (`process_prelude.ts`), then the same entry a worker runs.
 *
 * @module
 */

import "./process_prelude.ts";
import "./worker_bundle.js"; // worker_main.ts and its imports, as workers load it (scripts/bundle_worker.ts)
