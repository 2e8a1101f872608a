/**
 * The dashboard's sessions. Logging in with the admin key makes a session:
 * a random id in a cookie (HttpOnly, SameSite=Strict, Secure over TLS; the
 * key itself never leaves the server), and a CSRF token that every action
 * must carry. Sessions live in memory, expire, and are bounded in number.
 *
 * @module
 */

import { constantTimeEqual } from "../auth.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "plugboard_session";

/** One logged-in browser. */
export interface Session {
  /** The cookie's value. */
  readonly id: string;
  /** The token every action must carry (form field `_csrf` or header `X-CSRF-Token`). */
  readonly csrf: string;
  /** When it ends, ms since the epoch. */
  readonly expires: number;
}

/** Options for {@linkcode Sessions}. */
export interface SessionsOptions {
  /** How long a session lasts, in ms. @default 8 hours */
  ttlMs?: number;
  /** The most sessions kept; the oldest goes first. @default 64 */
  max?: number;
  /** The clock. @default Date.now */
  now?: () => number;
}

/**
 * The dashboard's sessions.
 *
 * @example Log in, check the CSRF token, log out
 * ```ts
 * import assert from "node:assert/strict";
 * import { Sessions } from "./session.ts";
 * const sessions = new Sessions();
 * const s = sessions.create();
 * assert.equal(sessions.get(s.id), s);
 * assert.equal(sessions.checkCsrf(s, s.csrf), true);
 * assert.equal(sessions.checkCsrf(s, "stale"), false);
 * sessions.end(s.id);
 * assert.equal(sessions.get(s.id), undefined);
 * ```
 */
export class Sessions {
  #sessions = new Map<string, Session>();
  #ttl: number;
  #max: number;
  #now: () => number;

  /** @param options lifetime, bound and clock */
  constructor(options: SessionsOptions = {}) {
    this.#ttl = options.ttlMs ?? 8 * 3600_000;
    this.#max = options.max ?? 64;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Starts a session.
   *
   * @returns it, with a fresh id and CSRF token
   */
  create(): Session {
    while (this.#sessions.size >= this.#max) this.#sessions.delete(this.#sessions.keys().next().value!);
    const session = { id: randomToken(), csrf: randomToken(), expires: this.#now() + this.#ttl };
    this.#sessions.set(session.id, session);
    return session;
  }

  /**
   * A live session by id.
   *
   * @param id the cookie's value
   * @returns the session, or undefined when unknown or expired
   */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (session && session.expires <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /**
   * Whether a request's CSRF token is its session's, compared in constant time.
   *
   * @param session the request's session
   * @param token what the request carried
   * @returns true only for the session's own token
   */
  checkCsrf(session: Session, token: string | undefined | null): boolean {
    return typeof token === "string" && token.length > 0 && constantTimeEqual(token, session.csrf);
  }

  /**
   * Ends a session.
   *
   * @param id the cookie's value
   */
  end(id: string | undefined): void {
    if (id) this.#sessions.delete(id);
  }
}

/**
 * The `Set-Cookie` value for a session (or, without one, one that clears it).
 *
 * @param session the session, or undefined to log out
 * @param secure whether the dashboard is served over TLS
 * @returns the header value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sessionCookie } from "./session.ts";
 * const value = sessionCookie({ id: "abc", csrf: "x", expires: 0 }, true);
 * assert.equal(value, "plugboard_session=abc; Path=/admin; HttpOnly; SameSite=Strict; Secure");
 * ```
 */
export function sessionCookie(session: Session | undefined, secure: boolean): string {
  const value = session ? `${SESSION_COOKIE}=${session.id}` : `${SESSION_COOKIE}=; Max-Age=0`;
  // Sent to the dashboard only; an isolated plugin's requests never carry it (`wire_http.ts` removes it).
  return `${value}; Path=/admin; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/**
 * The session id a request's `Cookie` header carries.
 *
 * @param header the `Cookie` header
 * @returns the id, or undefined
 */
export function sessionIdOf(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
