/** Route deadlines with one timer: `http/deadlines.ts`. */

import assert from "node:assert/strict";
import { Deadlines } from "../src/http/deadlines.ts";
import { denoCommand } from "./_helpers.ts";

const late = (label: string) => () => new Response(label, { status: 504 });
/** `watch` of a pending response, as the promise it returns then. */
const pending = (d: Deadlines, response: Promise<Response>, ms: number, onLate: () => Response) =>
  Promise.resolve(d.watch(response, ms, onLate));

Deno.test("Deadlines: a response ready at once is passed through untouched, nothing pending", () => {
  const d = new Deadlines();
  const res = new Response("now");
  assert.equal(d.watch(res, 10, late("late")), res);
  assert.equal(d.size, 0);
});

Deno.test("Deadlines: the answer in time wins and leaves nothing pending", async () => {
  const d = new Deadlines();
  const res = await d.watch(Promise.resolve(new Response("ok")), 1000, late("late"));
  assert.equal(await res.text(), "ok");
  assert.equal(d.size, 0);
});

Deno.test("Deadlines: a later, shorter deadline re-arms the timer; each late answer comes at its own deadline", async () => {
  const d = new Deadlines();
  const t0 = performance.now();
  const long = pending(d, new Promise<Response>(() => {}), 300, late("long"));
  const short = pending(d, new Promise<Response>(() => {}), 30, late("short"));
  let resolveThird!: (r: Response) => void;
  const third = d.watch(new Promise<Response>((r) => resolveThird = r), 300, late("third"));
  assert.equal(d.size, 3);
  const first = await Promise.race([long.then(() => "long"), short.then(() => "short")]);
  assert.equal(first, "short");
  const shortAt = performance.now() - t0;
  assert.ok(shortAt >= 25 && shortAt < 250, `the 30 ms deadline fired at ${shortAt.toFixed(0)} ms`);
  assert.equal(await (await short).text(), "short");
  resolveThird(new Response("third in time"));
  assert.equal(await (await third).text(), "third in time");
  assert.equal((await long).status, 504);
  assert.ok(performance.now() - t0 >= 295, "the 300 ms deadline did not fire early");
  assert.equal(d.size, 0);
});

Deno.test("Deadlines: answers in any order leave the others pending, and the late ones among them still expire", async () => {
  const d = new Deadlines();
  const resolvers: ((r: Response) => void)[] = [];
  // Ten pending answers: the odd ones with a 40 ms deadline, the even ones with a long one.
  const watched = Array.from(
    { length: 10 },
    (_, i) => pending(d, new Promise<Response>((r) => resolvers.push(r)), i % 2 ? 40 : 60_000, late(`late ${i}`)),
  );
  assert.equal(d.size, 10);
  // Answered first, last and from the middle: each leaves the rest linked.
  for (const i of [0, 9, 4]) resolvers[i](new Response(`answer ${i}`));
  assert.equal(await (await watched[0]).text(), "answer 0");
  assert.equal(await (await watched[9]).text(), "answer 9");
  assert.equal(await (await watched[4]).text(), "answer 4");
  assert.equal(d.size, 7);
  // The four odd ones still pending (1, 3, 5, 7) expire together; the even ones wait.
  for (const i of [1, 3, 5, 7]) assert.equal(await (await watched[i]).text(), `late ${i}`);
  assert.equal(d.size, 3);
  for (const i of [2, 6, 8]) resolvers[i](new Response(`answer ${i}`));
  for (const i of [2, 6, 8]) assert.equal(await (await watched[i]).text(), `answer ${i}`);
  assert.equal(d.size, 0);
  // An answer that comes after its 504 changes nothing.
  resolvers[1](new Response("too late"));
  assert.equal(d.size, 0);
});

Deno.test("Deadlines: a route that rejects rejects the watched answer; a late answer that throws still answers 504", async () => {
  const d = new Deadlines();
  await assert.rejects(
    Promise.resolve(d.watch(Promise.reject(new Error("route broke")), 1000, late("late"))),
    /route broke/,
  );
  const res = await d.watch(new Promise<Response>(() => {}), 5, () => {
    throw new Error("reporting failed");
  });
  assert.equal(res.status, 504);
  assert.equal(d.size, 0);
});

Deno.test("Deadlines: with `failed`, a rejection is answered by it, with the context, and the observer told", async () => {
  const d = new Deadlines();
  const told: number[] = [];
  const res = await d.watch(
    Promise.reject("not an Error"),
    1000,
    late("late"),
    { id: 7 },
    (r: Response, c: { id: number }) => void told.push(r.status, c.id),
    (error: unknown, c: { id: number }) => new Response(`${error} (${c.id})`, { status: 500 }),
  );
  assert.deepEqual([res.status, await res.text()], [500, "not an Error (7)"]);
  assert.deepEqual(told, [500, 7]);
  assert.equal(d.size, 0);
  // A `failed` that throws: the watched answer rejects with what it threw.
  await assert.rejects(
    Promise.resolve(d.watch(Promise.reject(new Error("route broke")), 1000, late("late"), undefined, undefined, () => {
      throw new Error("answering failed");
    })),
    /answering failed/,
  );
});

Deno.test("Deadlines: the timer left armed by answers in time does not keep the process alive", async () => {
  const code = `
    import { Deadlines } from ${JSON.stringify(new URL("../src/http/deadlines.ts", import.meta.url).href)};
    const res = await new Deadlines().watch(Promise.resolve(new Response("ok")), 60_000, () => new Response(null));
    console.log(res.status);`;
  const started = performance.now();
  const out = await denoCommand("eval", [code]).output();
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "200");
  assert.ok(performance.now() - started < 30_000, "the process exited long before the 60 s deadline");
});

Deno.test("Deadlines: a timer left idle by an earlier answer keeps the process alive again for a new pending one", async () => {
  const d = new Deadlines();
  await pending(d, Promise.resolve(new Response("ok")), 50, late("first"));
  // The timer armed for the first answer's deadline now holds nothing; this one must hold the event loop until it
  // fires, or the test ends with "the event loop has already resolved".
  const res = await pending(d, new Promise<Response>(() => {}), 80, late("second"));
  assert.equal(await res.text(), "second");
});
