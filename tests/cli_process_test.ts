import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { denoCommand, pluginSource, ROOT_DIR, tempPlugins, waitFor } from "./_helpers.ts";

/**
 * A main.ts child process whose output is collected as it comes. It runs in
 * a folder of its own, where it keeps its admin token (`.plugboard/`), not in
 * the project's.
 */
function startMain(
  args: string[],
  options: {
    flags?: string[];
    env?: Record<string, string>;
    script?: string;
    subcommand?: "run" | "serve";
    cwd?: string;
  } = {},
) {
  const own = options.cwd === undefined;
  const cwd = options.cwd ?? Deno.makeTempDirSync({ prefix: "plugboard-cwd-" });
  const flags = options.flags ?? [
    "--unstable-worker-options",
    "--allow-net=127.0.0.1",
    "--allow-read",
    "--allow-write",
    "--allow-env",
  ];
  const child = denoCommand(options.subcommand ?? "run", [
    ...flags,
    join(ROOT_DIR, options.script ?? "main.ts"),
    ...args,
  ], {
    cwd,
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  const out = { stdout: "", stderr: "" };
  const pump = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) out[key] += chunk;
  };
  const done = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
  return {
    child,
    out,
    async status() {
      const status = await child.status;
      await done;
      if (own) await Deno.remove(cwd, { recursive: true }).catch(() => {});
      return status;
    },
    waitFor: (re: RegExp, timeoutMs = 20_000) =>
      waitFor(() => re.test(out.stdout + out.stderr), { timeoutMs, what: `${re} in ${JSON.stringify(out)}` }),
  };
}

/** Runs main.ts to its end; asserts a one-line usage error with exit code 2. */
async function usageError(args: string[], options: Parameters<typeof startMain>[1] = {}): Promise<string> {
  const run = startMain(args, options);
  const status = await run.status();
  assert.equal(status.code, 2, JSON.stringify(run.out));
  const lines = run.out.stderr.trim().split("\n");
  assert.equal(lines.length, 1, run.out.stderr);
  assert.doesNotMatch(run.out.stderr, /\n\s+at /, "no stack trace");
  assert.doesNotMatch(run.out.stdout, /listening/);
  return lines[0];
}

/** `main.ts` arguments for a test folder's `plugins/` and `data/`, on a free port, with a settings file of the folder. */
function mainArgs(dir: string, config: string): string[] {
  return [
    "--port",
    "0",
    "--plugins-dir",
    join(dir, "plugins"),
    "--data-dir",
    join(dir, "data"),
    "--config",
    join(dir, config),
  ];
}

Deno.test("main.ts: usage and startup errors are one line with the fix and exit code 2", async () => {
  await using tmp = await tempPlugins({
    "plugins/hello/mod.ts": pluginSource("hello", { setup: "console.log('SETUP-RAN');" }),
    "bad.json": '{"port": 8000, "prot": 1}',
  });
  const dir = ["--plugins-dir", join(tmp.dir, "plugins"), "--data-dir", join(tmp.dir, "data")];
  assert.match(await usageError(["--prot", "1"]), /^plugboard: Unknown option '--prot'.*Run with --help/);
  assert.match(
    await usageError(["--port", "abc"]),
    /--port must be a whole number from 0 to 65535: current value is "abc"/,
  );
  assert.match(
    await usageError(["--config", join(tmp.dir, "bad.json")]),
    /Settings file ".*bad.json" is invalid: .*prot/,
  );
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const run = startMain(["--port", String(busy.addr.port), ...dir]);
    assert.equal((await run.status()).code, 2);
    assert.match(run.out.stderr, /Cannot listen on 127\.0\.0\.1:\d+: the port is in use\. .*choose another --port/);
    assert.doesNotMatch(run.out.stdout, /SETUP-RAN/, "the port is checked before plugins load");
  } finally {
    busy.close();
  }
  assert.match(
    await usageError(["--hostname", "0.0.0.0", "--port", "0", ...dir]),
    /Cannot listen on 0\.0\.0\.0:0: Deno's --allow-net does not include it\. Run deno with --allow-net=0\.0\.0\.0:0/,
  );
  const readOnly = [
    "--unstable-worker-options",
    "--allow-net=127.0.0.1",
    `--allow-read=${ROOT_DIR}`,
    "--allow-write",
    "--allow-env",
  ];
  assert.match(
    await usageError(["--port", "0", ...dir], { flags: readOnly, cwd: ROOT_DIR }),
    /Cannot read the plugins folder ".*plugins": it is outside Deno's --allow-read\. Add it/,
  );
  assert.match(
    await usageError(["--port", "0", ...dir], { flags: readOnly }),
    /Cannot read settings file "plugboard.json": it is outside Deno's --allow-read\. Run deno with --allow-read=/,
  );
  assert.match(
    await usageError(["--port", "0", ...dir], { env: { PLUGBOARD_API_KEY: "" } }),
    /PLUGBOARD_API_KEY is empty, which would silently mean no key/,
  );
  assert.match(
    await usageError(["--port", "0", ...dir], { env: { PLUGBOARD_API_KEY: " " } }),
    /PLUGBOARD_API_KEY is only whitespace/,
  );
  assert.match(
    await usageError(["--port", "0", ...dir], { env: { PLUGBOARD_API_KEY: "a" } }),
    /PLUGBOARD_API_KEY has 1 characters; an admin key needs at least 16/,
  );
});

Deno.test("main.ts warns when no-key mode listens beyond loopback", async () => {
  await using tmp = await tempPlugins({ "plugins/.keep": "" });
  const run = startMain(["--hostname", "0.0.0.0", "--port", "0", "--plugins-dir", join(tmp.dir, "plugins")], {
    flags: ["--unstable-worker-options", "--allow-net", "--allow-read", "--allow-write", "--allow-env"],
  });
  await run.waitFor(/plugboard listening on/);
  run.child.kill("SIGTERM");
  assert.equal((await run.status()).code, 0, JSON.stringify(run.out));
  assert.match(run.out.stderr, /Warning: listening on 0\.0\.0\.0 without PLUGBOARD_API_KEY/);
});

Deno.test("SIGTERM: a hung onDispose is cut at disposeTimeout, the others still dispose; a second signal exits at once", async () => {
  await using tmp = await tempPlugins();
  // In its own data folder: an isolated plugin may write there alone.
  const marker = join(tmp.dir, "data", "plugins", "ticker", "disposed");
  await tmp.write(
    "plugins/hung/mod.ts",
    pluginSource("hung", { setup: "ctx.onDispose(() => new Promise(() => {}));" }),
  );
  await tmp.write(
    "plugins/ticker/mod.ts",
    pluginSource("ticker", {
      setup: `const t = setInterval(() => {}, 5);
        ctx.onDispose(() => { clearInterval(t); Deno.writeTextFileSync(ctx.dataDir + "/disposed", "yes"); });`,
    }),
  );
  await tmp.write("fast.json", JSON.stringify({ disposeTimeout: 300 }));
  await tmp.write("slow.json", JSON.stringify({ disposeTimeout: 60_000 }));
  const args = (config: string) => mainArgs(tmp.dir, config);

  const run = startMain(args("fast.json"));
  await run.waitFor(/plugboard listening on/);
  const started = performance.now();
  run.child.kill("SIGTERM");
  const status = await run.status();
  const took = performance.now() - started;
  assert.equal(status.code, 0, JSON.stringify(run.out));
  assert.ok(took < 5000, `exited after ${took} ms`);
  assert.equal(await Deno.readTextFile(marker), "yes", "the other plugin's onDispose ran");
  await Deno.remove(marker);

  const again = startMain(args("slow.json"));
  await again.waitFor(/plugboard listening on/);
  again.child.kill("SIGTERM");
  await again.waitFor(/Shutting down/);
  const second = performance.now();
  again.child.kill("SIGTERM");
  const status2 = await again.status();
  assert.ok(performance.now() - second < 3000);
  assert.equal(status2.code, 143, JSON.stringify(again.out));
  assert.match(again.out.stderr, /second SIGTERM: exiting now/);
});

Deno.test("an isolated plugin spinning in setup does not stop the server from listening; SIGTERM while loading exits", async () => {
  await using tmp = await tempPlugins({
    "plugins/spinner/mod.ts": pluginSource("spinner", { setup: "for (;;) {}" }),
    "plugins/hello/mod.ts": pluginSource("hello", { setup: "ctx.routes.get('/', (c) => c.text('hi'));" }),
    "quick.json": JSON.stringify({ setupTimeout: 500 }),
    "slow.json": JSON.stringify({ setupTimeout: 60_000 }),
  });
  const args = (config: string) => mainArgs(tmp.dir, config);
  const run = startMain(args("quick.json"));
  await run.waitFor(/hello\s+1\.0\.0\s+active/);
  const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(run.out.stdout)![1];
  assert.match(run.out.stdout, /spinner\s+1\.0\.0\s+failed/);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/api/plugins/hello/`)).text(), "hi");
  run.child.kill("SIGTERM");
  assert.equal((await run.status()).code, 0);

  // The spinner's data folder is made just before its setup runs, long after the signal listeners are in place: the
  // first run's folder is removed so that waiting for it means this run is loading (a busy machine can take seconds
  // to get there; a fixed wait sent SIGTERM before the listeners existed).
  await Deno.remove(join(tmp.dir, "data"), { recursive: true });
  const loading = startMain(args("slow.json"));
  await waitFor(() => existsSync(join(tmp.dir, "data", "plugins", "spinner")), {
    timeoutMs: 20_000,
    what: "the spinner's data folder",
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.doesNotMatch(loading.out.stdout, /listening/);
  const sent = performance.now();
  loading.child.kill("SIGTERM");
  const status = await loading.status();
  assert.ok(performance.now() - sent < 3000);
  assert.equal(status.code, 143, JSON.stringify(loading.out));
  assert.match(loading.out.stderr, /SIGTERM while plugins were loading: exiting now/);
});

Deno.test("deno serve runs plugboard through serve.ts's default export", async () => {
  await using tmp = await tempPlugins({
    "plugins/hello/mod.ts": pluginSource("hello", { setup: "ctx.routes.get('/', (c) => c.text('hi'));" }),
  });
  const run = startMain([
    "--plugins-dir",
    join(tmp.dir, "plugins"),
    "--data-dir",
    join(tmp.dir, "data"),
  ], {
    subcommand: "serve",
    script: "serve.ts",
    flags: [
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--unstable-worker-options",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-env",
    ],
  });
  const listening = /Listening on http:\/\/127\.0\.0\.1:(\d+)/;
  await run.waitFor(listening);
  const port = listening.exec(run.out.stdout + run.out.stderr)![1];
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/api/plugins/hello/`)).text(), "hi");
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  assert.deepEqual(await health.json(), { status: "ok", plugins: { active: 1 } });
  run.child.kill("SIGTERM");
  assert.equal((await run.status()).code, 0, JSON.stringify(run.out));
});
