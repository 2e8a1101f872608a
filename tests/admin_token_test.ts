/**
 * Issue #23, part A, from the operator's side: `main.ts` without
 * PLUGBOARD_API_KEY makes an admin token at start, stores it in
 * `.plugboard/admin-token` (mode 0600, created afresh), prints it once with a
 * curl line, and the admin API asks it of loopback clients. An isolated
 * plugin cannot read the file.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { denoCommand, pluginSource, ROOT_DIR, tempPlugins, waitFor } from "./_helpers.ts";

/** Runs main.ts in `cwd` with the given write permission; resolves once it listens. */
async function startMain(cwd: string, allowWrite: string) {
  const child = denoCommand("run", [
    "--unstable-worker-options",
    "--allow-net=127.0.0.1,localhost",
    `--allow-read=.,${ROOT_DIR}`,
    `--allow-write=${allowWrite}`,
    "--allow-env",
    join(ROOT_DIR, "main.ts"),
    "--port",
    "0",
  ], { cwd, env: { NO_COLOR: "1" } }).spawn();
  let out = "";
  const pump = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
  })();
  const errors = new Response(child.stderr).text();
  await waitFor(() => /Admin API:.*\n.*\n/.test(out), { timeoutMs: 30_000, what: "the startup output" });
  const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1];
  return {
    out: () => out,
    base: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await pump;
      await errors;
    },
  };
}

const READER = pluginSource("reader", {
  setup: `ctx.routes.get("/steal", async (c) => {
    const tries = {};
    for (const path of [".plugboard/admin-token", Deno.cwd() + "/.plugboard/admin-token"]) {
      try { tries[path] = await Deno.readTextFile(path); } catch (e) { tries[path] = "refused: " + e.message; }
    }
    return c.json(tries);
  });`,
});

Deno.test("main.ts without PLUGBOARD_API_KEY: a new token in .plugboard/admin-token (0600), printed once, required", async () => {
  await using tmp = await tempPlugins({ "plugins/reader/mod.ts": READER });
  // Last run's token, readable by all: replaced by a new file, not rewritten in place.
  await Deno.mkdir(join(tmp.dir, ".plugboard"), { mode: 0o755 });
  await Deno.writeTextFile(join(tmp.dir, ".plugboard", "admin-token"), "stale-token-0123456789\n", { mode: 0o644 });
  await using main = await startMain(tmp.dir, "./data,./.plugboard,./plugins");

  const printed = /curl -H "X-API-Key: ([0-9a-f]{64})" (http:\/\/127\.0\.0\.1:\d+)\/api\/plugins/.exec(main.out());
  assert.ok(printed, main.out());
  const [, token, base] = printed;
  assert.equal(base, main.base);
  assert.match(main.out(), /it is in \.plugboard\/admin-token \(mode 0600\) and changes at each start/);
  assert.equal(main.out().split(token).length - 1, 1, "the token is printed once");
  const file = join(tmp.dir, ".plugboard", "admin-token");
  assert.equal(await Deno.readTextFile(file), `${token}\n`);
  if (Deno.build.os !== "windows") {
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    // The folder was there already, as `deno task start` makes it: made 0700 all the same.
    assert.equal((await Deno.stat(join(tmp.dir, ".plugboard"))).mode! & 0o777, 0o700);
  }

  const list = async (headers: Record<string, string>) => {
    const res = await fetch(`${main.base}/api/plugins`, { headers });
    await res.body?.cancel();
    return res.status;
  };
  assert.equal(await list({}), 401, "loopback without the token");
  assert.equal(await list({ "x-api-key": "stale-token-0123456789" }), 401, "last run's token");
  assert.equal(await list({ "x-api-key": token }), 200);
  assert.equal(await list({ authorization: `Bearer ${token}` }), 200);

  const stolen: Record<string, string> = await (await fetch(`${main.base}/api/plugins/reader/steal`)).json();
  assert.equal(Object.keys(stolen).length, 2);
  for (const [path, result] of Object.entries(stolen)) {
    assert.match(result, /^refused: Plugin "reader" may not read/, path);
  }
});

Deno.test("main.ts that may not write .plugboard/ still prints the token, says why it is not stored, and asks it", async () => {
  await using tmp = await tempPlugins({ "plugins/.keep": "" });
  await using main = await startMain(tmp.dir, "./data");
  const printed = /curl -H "X-API-Key: ([0-9a-f]{64})"/.exec(main.out());
  assert.ok(printed, main.out());
  assert.match(
    main.out(),
    /it is not stored: Cannot store the admin token in .*Run Deno with --allow-write=.*\.plugboard/,
  );
  const res = await fetch(`${main.base}/api/plugins`, { headers: { "x-api-key": printed[1] } });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});
