/**
 * Built-in functions captured when the host starts, before any plugin loads,
 * for the admin guard and the request sorting: a trusted in-process plugin
 * that patches `String.prototype`, `RegExp.prototype`, `Array.prototype` or
 * `URL` cannot change who may call the admin API or which app answers a path.
 * Private to src/http (the leading `_`).
 *
 * @module
 */

const apply = Reflect.apply;
const call = Function.prototype.call;
const S = String.prototype;
const stringStartsWith = S.startsWith;
const stringIndexOf = S.indexOf;
const stringLastIndexOf = S.lastIndexOf;
const stringSlice = S.slice;
const stringCharCodeAt = S.charCodeAt;
const stringToLowerCase = S.toLowerCase;
const stringTrim = S.trim;
const regExpExec = RegExp.prototype.exec;
const arrayIncludes = Array.prototype.includes;
const headersGet = Headers.prototype.get;

/** `URL` as it was at startup. */
export const HostURL: typeof URL = URL;

const URL_PARTS = [
  "protocol",
  "username",
  "password",
  "hostname",
  "port",
  "pathname",
  "search",
  "hash",
  "origin",
] as const;
/** The parts of a URL read by the admin guard. */
export type URLPart = typeof URL_PARTS[number];
const urlGetters = {} as Record<URLPart, () => string>;
for (const part of URL_PARTS) urlGetters[part] = Object.getOwnPropertyDescriptor(URL.prototype, part)!.get!;
/** `url[part]`, through the getter as it was at startup. */
export const urlPart = (url: URL, part: URLPart): string => apply(urlGetters[part], url, []);

/** `s.startsWith(prefix)`. */
export const startsWith = call.bind(stringStartsWith) as (s: string, prefix: string) => boolean;
/** `s.indexOf(search, from)`. */
export const indexOf = call.bind(stringIndexOf) as (s: string, search: string, from?: number) => number;
/** `s.lastIndexOf(search)`. */
export const lastIndexOf = (s: string, search: string): number => apply(stringLastIndexOf, s, [search]);
/** `s.slice(start, end)`. */
export const slice = call.bind(stringSlice) as (s: string, start: number, end?: number) => string;
/**
 * `s.charCodeAt(i)`: `Function.prototype.call` bound to the method at startup, so that neither a later
 * `String.prototype.charCodeAt` nor a later `Function.prototype.call` is looked up (V8 inlines it as the method itself:
 * a loop over a string's characters costs the same as with `s.charCodeAt(i)`).
 */
export const charCodeAt = call.bind(stringCharCodeAt) as (s: string, i: number) => number;
/** `s.toLowerCase()`. */
export const toLowerCase = (s: string): string => apply(stringToLowerCase, s, []);
/** `s.trim()`. */
export const trim = (s: string): string => apply(stringTrim, s, []);
/** `re.test(s)`, through `RegExp.prototype.exec` as it was at startup (for non-global expressions). */
export const matches = (re: RegExp, s: string): boolean => apply(regExpExec, re, [s]) !== null;
/** `list.includes(value)`. */
export const includes = <T>(list: readonly T[], value: T): boolean => apply(arrayIncludes, list, [value]);
/** `headers.get(name)`. */
export const header = (headers: Headers, name: string): string | null => apply(headersGet, headers, [name]);
