import assert from "node:assert/strict";
import { fetchModule, RemoteError } from "../src/remote/mod.ts";
import { remoteServer } from "./fixtures/remote/server.ts";

async function refusal(promise: Promise<unknown>): Promise<RemoteError> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${error}`);
  return error;
}

Deno.test("fetchModule() follows a redirect within the allowed hosts and reports the final URL", async () => {
  await using server = remoteServer({
    "/old.js": { location: "/v2/mod.js", status: 301 },
    "/v2/mod.js": "export default 2;",
  });
  const mod = await fetchModule(`${server.base}/old.js`, {
    allowImport: [server.host],
    source: `${server.base}/old.js`,
  });
  assert.equal(mod.url, `${server.base}/v2/mod.js`);
  assert.deepEqual(mod.redirects, [[`${server.base}/old.js`, `${server.base}/v2/mod.js`]]);
  assert.equal(mod.mediaType, "js");
});

Deno.test("fetchModule() refuses a redirect to a port that is not in allowImport, naming the hop and the fix", async () => {
  await using allowed = remoteServer();
  await using evil = remoteServer({ "/evil.js": "export default 'evil';" });
  allowed.set("/mod.js", { location: `${evil.base}/evil.js` });
  const source = `${allowed.base}/mod.js`;
  const err = await refusal(fetchModule(source, { allowImport: [allowed.host], source }));
  assert.equal(err.code, "REMOTE_NOT_ALLOWED");
  assert.equal(
    err.message,
    `Cannot load plugin from "${source}": redirect from "${source}" to "${evil.base}/evil.js" leaves the allowed hosts; ` +
      `add "${evil.host}" to allowImport if you trust it`,
  );
  assert.equal(err.fix, `allowImport: ["${evil.host}"]`);
  assert.deepEqual(evil.requests, [], "the disallowed host is never contacted");
});

Deno.test("fetchModule() refuses an entry on a host that is not allowed, before contacting it", async () => {
  await using server = remoteServer({ "/mod.js": "export default 1;" });
  const source = `${server.base}/mod.js`;
  const err = await refusal(fetchModule(source, { allowImport: ["127.0.0.1:1"], source, plugin: "audit" }));
  assert.equal(err.code, "REMOTE_NOT_ALLOWED");
  assert.match(err.message, /^Cannot load plugin "audit" from "http:\/\/127\.0\.0\.1:\d+\/mod\.js": /);
  assert.deepEqual(server.requests, []);
});

Deno.test("fetchModule() refuses a redirect loop and shows the loop", async () => {
  await using server = remoteServer({ "/a.js": { location: "/b.js" }, "/b.js": { location: "/a.js" } });
  const source = `${server.base}/a.js`;
  const err = await refusal(fetchModule(source, { allowImport: [server.host], source }));
  assert.equal(err.code, "REMOTE_FETCH_FAILED");
  assert.ok(
    err.message.includes(`redirect loop: "${server.base}/a.js" → "${server.base}/b.js" → "${server.base}/a.js"`),
    err.message,
  );
});

Deno.test("fetchModule() stops after maxRedirects", async () => {
  await using server = remoteServer();
  for (let i = 0; i < 5; i++) server.set(`/${i}.js`, { location: `/${i + 1}.js` });
  const source = `${server.base}/0.js`;
  const err = await refusal(fetchModule(source, { allowImport: [server.host], source, maxRedirects: 3 }));
  assert.match(err.message, /more than 3 redirects/);
});

Deno.test("fetchModule() refuses a 404 with the URL and the status", async () => {
  await using server = remoteServer();
  const source = `${server.base}/missing.js`;
  const err = await refusal(fetchModule(source, { allowImport: [server.host], source }));
  assert.equal(err.code, "REMOTE_FETCH_FAILED");
  assert.equal(err.url, source);
  assert.match(err.message, /"http:\/\/127\.0\.0\.1:\d+\/missing\.js" answered 404 Not Found; check the URL/);
  assert.equal(err.unreachable, false);
});

Deno.test("fetchModule() refuses an HTML page served as mod.js", async () => {
  await using server = remoteServer({
    "/mod.js": { body: "<!DOCTYPE html><html><body>Sign in</body></html>", type: "text/html; charset=utf-8" },
    "/sneaky.js": { body: "\n<!doctype html><html><body>Oops</body></html>", type: "application/javascript" },
  });
  for (const path of ["/mod.js", "/sneaky.js"]) {
    const source = `${server.base}${path}`;
    const err = await refusal(fetchModule(source, { allowImport: [server.host], source }));
    assert.equal(err.code, "REMOTE_BAD_CONTENT_TYPE");
    assert.match(err.message, /is an HTML page.*not a module: probably an error or login page; check the URL/);
  }
});

Deno.test("fetchModule() refuses content types that are not JavaScript or TypeScript", async () => {
  await using server = remoteServer({
    "/data.js": { body: "{}", type: "application/json" },
    "/plain.js": { body: "export default 1;", type: "text/plain" },
    "/none.js": { body: "export default 1;", type: null },
  });
  for (const [path, type] of [["/data.js", "application/json"], ["/plain.js", "text/plain"], ["/none.js", "none"]]) {
    const source = `${server.base}${path}`;
    const err = await refusal(fetchModule(source, { allowImport: [server.host], source }));
    assert.equal(err.code, "REMOTE_BAD_CONTENT_TYPE");
    assert.ok(err.message.includes(`has Content-Type "${type}", not JavaScript or TypeScript`), err.message);
    assert.match(err.message, /serve it as application\/javascript or application\/typescript$/);
  }
});

Deno.test("fetchModule() accepts the TypeScript content types Deno accepts", async () => {
  await using server = remoteServer();
  for (const type of ["application/typescript", "text/typescript", "video/mp2t", "video/vnd.dlna.mpeg-tts"]) {
    server.set("/mod.ts", { body: "export const a: number = 1;", type });
    const source = `${server.base}/mod.ts`;
    assert.equal((await fetchModule(source, { allowImport: [server.host], source })).mediaType, "ts");
  }
});

Deno.test("fetchModule() refuses a module over the size limit, by Content-Length and while streaming", async () => {
  await using server = remoteServer({
    "/big.js": `export default "${"x".repeat(2000)}";`,
    "/streamed.js": { body: `export default "${"x".repeat(2000)}";`, chunked: true },
  });
  for (const path of ["/big.js", "/streamed.js"]) {
    const source = `${server.base}${path}`;
    const err = await refusal(fetchModule(source, { allowImport: [server.host], source, maxModuleBytes: 1000 }));
    assert.equal(err.code, "REMOTE_TOO_LARGE");
    assert.ok(
      err.message.includes(`"${source}" is larger than the limit of 1000 bytes per module; raise maxModuleBytes`),
    );
  }
  const source = `${server.base}/big.js`;
  assert.ok(await fetchModule(source, { allowImport: [server.host], source, maxModuleBytes: 4000 }));
});

Deno.test("fetchModule() times out on a server that never answers, and on a body that never ends", async () => {
  await using server = remoteServer({
    "/hang.js": { hang: true },
    "/stall.js": { body: "export default 1;", stall: true, chunked: true },
  });
  for (const path of ["/hang.js", "/stall.js"]) {
    const source = `${server.base}${path}`;
    const started = performance.now();
    const err = await refusal(fetchModule(source, { allowImport: [server.host], source, timeoutMs: 150 }));
    assert.ok(performance.now() - started < 3000);
    assert.equal(err.code, "REMOTE_FETCH_FAILED");
    assert.ok(err.message.includes(`"${source}" did not answer within 150 ms`), err.message);
    assert.equal(err.unreachable, true);
  }
});

Deno.test("fetchModule() reports a server that is down as unreachable", async () => {
  const server = remoteServer();
  await server.close();
  const source = `${server.base}/mod.js`;
  const err = await refusal(fetchModule(source, { allowImport: [server.host], source }));
  assert.equal(err.code, "REMOTE_FETCH_FAILED");
  assert.equal(err.unreachable, true);
  assert.ok(err.message.includes(`cannot reach "${source}"`), err.message);
});

Deno.test("fetchModule() refuses a redirect to another scheme", async () => {
  await using server = remoteServer({ "/mod.js": { location: "data:text/javascript,export default 1" } });
  const source = `${server.base}/mod.js`;
  const err = await refusal(fetchModule(source, { allowImport: [server.host], source }));
  assert.equal(err.code, "REMOTE_NOT_ALLOWED");
  assert.match(err.message, /only http and https are allowed/);
});
