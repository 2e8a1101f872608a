import assert from "node:assert/strict";
import { ERROR_CATALOGUE, PermissionError, PluginError, type PluginErrorCode } from "../mod.ts";
import { errorProblem, problem } from "../src/http/problem.ts";

Deno.test("errorProblem() answers every catalogue code with its status, as problem+json", async () => {
  const codes = Object.keys(ERROR_CATALOGUE) as PluginErrorCode[];
  assert.ok(codes.length >= 15);
  for (const code of codes) {
    const res = errorProblem(new PluginError(code, "went wrong", { plugin: "p", stage: "load" }));
    assert.equal(res.status, ERROR_CATALOGUE[code].status, code);
    assert.equal(res.headers.get("content-type"), "application/problem+json", code);
    assert.deepEqual(await res.json(), {
      type: "about:blank",
      status: ERROR_CATALOGUE[code].status,
      title: code,
      detail: 'Cannot load plugin "p": went wrong',
      code,
      plugin: "p",
      hint: ERROR_CATALOGUE[code].hint,
    });
  }
});

Deno.test("errorProblem() pins the statuses clients rely on", () => {
  const status = (code: PluginErrorCode) => errorProblem(new PluginError(code, "x")).status;
  assert.equal(status("NOT_FOUND"), 404);
  assert.equal(status("CONFLICT"), 409);
  assert.equal(status("PERMISSION_DENIED"), 403);
  assert.equal(status("SERVICE_NOT_FOUND"), 503);
  assert.equal(status("BAD_REQUEST"), 400);
  assert.equal(status("SETUP_FAILED"), 422);
});

Deno.test("errorProblem() adds the fix of a PermissionError", async () => {
  const res = errorProblem(new PermissionError("Deno may not read it", "--allow-read=/srv", { plugin: "p" }));
  assert.equal(res.status, 403);
  assert.equal((await res.json()).fix, "--allow-read=/srv");
});

Deno.test("errorProblem() rethrows what is not a PluginError", () => {
  const foreign = new TypeError("boom");
  assert.throws(() => errorProblem(foreign), (err) => err === foreign);
  assert.throws(() => errorProblem("a string"), (err) => err === "a string");
});

Deno.test("problem() keeps extra headers but always sends the problem+json content type", async () => {
  const res = problem(401, { title: "Unauthorized", detail: "Send X-API-Key" }, {
    "www-authenticate": "ApiKey",
    "content-type": "text/plain",
  });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal(res.headers.get("www-authenticate"), "ApiKey");
  assert.deepEqual(await res.json(), {
    type: "about:blank",
    status: 401,
    title: "Unauthorized",
    detail: "Send X-API-Key",
  });
});
