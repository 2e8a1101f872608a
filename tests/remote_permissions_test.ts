import assert from "node:assert/strict";
import { denoCommand } from "./_helpers.ts";
import { remoteServer, tempDir } from "./fixtures/remote/server.ts";

const CHILD = new URL("./fixtures/remote/child.ts", import.meta.url).pathname;

Deno.test("a URL plugin loads without --allow-import; a run-time remote import is then refused by Deno", async () => {
  await using tmp = await tempDir();
  await using server = remoteServer({
    "/p/mod.js": `import { helper } from "./lib/helper.js";
export default { name: "p", version: "1.0.0", setup() {}, helper, load: (url) => import(url) };`,
    "/p/lib/helper.js": `export const helper = "h";`,
    "/x.js": `export default "x";`,
  });
  const out = await denoCommand("run", [
    `--allow-net=127.0.0.1`,
    "--allow-read",
    `--allow-write=${tmp.dir}`,
    CHILD,
    `${server.base}/p/mod.js`,
    tmp.dir,
    `${server.base}/x.js`,
  ]).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  assert.equal(result.name, "p");
  assert.equal(result.helper, "h");
  assert.match(result.dynamic, /Requires import access to "127\.0\.0\.1:\d+"/);
  assert.ok(!server.requests.includes("/x.js"), "the run-time import never reached the server");
});
