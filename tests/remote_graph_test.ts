import assert from "node:assert/strict";
import { join } from "node:path";
import {
  integrityOf,
  PluginLock,
  RemoteError,
  type ResolveRemoteOptions,
  resolveRemotePlugin,
} from "../src/remote/mod.ts";
import { remoteServer, tempDir } from "./fixtures/remote/server.ts";

async function resolveIn(dir: string, source: string, options: Partial<ResolveRemoteOptions>) {
  return await resolveRemotePlugin(source, {
    allowImport: [],
    lock: new PluginLock(),
    snapshotRoot: join(dir, "remote"),
    ...options,
  });
}

async function refusal(promise: Promise<unknown>): Promise<RemoteError> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${error}`);
  return error;
}

Deno.test("resolveRemotePlugin() refuses a static import from a host not in allowImport, naming the importer", async () => {
  await using tmp = await tempDir();
  await using plugin = remoteServer();
  await using other = remoteServer({ "/x.js": "export const x = 1;" });
  for (const target of [`http://localhost:${other.port}/x.js`, `${other.base}/x.js`]) {
    plugin.set(
      "/mod.js",
      `import { x } from "${target}"; export default { name: "p", version: "1.0.0", setup() {}, x };`,
    );
    const source = `${plugin.base}/mod.js`;
    const err = await refusal(resolveIn(tmp.dir, source, { allowImport: [plugin.host] }));
    assert.equal(err.code, "REMOTE_NOT_ALLOWED");
    const host = new URL(target).host;
    assert.equal(
      err.message,
      `Cannot load plugin from "${source}": "${target}" (imported by "${source}") is on host "${host}", which is not ` +
        `in allowImport; add "${host}" to allowImport if you trust it`,
    );
  }
  assert.deepEqual(other.requests, []);
});

Deno.test("resolveRemotePlugin() refuses a string-literal dynamic import from a host not in allowImport", async () => {
  await using tmp = await tempDir();
  await using plugin = remoteServer();
  await using other = remoteServer({ "/y.js": "export const y = 1;" });
  plugin.set(
    "/mod.js",
    `export default { name: "p", version: "1.0.0", async setup() { await import("${other.base}/y.js"); } };`,
  );
  const err = await refusal(resolveIn(tmp.dir, `${plugin.base}/mod.js`, { allowImport: [plugin.host] }));
  assert.equal(err.code, "REMOTE_NOT_ALLOWED");
  assert.equal(err.url, `${other.base}/y.js`);
  assert.deepEqual(other.requests, []);
});

Deno.test("resolveRemotePlugin() reports dynamic imports it cannot see ahead", async () => {
  await using tmp = await tempDir();
  await using plugin = remoteServer({
    "/mod.js":
      "const name = './x.js'; export default { name: 'p', version: '1.0.0', async setup() { await import(name); await import(`./l/${name}`); } };",
  });
  const resolved = await resolveIn(tmp.dir, `${plugin.base}/mod.js`, { allowImport: [plugin.host] });
  assert.deepEqual(resolved.dynamicImports, [
    { module: `${plugin.base}/mod.js`, expression: "import(name)" },
    { module: `${plugin.base}/mod.js`, expression: "import(`./l/${name}`)" },
  ]);
});

Deno.test("resolveRemotePlugin() refuses specifiers a URL plugin cannot use, and leaves npm: and node: to Deno", async () => {
  await using tmp = await tempDir();
  await using plugin = remoteServer();
  const source = `${plugin.base}/mod.js`;
  const cases: [string, RegExp][] = [
    ["jsr:@std/path", /the "jsr:" scheme is not allowed in URL plugins/],
    ["data:text/javascript,export default 1", /the "data:" scheme is not allowed/],
    ["file:///etc/passwd", /the "file:" scheme is not allowed/],
    ["lodash", /a bare name, which URL plugins cannot resolve \(they have no import map\): use npm:lodash/],
  ];
  for (const [specifier, message] of cases) {
    plugin.set("/mod.js", `import x from "${specifier}"; export default x;`);
    const err = await refusal(resolveIn(tmp.dir, source, { allowImport: [plugin.host] }));
    assert.equal(err.code, "REMOTE_NOT_ALLOWED");
    assert.match(err.message, message);
    assert.ok(err.message.includes(`"${source}" imports "${specifier}"`), err.message);
  }
  plugin.set(
    "/mod.js",
    `import { z } from "npm:zod@^4"; import { join } from "node:path"; export default { z, join };`,
  );
  const resolved = await resolveIn(tmp.dir, source, { allowImport: [plugin.host] });
  assert.equal(resolved.modules.length, 1);
  assert.equal(
    await Deno.readTextFile(resolved.entryPath),
    `import { z } from "npm:zod@^4"; import { join } from "node:path"; export default { z, join };`,
  );
});

Deno.test("resolveRemotePlugin() snapshots a graph across two origins, with redirects, and the snapshot imports", async () => {
  await using tmp = await tempDir();
  await using a = remoteServer();
  await using b = remoteServer({
    "/shared/x.js": `import { y } from "./y.js"; export const x = "x" + y;`,
    "/shared/y.js": `export const y = "y";`,
  });
  const entryText = [
    `import { util } from "./lib/util.js";`,
    `import { x } from "${b.base}/shared/x.js";`,
    `import { moved } from "./old.js";`,
    `import { root } from "/root.js";`,
    `import { q } from "./q.js?v=2";`,
    `import { join } from "node:path";`,
    `export default { name: "p", version: "1.0.0", setup() {}, value: [util, x, moved, root, q, typeof join].join(",") };`,
    `export const late = () => import("./late.js");`,
  ].join("\n");
  a.set("/p/mod.js", entryText);
  a.set("/p/lib/util.js", `import { root } from "../../root.js"; export const util = "util+" + root;`);
  a.set("/p/old.js", { location: "/p/new.js", status: 301 });
  a.set("/p/new.js", `export const moved = "moved";`);
  a.set("/root.js", `export const root = "root";`);
  a.set("/p/q.js?v=2", `export const q = "q2";`);
  a.set("/p/late.js", `export const late = "late";`);
  const source = `${a.base}/p/mod.js`;
  const resolved = await resolveIn(tmp.dir, source, { allowImport: [a.host, b.host] });

  assert.equal(resolved.status, "new");
  assert.deepEqual(
    resolved.modules.map((m) => m.url),
    [
      `${a.base}/p/late.js`,
      `${a.base}/p/lib/util.js`,
      `${a.base}/p/mod.js`,
      `${a.base}/p/new.js`,
      `${a.base}/p/q.js?v=2`,
      `${a.base}/root.js`,
      `${b.base}/shared/x.js`,
      `${b.base}/shared/y.js`,
    ].sort(),
  );
  assert.deepEqual(resolved.pins.redirects, { [`${a.base}/p/old.js`]: `${a.base}/p/new.js` });
  assert.equal(
    resolved.pins.modules[source],
    integrityOf(new TextEncoder().encode(entryText)),
    "pins hash the bytes as served",
  );
  assert.equal(resolved.entryPath, join(resolved.dir, `http_127.0.0.1_${a.port}`, "p", "mod.js"));

  const written = await Deno.readTextFile(resolved.entryPath);
  assert.ok(written.includes(`import { util } from "./lib/util.js";`), "a relative import is kept as written");
  assert.ok(written.includes(`from "../../http_127.0.0.1_${b.port}/shared/x.js"`), written);
  assert.ok(written.includes(`from "./new.js"`), "a redirected import points at its target");
  assert.ok(written.includes(`from "../root.js"`), "a root-relative import is made relative");
  assert.ok(written.includes(`import("./late.js")`));
  assert.equal(
    await Deno.readTextFile(join(resolved.dir, "_original", `http_127.0.0.1_${a.port}`, "p", "mod.js")),
    entryText,
  );
  const untouched = resolved.modules.find((m) => m.url.endsWith("/shared/x.js"))!;
  assert.equal(untouched.rewritten, false);

  const mod = await import(resolved.entryUrl);
  assert.equal(mod.default.value, "util+root,xy,moved,root,q2,function");
  assert.equal((await mod.late()).late, "late");
});

Deno.test("resolveRemotePlugin() reads TypeScript: type-only imports are not fetched, extensionless modules get .ts", async () => {
  await using tmp = await tempDir();
  await using server = remoteServer({
    "/mod.ts": {
      type: "application/typescript",
      body: [
        `import type { Only } from "./types.ts";`,
        `import { type Shape, area } from "./shape";`,
        `export type { Only };`,
        `let alias: typeof import("./types.ts") | undefined;`,
        `const s: Shape = { w: 2, h: 3 };`,
        `export default { name: "ts", version: "1.0.0", setup(): void {}, area: area(s) as number };`,
      ].join("\n"),
    },
    "/shape": {
      type: "text/typescript",
      body:
        `export interface Shape { w: number; h: number }\nexport function area(s: Shape): number { return s.w * s.h; }`,
    },
  });
  const resolved = await resolveIn(tmp.dir, `${server.base}/mod.ts`, { allowImport: [server.host] });
  assert.deepEqual(resolved.modules.map((m) => m.url), [`${server.base}/mod.ts`, `${server.base}/shape`]);
  assert.ok(!server.requests.includes("/types.ts"));
  assert.ok((await Deno.readTextFile(resolved.entryPath)).includes(`from "./shape.ts"`));
  assert.equal((await import(resolved.entryUrl)).default.area, 6);
});

Deno.test("resolveRemotePlugin() walks an import cycle once", async () => {
  await using tmp = await tempDir();
  await using server = remoteServer({
    "/mod.js":
      `import { b } from "./b.js"; export const a = "a"; export default { name: "c", version: "1.0.0", setup() {}, b };`,
    "/b.js": `import { a } from "./mod.js"; export const b = () => a;`,
  });
  const resolved = await resolveIn(tmp.dir, `${server.base}/mod.js`, { allowImport: [server.host] });
  assert.equal(resolved.modules.length, 2);
  assert.deepEqual(server.requests.sort(), ["/b.js", "/mod.js"]);
  assert.equal((await import(resolved.entryUrl)).default.b(), "a");
});

Deno.test("resolveRemotePlugin() fails on a nested 404, naming the module and its importer", async () => {
  await using tmp = await tempDir();
  await using server = remoteServer({ "/mod.js": `import "./lib/gone.js";` });
  const err = await refusal(resolveIn(tmp.dir, `${server.base}/mod.js`, { allowImport: [server.host] }));
  assert.equal(err.code, "REMOTE_FETCH_FAILED");
  assert.ok(
    err.message.includes(`"${server.base}/lib/gone.js" (imported by "${server.base}/mod.js") answered 404 Not Found`),
    err.message,
  );
});

Deno.test("resolveRemotePlugin() refuses a graph over its byte or module limit", async () => {
  await using tmp = await tempDir();
  await using server = remoteServer();
  const imports = Array.from({ length: 5 }, (_, i) => `import "./m${i}.js";`).join("\n");
  server.set("/mod.js", imports);
  for (let i = 0; i < 5; i++) server.set(`/m${i}.js`, `export const v = "${"v".repeat(300)}";`);
  const source = `${server.base}/mod.js`;
  const bytes = await refusal(resolveIn(tmp.dir, source, { allowImport: [server.host], maxGraphBytes: 1000 }));
  assert.equal(bytes.code, "REMOTE_TOO_LARGE");
  assert.match(bytes.message, /the module graph is larger than the limit of 1000 bytes .*; raise maxGraphBytes/);
  const count = await refusal(resolveIn(tmp.dir, source, { allowImport: [server.host], maxModules: 3 }));
  assert.equal(count.code, "REMOTE_TOO_LARGE");
  assert.match(count.message, /more than 3 modules; raise maxModules/);
  assert.ok(await resolveIn(tmp.dir, source, { allowImport: [server.host], maxGraphBytes: 4000, maxModules: 6 }));
});

Deno.test("resolveRemotePlugin() refuses a module the lexer cannot read, with the URL", async () => {
  await using tmp = await tempDir();
  await using server = remoteServer({ "/mod.js": `export default <div>{1}</div>;` });
  const err = await refusal(resolveIn(tmp.dir, `${server.base}/mod.js`, { allowImport: [server.host] }));
  assert.equal(err.code, "REMOTE_BAD_CONTENT_TYPE");
  assert.ok(err.message.includes(`cannot read the imports of "${server.base}/mod.js"`), err.message);
});
