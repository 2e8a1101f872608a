/**
 * Builds `src/runtime/worker_bundle.js`, the module every isolated plugin's
 * worker starts from: `src/runtime/worker_main.ts` and what it imports, in
 * one minified file made by `deno bundle`. Each worker loads its modules
 * afresh, and a module costs a worker far more as its own TypeScript file
 * (its emitted code carries an inline source map) than as part of one
 * file: see "A lean worker" in docs/ARCHITECTURE.md for the figures.
 *
 * The modules a plugin's own code can import are left out, so that there is
 * one copy of each in the worker, shared by plugboard and the plugin: what
 * `plugin.ts` exports with an identity (`instanceof PluginError`,
 * `KeyExistsError`, ...) and Hono (a plugin's own `new Hono()` mounted on
 * `ctx.routes` must be the same Hono). The bundle imports those by relative
 * path.
 *
 * Usage:
 *   deno task bundle:worker            writes the bundle
 *   deno task bundle:worker --check    exits 1 when the committed bundle is not what its sources give
 *
 * `tests/worker_bundle_test.ts` fails when the committed bundle is out of date.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The worker's source entry. */
export const WORKER_ENTRY: string = join(ROOT, "src/runtime/worker_main.ts");

/** The generated bundle (committed). */
export const WORKER_BUNDLE: string = join(ROOT, "src/runtime/worker_bundle.js");

/**
 * What the bundle imports rather than contains: the modules with classes a
 * plugin can compare against (`plugin.ts` exports them), those they import,
 * and Hono.
 */
export const SHARED_MODULES: readonly string[] = [
  "src/errors.ts",
  "src/error_text.ts",
  "src/error_catalogue.ts",
  "src/storage/errors.ts",
  "src/routes.ts",
];

/** Packages the bundle imports rather than contains. */
export const SHARED_PACKAGES: readonly string[] = ["hono"];

/**
 * Bundles the worker's entry as the committed file should read.
 *
 * @returns the bundle's text
 * @throws {Error} when `deno bundle` fails, or its output names a path of this machine
 */
export async function buildWorkerBundle(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "plugboard-worker-bundle-" });
  try {
    const out = join(dir, "worker_bundle.js");
    const shared = SHARED_MODULES.map((m) => join(ROOT, m));
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--frozen",
        "--platform=deno",
        "--minify",
        ...[...shared, ...SHARED_PACKAGES].flatMap((m) => ["--external", m]),
        "--output",
        out,
        WORKER_ENTRY,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!run.success) throw new Error(`deno bundle failed:\n${new TextDecoder().decode(run.stderr)}`);
    let code = await Deno.readTextFile(out);
    // A shared module is named by its absolute path (that is how it was marked external): made relative to the bundle.
    for (const path of shared) {
      const from = relative(dirname(WORKER_BUNDLE), path);
      code = code.replaceAll(JSON.stringify(path), JSON.stringify(from.startsWith(".") ? from : `./${from}`));
    }
    if (code.includes(ROOT)) throw new Error(`the bundle names a path of this machine (${ROOT}): not portable`);
    return header() + code.trimEnd() + "\n";
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function header(): string {
  return [
    "// deno-fmt-ignore-file",
    "// deno-lint-ignore-file",
    `// Generated from src/runtime/worker_main.ts by scripts/bundle_worker.ts (deno bundle, Deno ${Deno.version.deno}).`,
    "// Do not edit: change the sources and run `deno task bundle:worker` (tests/worker_bundle_test.ts checks it).",
    "",
  ].join("\n");
}

if (import.meta.main) {
  const unknown = Deno.args.find((a) => a !== "--check");
  if (unknown !== undefined) {
    const usage =
      "Usage: deno task bundle:worker [--check]   (--check: exit 1 when the committed bundle is out of date)";
    if (unknown === "--help") {
      console.log(usage);
      Deno.exit(0);
    }
    console.error(`bundle:worker: unknown argument ${unknown}. ${usage}`);
    Deno.exit(2);
  }
  const fresh = await buildWorkerBundle();
  const shown = relative(ROOT, WORKER_BUNDLE);
  if (Deno.args.includes("--check")) {
    const committed = await Deno.readTextFile(WORKER_BUNDLE).catch(() => "");
    if (committed !== fresh) {
      console.error(`${shown} is out of date with its sources: run deno task bundle:worker`);
      Deno.exit(1);
    }
    console.log(`${shown} is up to date`);
  } else {
    await Deno.writeTextFile(WORKER_BUNDLE, fresh);
    console.log(`wrote ${shown} (${fresh.length} bytes)`);
  }
}
