/**
 * Route deadlines without a timer per request. A response that is still a
 * promise joins one list of pending answers; a single host timer, armed for
 * the earliest deadline, settles the late ones with the caller's fallback.
 * A route that answers at once costs nothing; one that answers in time costs
 * a promise and a link in that list.
 *
 * @module
 */

import { isResponse, notAResponse } from "./route_answer.ts";

const hostSetTimeout = setTimeout;
const hostClearTimeout = clearTimeout;
const now = performance.now.bind(performance);
const unrefTimer = Deno.unrefTimer;
const refTimer = Deno.refTimer;
const MAX_DELAY = 2 ** 31 - 1;

interface Pending {
  readonly due: number;
  readonly late: (context: never) => Response;
  readonly context: unknown;
  readonly answered: ((response: Response, context: never) => void) | undefined;
  readonly settle: (response: Response) => void;
  done: boolean;
  /** The neighbours in the list of pending answers. */
  prev: Pending | undefined;
  next: Pending | undefined;
}

/**
 * Pending answers and the one timer that expires them. The pending answers
 * are a doubly linked list through their entries, not a `Set`: under load a
 * `Set` (or `Map`) added to and deleted from once per request kept each
 * request's objects alive past the next young-generation collection (in a
 * probe under wrk, ~1.4 KB a request promoted to the old generation and
 * ~5 µs a request more of the host's garbage collection); a link unlinked
 * when its answer comes keeps nothing.
 */
export class Deadlines {
  #head: Pending | undefined;
  #tail: Pending | undefined;
  #size = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;

  /** How many answers are pending now. */
  get size(): number {
    return this.#size;
  }

  /**
   * Answers with `response`, or with `late(context)` if it is not ready
   * within `ms`. The functions are shared and the request's own data passed
   * as `context`, so that watching a request allocates no closures.
   *
   * @param response what the route answered, maybe not yet
   * @param ms the deadline from now, in milliseconds
   * @param late the answer once the deadline passes (called at most once)
   * @param context handed to `late` and `answered`
   * @param answered told the answer given, in time or late, just before it is (its failure is ignored)
   * @param failed the answer when `response` rejects, or resolves to something other than a Response (without it,
   *   the rejection is passed on)
   * @returns the response, or the late answer
   */
  watch<T = undefined>(
    response: Response | Promise<Response>,
    ms: number,
    late: (context: T) => Response,
    context?: T,
    answered?: (response: Response, context: T) => void,
    failed?: (error: unknown, context: T) => Response,
  ): Response | Promise<Response> {
    if (!(response instanceof Promise)) return response;
    return new Promise<Response>((resolve, reject) => {
      const entry: Pending = {
        due: now() + ms,
        late,
        context,
        answered,
        settle: resolve,
        done: false,
        prev: undefined,
        next: undefined,
      };
      this.#add(entry);
      if (entry.due < this.#armedFor) this.#arm(entry.due);
      else if (this.#size === 1) refTimer(this.#timer!);
      response.then((value) => {
        if (entry.done) return;
        this.#finish(entry);
        // With `failed`, an answer that is not a Response (a handler's bug) is answered by it too.
        if (failed !== undefined && !isResponse(value)) {
          return answerFailure(entry, notAResponse(value), failed, resolve, reject);
        }
        tell(entry, value);
        resolve(value);
      }, (error) => {
        if (entry.done) return;
        this.#finish(entry);
        if (failed === undefined) reject(error);
        else answerFailure(entry, error, failed, resolve, reject);
      });
    });
  }

  /** Forgets an answer that came in time; with none pending, the armed timer no longer keeps the process alive. */
  #finish(entry: Pending): void {
    entry.done = true;
    this.#remove(entry);
    if (this.#size === 0 && this.#timer !== undefined) unrefTimer(this.#timer);
  }

  /** Links an entry at the end of the list. */
  #add(entry: Pending): void {
    entry.prev = this.#tail;
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;
    this.#size++;
  }

  /** Unlinks an entry, and drops its links (an entry that lingers holds no other). */
  #remove(entry: Pending): void {
    const { prev, next } = entry;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    entry.prev = entry.next = undefined;
    this.#size--;
  }

  #arm(due: number): void {
    if (this.#timer !== undefined) hostClearTimeout(this.#timer);
    this.#armedFor = due;
    // Left armed when its answers come in time (a timer per request costs microseconds); it keeps the process alive
    // only while an answer is pending.
    // Timers hold at most 2^31 - 1 ms; a longer deadline is checked again then.
    this.#timer = hostSetTimeout(() => this.#sweep(), Math.min(MAX_DELAY, Math.max(0, due - now())));
  }

  #sweep(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const t = now();
    let next = Infinity;
    for (let entry = this.#head; entry !== undefined;) {
      const following = entry.next;
      if (entry.due <= t) {
        entry.done = true;
        this.#remove(entry);
        let answer: Response;
        try {
          answer = entry.late(entry.context as never);
        } catch {
          answer = new Response(null, { status: 504 });
        }
        tell(entry, answer);
        entry.settle(answer);
      } else if (entry.due < next) next = entry.due;
      entry = following;
    }
    if (next !== Infinity) this.#arm(next);
  }
}

/** Settles a watched answer that failed with what `failed` answers (or with what it threw). */
function answerFailure<T>(
  entry: Pending,
  error: unknown,
  failed: (error: unknown, context: T) => Response,
  resolve: (response: Response) => void,
  reject: (error: unknown) => void,
): void {
  let answer: Response;
  try {
    answer = failed(error, entry.context as T);
  } catch (cause) {
    return reject(cause);
  }
  tell(entry, answer);
  resolve(answer);
}

/** Tells a watcher the answer given; what it throws is its own (the answer is given anyway). */
function tell(entry: Pending, response: Response): void {
  if (entry.answered === undefined) return;
  try {
    entry.answered(response, entry.context as never);
  } catch { /* the answer goes out regardless */ }
}
