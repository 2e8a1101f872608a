import assert from "node:assert/strict";
import { formatPluginTable, HELP, parseCli } from "../src/cli.ts";

const noFile = () => Promise.resolve(undefined);
const file = (text: string) => () => Promise.resolve(text);

Deno.test("parseCli(): flags, repeatable options and defaults", async () => {
  const r = await parseCli([
    "--port",
    "9001",
    "--hostname",
    "0.0.0.0",
    "--plugin",
    "./a/mod.ts",
    "--plugin",
    "http://127.0.0.1:1/b/mod.js",
    "--allow-import-host",
    "127.0.0.1:1",
    "--watch",
    "--data-dir",
    "/srv/data",
    "--trust",
    "tasks",
    "--sandbox",
    "stranger",
  ], noFile);
  assert.equal(r.help, false);
  if (r.help) return;
  assert.deepEqual(r.settings, {
    port: 9001,
    hostname: "0.0.0.0",
    pluginsDir: undefined,
    plugins: ["./a/mod.ts", "http://127.0.0.1:1/b/mod.js"],
    allowImport: ["127.0.0.1:1"],
    watch: true,
    dataDir: "/srv/data",
    trusted: ["tasks"],
    sandboxed: ["stranger"],
  });
  assert.equal(r.configFile, undefined);
  assert.deepEqual(await parseCli(["--help"], noFile), { help: true });
  assert.match(HELP, /--allow-import-host <host>/);
  assert.match(HELP, /--sandbox <name>/);
});

Deno.test("OPERATIONS.md quotes the --help text as it reads", async () => {
  const doc = await Deno.readTextFile(new URL("../docs/OPERATIONS.md", import.meta.url));
  const quoted = /From `deno task start --help`:\n\n```text\n([\s\S]*?)\n```/.exec(doc)?.[1];
  assert.ok(quoted, "the quote is there");
  assert.ok(HELP.includes(quoted), `docs/OPERATIONS.md's quote differs from HELP in src/cli.ts:\n${quoted}`);
});

Deno.test("parseCli(): plugboard.json is validated; flags win over it", async () => {
  const r = await parseCli(
    ["--port", "1234"],
    file('{"port": 8080, "pluginsDir": "./x", "plugins": ["a"], "watch": true}'),
  );
  assert.ok(!r.help);
  if (r.help) return;
  assert.equal(r.settings.port, 1234);
  assert.equal(r.settings.pluginsDir, "./x");
  assert.deepEqual(r.settings.plugins, ["a"]);
  assert.equal(r.configFile, "plugboard.json");
  await assert.rejects(parseCli([], file('{"prot": 1}')), /Settings file "plugboard.json" is invalid: .*prot/);
  await assert.rejects(parseCli([], file('{"port": "80"}')), /is invalid: port: /);
  await assert.rejects(parseCli([], file("{")), /is not valid JSON/);
  await assert.rejects(parseCli([], file('{"mcp": {"maxSessions": 0}}')), /is invalid: mcp\.maxSessions: /);
  await assert.rejects(parseCli([], file('{"mcp": {"sessions": 5}}')), /is invalid: mcp: .*sessions/);
  const mcp = await parseCli([], file('{"mcp": {"maxSessions": 5, "idleTimeout": 60000}, "sandboxed": ["x"]}'));
  assert.ok(!mcp.help);
  if (!mcp.help) {
    assert.deepEqual([mcp.settings.mcp, mcp.settings.sandboxed], [{ maxSessions: 5, idleTimeout: 60000 }, ["x"]]);
  }
  const limits = await parseCli(
    [],
    file('{"bodyLimit": 2048, "routeTimeout": 500, "limits": {"up": {"bodyLimit": 9}}, "allowedHosts": ["box"]}'),
  );
  assert.ok(!limits.help);
  if (limits.help) return;
  assert.deepEqual(limits.settings.limits, { up: { bodyLimit: 9 } });
  assert.equal(limits.settings.bodyLimit, 2048);
  await assert.rejects(
    parseCli([], file('{"limits": {"up": {"bodyLimt": 9}}}')),
    /is invalid: limits\.up: .*bodyLimt/,
  );
  await assert.rejects(parseCli([], file('{"routeTimeout": 0}')), /is invalid: routeTimeout: /);
  await assert.rejects(
    parseCli(["--config", "missing.json"], noFile),
    /Cannot read settings file "missing.json": it does not exist/,
  );
});

Deno.test("parseCli(): bad flags and values say what and how to fix", async () => {
  await assert.rejects(parseCli(["--prot", "1"], noFile), /Unknown option '--prot'.*Run with --help/);
  await assert.rejects(
    parseCli(["--port", "http"], noFile),
    /--port must be a whole number from 0 to 65535: current value is "http"/,
  );
  await assert.rejects(parseCli(["--port", "70000"], noFile), /current value is "70000"/);
  // What Number() would take but is no port number as written: refused, not read as 0 (a random port) or 31.
  for (const written of ["", "0x1f", "1.0e0", " 80", "+80", "080000"]) {
    await assert.rejects(
      parseCli([`--port=${written}`], noFile),
      /--port must be a whole number from 0 to 65535/,
      written,
    );
  }
  const leading = await parseCli(["--port=080"], noFile);
  assert.equal(leading.help ? undefined : leading.settings.port, 80);
});

Deno.test("formatPluginTable(): one row per plugin with routes or the error", () => {
  const table = formatPluginTable([
    {
      name: "hello",
      version: "1.0.0",
      state: "active",
      source: "x",
      dependencies: {},
      services: [],
      routes: ["GET /api/plugins/hello/"],
      timings: { totalMs: 12.34 },
      reloads: 0,
      restarts: 0,
      failures: 0,
      isolation: "worker",
      permissions: { env: ["GREETING"] },
    },
    {
      name: "stranger",
      version: "0.1.0",
      state: "active",
      source: "z",
      dependencies: {},
      services: [],
      routes: [],
      timings: { totalMs: 150 },
      reloads: 0,
      restarts: 0,
      failures: 0,
      isolation: "process",
      sandbox: { pid: 4242, limits: { memoryMb: 64, openFiles: 128 } },
      permissions: {},
    },
    {
      name: "bad",
      state: "failed",
      source: "y",
      dependencies: {},
      services: [],
      routes: [],
      timings: {},
      reloads: 0,
      restarts: 0,
      failures: 0,
      error: 'Cannot load plugin "bad": boom',
    },
  ]);
  const lines = table.split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[0], /PLUGIN\s+VERSION\s+STATE\s+LOAD\s+RUNS\s+PERMISSIONS\s+ROUTES \/ ERROR/);
  assert.match(
    lines[1],
    /^\s+hello\s+1\.0\.0\s+active\s+12\.3 ms\s+worker\s+env: GREETING\s+GET \/api\/plugins\/hello\/$/,
  );
  assert.match(
    lines[2],
    /^\s+stranger\s+0\.1\.0\s+active\s+150\.0 ms\s+sandbox pid 4242, 64 MB, 128 files\s+none\s+-$/,
  );
  assert.match(lines[3], /^\s+bad\s+-\s+failed\s+-\s+-\s+Cannot load plugin "bad": boom$/);
  assert.equal(formatPluginTable([]), "  (no plugins)");
});
