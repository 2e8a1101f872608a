import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../mod.ts";
import { readConfigFile, resolveConfig } from "../src/config.ts";
import { tempPlugins } from "./_helpers.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("${VAR} and ${VAR:-default} are substituted in nested strings", async () => {
  const config = await resolveConfig(
    { url: "${HOOK_URL}/alerts", nested: { list: ["${A:-a}", "${B:-b}"] }, n: 3 },
    { plugin: "p", env: env({ HOOK_URL: "http://h", B: "bee" }) },
  );
  assert.deepEqual(config, { url: "http://h/alerts", nested: { list: ["a", "bee"] }, n: 3 });
});

Deno.test("the schema validates and applies defaults", async () => {
  const schema = z.object({ retention: z.number().int().min(1).default(7), name: z.string() });
  assert.deepEqual(await resolveConfig({ name: "x" }, { plugin: "p", schema, env: env({}) }), {
    retention: 7,
    name: "x",
  });
});

Deno.test("a missing variable names the plugin, file, field and variable", async () => {
  await assert.rejects(
    resolveConfig({ webhook: { url: "${NOTIFIER_WEBHOOK_URL}" } }, {
      plugin: "notifier",
      file: "/srv/plugins/notifier/config.json",
      env: env({}),
    }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.plugin, "notifier");
      assert.equal(e.field, "webhook.url");
      assert.equal(e.file, "/srv/plugins/notifier/config.json");
      assert.equal(
        e.message,
        'Cannot load plugin "notifier": /srv/plugins/notifier/config.json field "webhook.url" uses ${NOTIFIER_WEBHOOK_URL}, ' +
          "which is not set. Set NOTIFIER_WEBHOOK_URL in the environment, or give a default: ${NOTIFIER_WEBHOOK_URL:-value}",
      );
      return true;
    },
  );
});

Deno.test("an invalid field names the field and shows the value", async () => {
  const schema = z.object({ timeout: z.number() });
  await assert.rejects(
    resolveConfig({ timeout: "30s" }, { plugin: "notifier", file: "config.json", schema, env: env({}) }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.field, "timeout");
      assert.match(
        e.message,
        /^Cannot load plugin "notifier": config.json field "timeout" is invalid \(.+\): current value is "30s"$/,
      );
      return true;
    },
  );
});

Deno.test("values from the environment and secret-looking fields are never printed", async () => {
  const schema = z.object({ port: z.number(), apiKey: z.string().min(40) });
  await assert.rejects(
    resolveConfig({ port: "${PORT}", apiKey: "sk-live-123" }, { plugin: "p", schema, env: env({ PORT: "hunter2" }) }),
    (e: unknown) => {
      const msg = (e as Error).message;
      assert.ok(!msg.includes("hunter2"), msg);
      assert.ok(!msg.includes("sk-live-123"), msg);
      assert.match(msg, /field "port" is invalid .*current value is \(hidden\)/);
      assert.match(msg, /field "apiKey" is invalid .*current value is \(hidden\)/);
      return true;
    },
  );
});

Deno.test("an issue about a whole object or the whole config hides what it holds from the environment or under secret keys", async () => {
  const secrets = { SECRET_URL: "https://user:TOPSECRET@hooks.example" };
  const refused = async (data: Record<string, unknown>, schema: z.ZodType) => {
    const error = await resolveConfig(data, { plugin: "p", file: "config.json", schema, env: env(secrets) }).then(
      () => assert.fail("the config was accepted"),
      (e: unknown) => e as ConfigError,
    );
    assert.ok(error instanceof ConfigError);
    for (const secret of ["TOPSECRET", "sk-live-123", "hunter2"]) {
      assert.ok(!error.message.includes(secret), error.message);
    }
    return error.message;
  };
  // The root: an unknown key makes the whole config the current value.
  const root = await refused(
    { url: "${SECRET_URL}", apiKey: "sk-live-123", extra: 1 },
    z.object({ url: z.string(), apiKey: z.string() }).strict(),
  );
  assert.match(
    root,
    /field "\(root\)" is invalid .*current value is \{"url":"\(hidden\)","apiKey":"\(hidden\)","extra":1\}/,
  );
  // A parent object: what the environment gave and a secret-looking key inside it.
  const parent = await refused(
    { webhook: { url: "${SECRET_URL}", password: "hunter2", retries: 3 } },
    z.object({ webhook: z.string() }),
  );
  assert.match(
    parent,
    /field "webhook" is invalid .*current value is \{"url":"\(hidden\)","password":"\(hidden\)","retries":3\}/,
  );
  // A check of the whole object, and an array.
  await refused({ url: "${SECRET_URL}" }, z.object({ url: z.string() }).refine(() => false, "never"));
  const list = await refused({ hooks: ["${SECRET_URL}", "plain"] }, z.object({ hooks: z.array(z.number()).max(0) }));
  assert.match(list, /\["\(hidden\)","plain"\]/);
});

Deno.test("any Standard Schema or safeParse object works, not only this copy of zod", async () => {
  const standard = {
    "~standard": {
      version: 1 as const,
      vendor: "hand-made",
      validate: (v: unknown) =>
        typeof (v as { n?: unknown }).n === "number"
          ? { value: { n: (v as { n: number }).n * 2 } }
          : { issues: [{ message: "n must be a number", path: [{ key: "n" }] }] },
    },
  };
  assert.deepEqual(await resolveConfig({ n: 2 }, { plugin: "p", schema: standard, env: env({}) }), { n: 4 });
  await assert.rejects(
    resolveConfig({ n: "2" }, { plugin: "p", schema: standard, env: env({}) }),
    /field "n" is invalid \(n must be a number\)/,
  );
  const legacy = {
    safeParse: (v: unknown) =>
      v && typeof v === "object" && "ok" in v
        ? { success: true as const, data: "fine" }
        : { success: false as const, error: { issues: [{ path: ["ok"], message: "required" }] } },
  };
  assert.equal(await resolveConfig({ ok: 1 }, { plugin: "p", schema: legacy, env: env({}) }), "fine");
  await assert.rejects(
    resolveConfig({}, { plugin: "p", schema: legacy, env: env({}) }),
    /field "ok" is invalid \(required\): current value is missing/,
  );
});

Deno.test("readConfigFile(): missing file, enabled flag, bad JSON, non-object", async () => {
  await using tmp = await tempPlugins({
    "a.json": '{"enabled": false, "x": 1}',
    "b.json": "{ nope",
    "c.json": "[1]",
    "d.json": '{"enabled": "no"}',
  });
  assert.deepEqual(await readConfigFile(join(tmp.dir, "none.json"), "p"), { file: undefined, enabled: true, data: {} });
  assert.deepEqual(await readConfigFile(join(tmp.dir, "a.json"), "p"), {
    file: join(tmp.dir, "a.json"),
    enabled: false,
    data: { x: 1 },
  });
  await assert.rejects(
    readConfigFile(join(tmp.dir, "b.json"), "p"),
    /Cannot load plugin "p": .*b.json is not valid JSON/,
  );
  await assert.rejects(readConfigFile(join(tmp.dir, "c.json"), "p"), /c.json must hold a JSON object/);
  await assert.rejects(
    readConfigFile(join(tmp.dir, "d.json"), "p"),
    /field "enabled" must be true or false: current value is "no"/,
  );
});
