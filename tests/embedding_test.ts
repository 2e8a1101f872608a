/**
 * The README's "Use plugboard from your own project", run as a new user
 * would: its `deno.json`, `main.ts` and `deno run` line, in a project
 * folder of its own outside plugboard, as a child process.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { CHILD_LOCK, pluginSource, ROOT_DIR, tempPlugins, waitFor } from "./_helpers.ts";

const SECTION = "## Use plugboard from your own project";

/** Runs a child to its end, killed after `timeoutMs` if it has not exited by then. */
async function runBounded(command: Deno.Command, timeoutMs = 30_000): Promise<Deno.CommandOutput> {
  const child = command.spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    return await child.output();
  } finally {
    clearTimeout(timer);
  }
}

/** The fenced blocks of the README's embedding section, by language. */
async function readmeBlocks(): Promise<{ json: string; ts: string; sh: string }> {
  const readme = await Deno.readTextFile(join(ROOT_DIR, "README.md"));
  const start = readme.indexOf(SECTION);
  assert.notEqual(start, -1, `README.md has a section "${SECTION}"`);
  const section = readme.slice(start, readme.indexOf("\n## ", start + SECTION.length));
  const block = (lang: string) => {
    const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(section);
    assert.ok(m, `the section has a \`\`\`${lang} block`);
    return m[1];
  };
  return { json: block("json"), ts: block("ts"), sh: block("sh") };
}

Deno.test("embedding: the README's project starts, serves an isolated plugin, stops on SIGINT and exits 0 by itself", async () => {
  const blocks = await readmeBlocks();
  const config = JSON.parse(blocks.json);
  // The README imports plugboard from "../plugboard"; here plugboard is this checkout.
  config.imports.plugboard = join(ROOT_DIR, "mod.ts");
  const port = "serve(host, { port: 8000 })";
  assert.ok(blocks.ts.includes(port), "main.ts serves on port 8000");
  // A free port instead, announced so the test can call it.
  const main = blocks.ts.replace(port, `serve(host, { port: 0, onListen: (a) => console.log("listening", a.port) })`);
  const command = blocks.sh.trim().split(/\s+/);
  assert.deepEqual(command.slice(0, 2), ["deno", "run"]);
  assert.equal(command.at(-1), "main.ts");
  const flags = command.slice(2, -1).map((f) => f.replace("../plugboard", ROOT_DIR));

  await using project = await tempPlugins({
    "deno.json": JSON.stringify(config, null, 2),
    "main.ts": main,
    "plugins/greet/mod.ts": pluginSource("greet", {
      setup: `ctx.routes.get("/hi", (c) => c.json({ hi: "there" }));
        ctx.routes.post("/echo", async (c) => c.text(await c.req.text()));`,
    }),
  });
  // The project's own lock starts as a copy of plugboard's, so it resolves the versions plugboard pins. Not frozen: the
  // project's dependencies are not plugboard's (no benchmark peers), so Deno rewrites its list of them.
  const lock = join(project.dir, "deno.lock");
  await Deno.copyFile(CHILD_LOCK, lock);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", `--lock=${lock}`, ...flags, "main.ts"],
    cwd: project.dir,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { stdout: "", stderr: "" };
  const pump = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) out[key] += chunk;
  };
  const pumped = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
  try {
    // From empty caches Deno first prints a "Download ..." line per package (one is es-errors): not an error.
    await waitFor(() => /listening \d+/.test(out.stdout) || /^error/im.test(withoutDownloads(out.stderr)), {
      timeoutMs: 60_000,
      what: "the project to listen",
    });
    const listening = /listening (\d+)/.exec(out.stdout);
    assert.ok(listening, out.stderr);
    const base = `http://127.0.0.1:${listening[1]}/api/plugins/greet`;
    const hi = await fetch(`${base}/hi`);
    assert.deepEqual(await hi.json(), { hi: "there" });
    // A body sent in chunks goes through the host's body limit, which must not touch request.signal (Deno warns).
    const chunked = new ReadableStream({
      start(s) {
        s.enqueue(new TextEncoder().encode("chunked body"));
        s.close();
      },
    });
    const echo = await fetch(`${base}/echo`, { method: "POST", body: chunked });
    assert.equal(await echo.text(), "chunked body");
  } finally {
    child.kill("SIGINT");
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const status = await child.status;
  clearTimeout(timer);
  await pumped;
  assert.equal(status.code, 0, `exit code 0 after SIGINT, by itself; stderr: ${out.stderr}`);
  assert.doesNotMatch(out.stderr, /request\.signal/, "no legacy-abort warning");
  assert.doesNotMatch(withoutDownloads(out.stderr), /error/i, "nothing went wrong");
});

/** Deno's output with its "Download <url>" lines (from empty caches) left out. */
function withoutDownloads(text: string): string {
  return text.split("\n").filter((line) => !/^\s*Download https?:\/\//.test(line)).join("\n");
}

Deno.test("embedding: the embedder's own unhandled rejection still ends its process with the stack", async () => {
  await using project = await tempPlugins({
    "main.ts": `import { createHost } from ${JSON.stringify(join(ROOT_DIR, "mod.ts"))};
      const host = createHost({ pluginsDir: "./plugins", dataDir: "./data", logger: { level: "silent" } });
      await host.start();
      Promise.reject(new Error("the embedder's own bug"));
      await new Promise((r) => setTimeout(r, 2000));
      console.log("still running");
      await host.stop();`,
    "plugins/greet/mod.ts": pluginSource("greet"),
  });
  const out = await runBounded(
    new Deno.Command(Deno.execPath(), {
      args: ["run", `--lock=${CHILD_LOCK}`, `--config=${join(ROOT_DIR, "deno.json")}`, "--frozen", "-A", "main.ts"],
      cwd: project.dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }),
  );
  const stderr = new TextDecoder().decode(out.stderr);
  assert.notEqual(out.code, 0, "Deno's default: a non-zero exit");
  assert.match(stderr, /Uncaught \(in promise\) Error: the embedder's own bug\n[^]*\n\s+at file:.*main\.ts:4:/, stderr);
  assert.equal(new TextDecoder().decode(out.stdout), "");
});

Deno.test("embedding: without read access to the plugins folder, start() names the folder and the flag", async () => {
  await using project = await tempPlugins({
    "main.ts": `import { createHost } from ${JSON.stringify(join(ROOT_DIR, "mod.ts"))};
      const host = createHost({ pluginsDir: "./plugins", dataDir: "./data" });
      try {
        await host.start();
      } catch (e) {
        console.log(e.name, e.message);
      }`,
    "plugins/greet/mod.ts": pluginSource("greet"),
  });
  const out = await runBounded(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--lock=${CHILD_LOCK}`,
        `--config=${join(ROOT_DIR, "deno.json")}`,
        "--frozen",
        `--allow-read=${ROOT_DIR}`,
        "main.ts",
      ],
      cwd: project.dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }),
  );
  const plugins = join(project.dir, "plugins");
  assert.equal(
    new TextDecoder().decode(out.stdout).trim(),
    `SettingsError Cannot read the plugins folder "${plugins}": it is outside Deno's --allow-read. ` +
      `Add it (--allow-read=${plugins}) or choose a plugins folder inside the allowed folders`,
  );
  assert.equal(out.code, 0);
});
