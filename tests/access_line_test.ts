/**
 * The access log's console lines: written as bytes in place for the common
 * request, as text for any other, and the same line either way, byte for
 * byte; batches cross their size whole and in order; request ids count in
 * base 36.
 */

import assert from "node:assert/strict";
import { Logger, PluginError } from "../mod.ts";
import { consoleSink } from "../src/logger.ts";
import { lineStart, textLine, writeTextLine } from "../src/metrics/access_line.ts";
import { AccessLog, type AccessRecord } from "../src/metrics/access_log.ts";
import { RequestIds } from "../src/metrics/request_ids.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The line as the access log wrote it before it wrote bytes: the format every line must keep. */
function reference(name: string, r: AccessRecord): string {
  const escapedName = /^[a-z0-9-]+$/.test(name) ? name : JSON.stringify(name).slice(1, -1);
  return `[${escapedName}] INFO access { method: ${JSON.stringify(r.method)}, path: ${JSON.stringify(r.path)}, ` +
    `status: ${r.status}, durationMs: ${r.durationMs}, requestId: ${JSON.stringify(r.requestId)} }\n`;
}

const NAMES = ["hello", "p0", "a-b-9", "Café", 'say "hi"', "tab\there"];
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "BREW", "M-SEARCH", 'x"y'];
const PATHS = [
  "/api/plugins/hello/",
  "/api/plugins/hello/greet/bench",
  "/api/plugins/hello/a%20b/%C3%A9",
  "/api/plugins/hello/~!$&'()*+,;=:@-._",
  '/api/plugins/hello/"quoted"',
  "/api/plugins/hello/back\\slash",
  "/api/plugins/hello/ctl\u0001\u001f",
  "/api/plugins/hello/del\u007f",
  "/api/plugins/hello/é",
  "/api/plugins/hello/😀",
  "/api/plugins/hello/lone\ud800",
  "",
];
const NUMBERS = [0, 1, 9, 10, 99, 100, 200, 404, 599, 999, 1000, 12345, 2 ** 31, 1.5, -1, -0, NaN, Infinity, 1e21];

Deno.test("access line: written as bytes, or refused (-1) when a field needs escaping; the same line as the text one", () => {
  const bytes = new Uint8Array(4096);
  let inPlace = 0;
  let refused = 0;
  for (const name of NAMES) {
    const start = encoder.encode(lineStart(name));
    for (const method of METHODS) {
      for (const path of PATHS) {
        for (const [i, status] of [200, 404, 1000, 99].entries()) {
          const durationMs = NUMBERS[(i + path.length) % NUMBERS.length];
          const record = { method, path, status, durationMs, requestId: "3f2a-1z" };
          const line = reference(name, record);
          assert.equal(textLine(name, record), line);
          const end = writeTextLine(bytes, 7, start, method, path, status, durationMs, "3f2a-1z");
          if (end < 0) {
            refused++;
            continue;
          }
          inPlace++;
          assert.equal(decoder.decode(bytes.subarray(7, end)), line, `${name} ${method} ${JSON.stringify(path)}`);
        }
      }
    }
  }
  assert.ok(inPlace > 500 && refused > 500, `both paths taken: ${inPlace} in place, ${refused} refused`);
  // Refused: what JSON escapes, and anything not printable ASCII (written through the text path instead).
  const start = encoder.encode(lineStart("hello"));
  for (const path of PATHS.slice(4, 11)) {
    assert.equal(writeTextLine(bytes, 0, start, "GET", path, 200, 1, "a"), -1, path);
  }
  assert.equal(writeTextLine(bytes, 0, start, "BREW", "/x", 200, 1, "a"), -1);
});

Deno.test("access line: every number as a template literal writes it", () => {
  const bytes = new Uint8Array(256);
  const start = encoder.encode(lineStart("p"));
  for (const n of [...NUMBERS, 5e-7, -123.456, 0.1 + 0.2, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE]) {
    const end = writeTextLine(bytes, 0, start, "GET", "/x", n, n, "id");
    assert.equal(
      decoder.decode(bytes.subarray(0, end)),
      reference("p", { method: "GET", path: "/x", status: n, durationMs: n, requestId: "id" }),
    );
  }
});

/** Runs `fn` with stdout's writes collected; returns what was written. */
function captureStdout(fn: () => void): { text: string; writes: number } {
  const original = Deno.stdout.writeSync;
  const chunks: Uint8Array[] = [];
  Deno.stdout.writeSync = (bytes: Uint8Array) => {
    chunks.push(bytes.slice());
    return bytes.length;
  };
  try {
    fn();
  } finally {
    Deno.stdout.writeSync = original;
  }
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) all.set(c, (at += c.length) - c.length);
  return { text: decoder.decode(all), writes: chunks.length };
}

Deno.test("access log: request() writes the line write() would, in place or as text, batches whole and in order", () => {
  const expected: string[] = [];
  const { text, writes } = captureStdout(() => {
    const access = new AccessLog(new Logger("plugboard", { level: "info", sink: consoleSink }), new RequestIds("t"));
    let n = 0;
    // ~1,200 lines (~150 KiB): several batches of 32 KiB, the odd line through the text path.
    for (let round = 0; round < 100; round++) {
      for (const name of ["hello", "Café"]) {
        for (const method of ["GET", "BREW"]) {
          for (const path of ["/api/plugins/hello/x", '/api/plugins/hello/"q"', "/api/plugins/hello/é"]) {
            const status = 200 + (n % 5) * 100;
            access.request(name, method, path, status, n % 1200);
            expected.push(
              reference(name, { method, path, status, durationMs: n % 1200, requestId: `t-${(++n).toString(36)}` }),
            );
          }
        }
      }
      // Long lines with part of a batch waiting: one in place and one as text that fit a batch only once it is
      // written, and two longer than a batch (through request() and write()), written on their own after it.
      for (const [at, length, quote] of [[30, 40_000, ""], [50, 70_000, ""], [60, 40_000, '"'], [70, 70_000, '"']]) {
        if (round !== at) continue;
        const path = `/api/plugins/hello/${quote}${"x".repeat(length as number)}`;
        // write() takes the record's own id; request() the next one.
        const requestId = at === 70 ? "w-1" : `t-${(++n).toString(36)}`;
        const record = { method: "GET", path, status: 200, durationMs: 3, requestId };
        if (at === 70) access.write("hello", record);
        else access.request("hello", "GET", path, 200, 3);
        expected.push(reference("hello", record));
      }
    }
    access.close();
  });
  assert.ok(writes >= 5, `batched: ${writes} writes`);
  const lines = text.split(/(?<=\n)/);
  assert.equal(lines.length, expected.length);
  for (let i = 0; i < lines.length; i++) assert.equal(lines[i], expected[i], `line ${i}`);
});

Deno.test("access log: a long line that fits a batch only once the waiting lines are written comes after them", () => {
  for (const quote of ["", '"']) {
    const expected: string[] = [];
    const { text, writes } = captureStdout(() => {
      const access = new AccessLog(new Logger("plugboard", { level: "info", sink: consoleSink }), new RequestIds("t"));
      let n = 0;
      const add = (path: string) => {
        access.request("hello", "GET", path, 200, 1);
        expected.push(
          reference("hello", { method: "GET", path, status: 200, durationMs: 1, requestId: `t-${(++n).toString(36)}` }),
        );
      };
      for (let i = 0; i < 9; i++) add("/api/plugins/hello/x"); // ~1 KiB waiting
      add(`/api/plugins/hello/${quote}${"x".repeat(64 * 1024 - 400)}`); // in place (or as text): fits an empty batch
      add("/api/plugins/hello/y");
      access.close();
    });
    assert.equal(writes, 3, "the waiting lines, the long one, the last");
    const lines = text.split(/(?<=\n)/);
    assert.equal(lines.length, expected.length);
    for (let i = 0; i < lines.length; i++) assert.ok(lines[i] === expected[i], `line ${i}: ${lines[i].slice(0, 120)}`);
  }
});

Deno.test("access log: nothing written above info level, and request ids are not spent", () => {
  const { text } = captureStdout(() => {
    const ids = new RequestIds("w");
    const access = new AccessLog(new Logger("plugboard", { level: "warn", sink: consoleSink }), ids);
    assert.equal(access.enabled, false);
    access.request("hello", "GET", "/api/plugins/hello/x", 200, 1);
    access.close();
    assert.equal(ids.next(), "w-1");
  });
  assert.equal(text, "");
});

Deno.test("request ids: the prefix, a dash and the sequence in base 36, past every change of digit count", () => {
  const ids = new RequestIds("ab12");
  for (let n = 1; n <= 50_000; n++) {
    const id = ids.next();
    if (id !== `ab12-${n.toString(36)}`) assert.fail(`id ${n}: ${id}, expected ab12-${n.toString(36)}`);
  }
  assert.match(new RequestIds().next(), /^[0-9a-f]{4}-1$/);
  assert.throws(() => new RequestIds('a"b'), (e) => e instanceof PluginError && e.code === "INVALID_SETTINGS");
});
