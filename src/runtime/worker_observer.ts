/**
 * The host's half of a response observer that runs in a plugin's worker
 * (`ctx.onResponse`): records are collected on the host and sent in one
 * message per {@linkcode OBSERVER_BATCH_MS} (or per
 * {@linkcode OBSERVER_BATCH_SIZE} records), not one per request, as
 * columns (one array per field: cloned at about half the cost of as many
 * record objects), which the worker turns back into records.
 *
 * @module
 */

import type { ResponseObserver, ResponseRecord } from "../routes.ts";

const hostSetTimeout = setTimeout;
const hostClearTimeout = clearTimeout;
/** How long an isolated plugin's response records wait on the host, at most, before they are sent. */
export const OBSERVER_BATCH_MS = 50;
/** How many response records are sent at once, at most. */
export const OBSERVER_BATCH_SIZE = 1024;

/** A batch of response records, one array per field. */
export type ResponseColumns = [
  method: string[],
  path: string[],
  route: (string | undefined)[],
  status: number[],
  ms: number[],
  at: number[],
];

/**
 * The records of a batch, as the worker's observers get them.
 *
 * @param columns the batch
 * @returns one record per request, in order
 */
export function recordsOf(columns: ResponseColumns): ResponseRecord[] {
  const [method, path, route, status, ms, at] = columns;
  const records: ResponseRecord[] = new Array(method.length);
  for (let i = 0; i < method.length; i++) {
    records[i] = { method: method[i], path: path[i], route: route[i], status: status[i], ms: ms[i], at: at[i] };
  }
  return records;
}

const emptyColumns = (): ResponseColumns => [[], [], [], [], [], []];

/**
 * A response observer that hands its records to `send` in batches.
 *
 * @param send sends one batch (never empty)
 * @returns the observer, and `flush` to send what is waiting now (on removal, before the worker stops)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchedObserver, recordsOf } from "./worker_observer.ts";
 * const sent: ReturnType<typeof recordsOf>[] = [];
 * const { observer, flush } = batchedObserver((columns) => sent.push(recordsOf(columns)));
 * const record = { method: "GET", path: "/", route: "/", status: 200, ms: 1, at: Date.now() };
 * observer(record);
 * observer({ ...record, route: undefined, status: 404 });
 * flush();
 * flush();
 * assert.deepEqual(sent, [[record, { ...record, route: undefined, status: 404 }]]);
 * ```
 */
export function batchedObserver(
  send: (columns: ResponseColumns) => void,
): { observer: ResponseObserver; flush: () => void } {
  let batch = emptyColumns();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    hostClearTimeout(timer);
    timer = undefined;
    const columns = batch;
    if (columns[0].length === 0) return;
    batch = emptyColumns();
    send(columns);
  };
  const observer: ResponseObserver = (record) => {
    const [method, path, route, status, ms, at] = batch;
    method.push(record.method);
    path.push(record.path);
    route.push(record.route);
    status.push(record.status);
    ms.push(record.ms);
    at.push(record.at ?? Date.now());
    if (method.length >= OBSERVER_BATCH_SIZE) flush();
    else timer ??= hostSetTimeout(flush, OBSERVER_BATCH_MS);
  };
  return { observer, flush };
}
