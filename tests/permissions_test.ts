import assert from "node:assert/strict";
import { join } from "node:path";
import { PermissionError } from "../mod.ts";
import { denoCommand, pluginSource, quietHost, ROOT_DIR, serveStatic, tempPlugins } from "./_helpers.ts";

Deno.test("a URL plugin from an allowed host loads, with its relative imports", async () => {
  await using tmp = await tempPlugins({
    "remote/hello/mod.js": `import { greet } from "./greet.js";
export default { name: "remote-hello", version: "1.0.0", setup(ctx) { ctx.services.provide("remote-hello", greet); } };`,
    "remote/hello/greet.js": `export const greet = (who) => "hi " + who;`,
  });
  await using server = serveStatic(join(tmp.dir, "remote"));
  const host = quietHost({ pluginsDir: null, allowImport: [server.host] });
  const info = await host.load(`${server.base}/hello/mod.js`);
  assert.equal(info.state, "active");
  assert.equal(info.source, `${server.base}/hello/mod.js`);
  assert.equal(host.services.resolve<(w: string) => string>("remote-hello")("bob"), "hi bob");
  assert.deepEqual(server.requests, ["/hello/mod.js", "/hello/greet.js"]);
  await host.stop();
});

Deno.test("a host missing from allowImport is refused before anything is fetched", async () => {
  await using tmp = await tempPlugins({ "p/mod.js": pluginSource("p") });
  await using server = serveStatic(tmp.dir);
  const host = quietHost({ pluginsDir: null, allowImport: ["cdn.example.com"] });
  await assert.rejects(host.load(`${server.base}/p/mod.js`), (e: unknown) => {
    assert.ok(e instanceof PermissionError);
    assert.equal(e.fix, `allowImport: ["${server.host}"]`);
    assert.equal(e.plugin, "p");
    assert.match(
      e.message,
      new RegExp(`^Cannot load plugin "p" from ${server.base}/p/mod.js: host "${server.host}" is not in`),
    );
    return true;
  });
  assert.deepEqual(server.requests, []);
  // A refused load goes back to the caller: it leaves no record behind.
  assert.equal(host.get("p"), undefined);
});

const otherLoopbackGranted = (await Deno.permissions.query({ name: "net", host: "127.0.0.2" })).state === "granted";

Deno.test({
  name: "a host allowed by the host but not by Deno's --allow-net names the flag",
  ignore: otherLoopbackGranted,
}, async () => {
  // The test task grants --allow-net=127.0.0.1,localhost only: plugboard fetches URL plugins itself, so it needs net.
  const other = "127.0.0.2:4510";
  const host = quietHost({ pluginsDir: null, allowImport: [other] });
  await assert.rejects(host.load(`http://${other}/p/mod.js`), (e: unknown) => {
    assert.ok(e instanceof PermissionError);
    assert.equal(e.fix, `--allow-net=${other}`);
    assert.match(
      e.message,
      /Deno may not fetch from "127\.0\.0\.2:4510"\. Run Deno with --allow-net=127\.0\.0\.2:4510/,
    );
    return true;
  });
});

Deno.test("paths outside the allowed folders and other schemes are refused", async () => {
  await using tmp = await tempPlugins({
    "plugins/ok/mod.ts": pluginSource("ok"),
    "outside/mod.ts": pluginSource("outside"),
  });
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins") });
  await assert.rejects(host.load(join(tmp.dir, "plugins", "../../etc/passwd")), (e: unknown) => {
    assert.ok(e instanceof PermissionError);
    assert.match(e.message, /is outside the allowed plugin folders/);
    assert.match(e.fix, /^allowRead: \["/);
    return true;
  });
  await assert.rejects(host.load(join(tmp.dir, "outside/mod.ts")), { code: "PERMISSION_DENIED" });
  for (const src of ["ftp://example.com/p.js", "data:text/javascript,export default 1", "jsr:@x/y"]) {
    await assert.rejects(host.load(src), (e: unknown) => {
      assert.ok(e instanceof PermissionError, src);
      assert.match(e.message, /scheme is not supported. Use a local path or an http\(s\) URL/);
      return true;
    });
  }
  await assert.rejects(host.load(join(tmp.dir, "plugins/missing/mod.ts")), { code: "NOT_FOUND" });
  assert.equal((await host.load(join(tmp.dir, "plugins/ok/mod.ts"))).state, "active");
});

Deno.test("a symlink out of the plugins folder is refused", async () => {
  await using tmp = await tempPlugins({ "plugins/.keep": "", "secret/mod.ts": pluginSource("secret") });
  await Deno.symlink(join(tmp.dir, "secret"), join(tmp.dir, "plugins/linked"));
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins") });
  await host.start();
  assert.equal(host.get("linked")?.errorCode, "PERMISSION_DENIED");
  assert.match(host.get("linked")!.error!, /it links to .*secret\/mod.ts, outside the allowed plugin folders/);
});

Deno.test("without --allow-read for the plugins folder, the load names the flag", async () => {
  await using tmp = await tempPlugins({ "plugins/p/mod.ts": pluginSource("p") });
  const script = `import { createHost } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
const host = createHost({ pluginsDir: ${JSON.stringify(join(tmp.dir, "plugins"))}, logger: { level: "silent" } });
await host.load(${
    JSON.stringify(join(tmp.dir, "plugins/p/mod.ts"))
  }).catch((e) => console.log(JSON.stringify({ code: e.code, fix: e.fix })));`;
  await tmp.write("run.ts", script);
  const cwd = ROOT_DIR;
  const out = await denoCommand("run", [`--allow-read=${cwd},${join(tmp.dir, "run.ts")}`, join(tmp.dir, "run.ts")], {
    cwd,
  })
    .output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.deepEqual(JSON.parse(text), { code: "PERMISSION_DENIED", fix: `--allow-read=${join(tmp.dir, "plugins")}` });
});
