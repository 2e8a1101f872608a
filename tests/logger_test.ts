import assert from "node:assert/strict";
import { Logger, type LogRecord } from "../mod.ts";

Deno.test("Logger: levels filter records; child loggers keep level and sink", () => {
  const seen: LogRecord[] = [];
  const log = new Logger("plugboard", { level: "warn", sink: (r) => seen.push(r) });
  log.debug("d");
  log.info("i");
  log.warn("w", { x: 1 });
  log.child("hello").error("e");
  assert.deepEqual(seen.map((r) => `${r.name}:${r.level}:${r.message}`), ["plugboard:warn:w", "hello:error:e"]);
  assert.deepEqual(seen[0].args, [{ x: 1 }]);
});

Deno.test("PLUGBOARD_DEBUG=1 turns on debug output by default", () => {
  const before = Deno.env.get("PLUGBOARD_DEBUG");
  try {
    Deno.env.set("PLUGBOARD_DEBUG", "1");
    assert.equal(new Logger("x").level, "debug");
    Deno.env.delete("PLUGBOARD_DEBUG");
    assert.equal(new Logger("x").level, "info");
  } finally {
    if (before === undefined) Deno.env.delete("PLUGBOARD_DEBUG");
    else Deno.env.set("PLUGBOARD_DEBUG", before);
  }
});
