import assert from "node:assert/strict";
import { join } from "node:path";
import { MOD_URL, quietHost, tempPlugins } from "./_helpers.ts";

const NOTIFIER = `import { z } from "zod";
import { definePlugin } from ${JSON.stringify(MOD_URL)};
export default definePlugin({
  name: "notifier", version: "1.0.0",
  config: z.object({ timeout: z.number().default(5), url: z.string().default("http://localhost") }),
  setup(ctx) { ctx.routes.get("/", (c) => c.json(ctx.config)); },
});`;

Deno.test('config.<name>.enabled: false in the host settings disables a plugin; a bad "enabled" is named', async () => {
  await using tmp = await tempPlugins({ "notifier/mod.ts": NOTIFIER, "notifier/config.json": '{"timeout": 7}' });
  const host = quietHost({ pluginsDir: tmp.dir, config: { notifier: { enabled: false } } });
  await host.start();
  assert.equal(host.get("notifier")?.state, "disabled");
  await host.stop();
  const bad = quietHost({ pluginsDir: tmp.dir, config: { notifier: { enabled: "no" } } });
  await bad.start();
  assert.match(bad.get("notifier")?.error ?? "", /host setting config.notifier field "enabled" must be true or false/);
  await bad.stop();
  await tmp.write("notifier/config.json", '{"enabled": false}');
  const back = quietHost({ pluginsDir: tmp.dir, config: { notifier: { enabled: true } } });
  await back.start();
  assert.equal(back.get("notifier")?.state, "active", "the host setting wins over config.json");
  await back.stop();
});

Deno.test("a bad override is blamed on the host setting, not on config.json", async () => {
  await using tmp = await tempPlugins({ "notifier/mod.ts": NOTIFIER, "notifier/config.json": '{"url": "http://x"}' });
  const host = quietHost({ pluginsDir: tmp.dir, config: { notifier: { timeout: "30s" } } });
  await host.start();
  const error = host.get("notifier")?.error ?? "";
  assert.match(error, /host setting config\.notifier field "timeout" is invalid .*current value is "30s"/);
  assert.doesNotMatch(error, /config\.json/);
  await host.stop();
  await tmp.write("notifier/config.json", '{"timeout": "soon"}');
  const own = quietHost({ pluginsDir: tmp.dir });
  await own.start();
  assert.match(
    own.get("notifier")?.error ?? "",
    new RegExp(`${join(tmp.dir, "notifier", "config.json")} field "timeout"`),
  );
  await own.stop();
});

Deno.test("unknown keys in a plugin's config are named in a warning (or refused by a strict schema)", async () => {
  await using tmp = await tempPlugins({
    "notifier/mod.ts": NOTIFIER,
    "notifier/config.json": '{"timout": 7}',
    "strict/mod.ts": `import { z } from "zod";
import { definePlugin } from ${JSON.stringify(MOD_URL)};
export default definePlugin({ name: "strict", version: "1.0.0", config: z.object({ a: z.number().default(1) }).strict(), setup() {} });`,
    "strict/config.json": '{"b": 2}',
  });
  const host = quietHost({ pluginsDir: tmp.dir, config: { notifier: { urll: "x" } } });
  await host.start();
  assert.equal(host.get("notifier")?.state, "active");
  const warning = host.logs.find((r) => r.level === "warn" && r.message.includes('Plugin "notifier"'));
  assert.ok(warning, JSON.stringify(host.logs.map((r) => r.message)));
  assert.match(
    warning.message,
    /config\.json field "timout", host setting config\.notifier field "urll" are not in its config schema/,
  );
  assert.equal(host.get("strict")?.state, "failed");
  assert.match(host.get("strict")?.error ?? "", /Unrecognized key/i);
  await host.stop();
});
