/**
 * `RemoteService`, checked by the type checker (`deno check` runs over
 * tests/ before the suite): code that works across an isolate type-checks,
 * and what would not work there (a missing `await`, a callback) does not.
 * Each `@ts-expect-error` line is a case that must stay an error.
 */

import assert from "node:assert/strict";
import type { RemoteService } from "../src/service_types.ts";

interface Chat {
  count(): number;
  post(text: string): Promise<string>;
  close?: () => void;
  topic?: string;
  tags: readonly string[];
  rooms: { id: number; name: string }[];
  pair: [string, number];
  limits: { max: number; per: { minute: number } };
  owner: { name: string } | undefined;
}

/** Never called: the type checker reads it. */
async function cases(chat: RemoteService<Chat>): Promise<unknown[]> {
  const count: number = await chat.count();
  // @ts-expect-error: a method's result comes as a promise
  const notAwaited: number = chat.count();
  const posted: string = await chat.post("hi");
  // An optional method is called as in-process code calls it.
  const closed: void | undefined = await chat.close?.();
  const topic: string | undefined = await chat.topic;
  // An array is read whole, or one item, by awaiting it; its length too.
  const tags: readonly string[] = await chat.tags;
  const tag: string = await chat.tags[0];
  const size: number = await chat.tags.length;
  // @ts-expect-error: its length is read across, as a promise
  const sizeNow: number = chat.tags.length;
  // @ts-expect-error: an array's methods are not called across (a callback cannot cross)
  chat.tags.map((t) => t);
  // @ts-expect-error: nor read as if the array were here
  const joined: string = chat.tags.join();
  const room: string = await chat.rooms[1].name;
  const first: string = await chat.pair[0];
  const max: number = await chat.limits.max;
  const perMinute: number = await chat.limits.per.minute;
  // @ts-expect-error: a property is read by awaiting it
  const maxNow: number = chat.limits.max;
  const owner: { name: string } | undefined = await chat.owner;
  return [
    count,
    notAwaited,
    posted,
    closed,
    topic,
    tags,
    tag,
    size,
    sizeNow,
    joined,
    room,
    first,
    max,
    perMinute,
    maxNow,
    owner,
  ];
}

Deno.test("RemoteService: what works across an isolate type-checks, what would not is an error", () => {
  assert.equal(typeof cases, "function");
});
