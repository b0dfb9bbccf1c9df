import { Buffer } from 'node:buffer';
import { CacheError, ErrorCode } from '../errors.js';

/**
 * The first value of each parameter of a query string (without the `?`), decoded as
 * application/x-www-form-urlencoded: `+` is a space, `%XX` a UTF-8 byte. The first value wins for
 * repeated names, as in the seed (Go's `Query().Get`). A malformed escape is a 400 naming the
 * parameter, rather than a silently dropped pair.
 * Written out instead of URLSearchParams: that one keeps malformed escapes as literal text.
 */
export function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  if (query.length === 0) return params;
  // Pairs found with indexOf rather than split('&'): no array per request on the hot routes. The
  // next '=' is kept until the pairs pass it, so that no byte is searched twice: searched anew
  // from each pair, a megabyte of pairs without one (`a&a&...`, a /set's query may be that long)
  // held the thread 2.7 s, against 39 ms.
  let eq = -1;
  for (let start = 0; start <= query.length; ) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    if (end > start) {
      if (eq < start) eq = query.indexOf('=', start);
      if (eq < 0) eq = query.length + 1;
      const split = eq < end;
      const name = decode(query.slice(start, split ? eq : end), 'a parameter name');
      if (!params.has(name)) params.set(name, split ? decode(query.slice(eq + 1, end), `parameter '${name}'`) : '');
    }
    start = end + 1;
  }
  return params;
}

function decode(text: string, what: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    throw new CacheError(ErrorCode.BadRequest, `Malformed percent-encoding in ${what}`);
  }
}

/**
 * A still-encoded path segment (a key, a channel) percent-decoded; a malformed escape is a 400
 * naming `what`, never a silently different name, and an empty one is a missing parameter.
 */
export function decodeSegment(segment: string, what: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new CacheError(ErrorCode.BadRequest, `Malformed percent-encoding in the ${what}`);
  }
  if (decoded === '') throw new CacheError(ErrorCode.MissingParameter, `The ${what} must not be empty`);
  return decoded;
}

/** Longest key accepted, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** Throws a 400 for a key longer than {@link MAX_KEY_BYTES}; the byte count is only taken when it could be over. */
export function checkKeyLength(key: string): void {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short keys need no count.
  if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new CacheError(ErrorCode.KeyTooLong, `Key is longer than ${MAX_KEY_BYTES} bytes`);
  }
}

/** The longest TTL accepted: ten years, in seconds. */
export const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

/**
 * A `ttl` parameter in seconds (a whole or decimal number, to the millisecond) as milliseconds;
 * absent means no expiry (0). Anything else is a 400 that says what is accepted.
 */
export function parseTtl(raw: string | number | undefined | null): number {
  if (raw === undefined || raw === null) return 0;
  const text = typeof raw === 'number' ? String(raw) : raw;
  const seconds = /^\d+(\.\d{1,3})?$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds > 0 && seconds <= MAX_TTL_SECONDS)) {
    throw new CacheError(
      ErrorCode.BadRequest,
      `ttl must be a number of seconds greater than 0 and at most ${MAX_TTL_SECONDS} (10 years), with up to 3 decimals; got '${text}'`,
    );
  }
  return Math.round(seconds * 1000);
}

/** A flag parameter: present (with no value, 1 or true) or absent (or 0, false); anything else is a 400. */
export function parseFlag(params: Map<string, string>, name: string): boolean {
  const value = params.get(name);
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === '' || value === 'true' || value === '1') return true;
  throw new CacheError(ErrorCode.BadRequest, `${name} is a flag: give it no value, 1 or true; got '${value}'`);
}
