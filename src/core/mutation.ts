/**
 * The read-modify-write operations on one key (INCR, APPEND, SET with GET or KEEPTTL, EXPIRE,
 * ...), as pure rules: what the key becomes and what the client is told, from what it holds.
 * A node applies them to its own entry (workers/store.ts), so that the read and the write are one
 * step for every client of either front end; the data path then copies the new state to the
 * key's other owners (src/cluster/data-path.ts). Both threads import this module; Redis 7's
 * semantics (t_string.c, expire.c) are the reference.
 *
 * Times are absolute milliseconds on the clock both threads share (src/core/shared-layout.ts);
 * an expiry of 0 means none.
 */

/** How a mutation treats the key's expiry when it stores a value. */
export const KEEP_EXPIRY = -1;

/** What {@link Mutation} `expire` requires of the current expiry (Redis's NX XX GT LT; XX and LT together: SoonerExisting). */
export const ExpireIf = { Always: 0, NoExpiry: 1, HasExpiry: 2, Later: 3, Sooner: 4, SoonerExisting: 5 } as const;
export type ExpireIf = (typeof ExpireIf)[keyof typeof ExpireIf];

/**
 * EXPIRE's options (`nx` `xx` `gt` `lt`, lower case) as one condition, or Redis's complaint when
 * they do not go together: NX with any other, GT with LT. XX with GT or LT: both must hold (GT
 * alone already needs an expiry).
 */
export function expireCondition(options: ReadonlySet<string>): ExpireIf | string {
  if (options.has('nx') && options.size > 1) return 'NX and XX, GT or LT options at the same time are not compatible';
  if (options.has('gt') && options.has('lt')) return 'GT and LT options at the same time are not compatible';
  if (options.has('gt')) return ExpireIf.Later;
  if (options.has('lt')) return options.has('xx') ? ExpireIf.SoonerExisting : ExpireIf.Sooner;
  return options.has('nx') ? ExpireIf.NoExpiry : options.has('xx') ? ExpireIf.HasExpiry : ExpireIf.Always;
}

/** Whether a conditional set requires the key to be absent (NX) or present (XX). */
export const SetIf = { Always: 0, Absent: 1, Present: 2 } as const;
export type SetIf = (typeof SetIf)[keyof typeof SetIf];

export type Mutation =
  /** SET with GET, KEEPTTL or a condition: `expiresAt` may be {@link KEEP_EXPIRY}. Ok `value`: the old value (null if none); `count` 1 if stored. */
  | readonly [kind: 'set', value: string, expiresAt: number, condition: SetIf]
  /** INCRBY: `by` in decimal (64-bit). Ok `value`: the new value. */
  | readonly [kind: 'incr', by: string]
  /** INCRBYFLOAT. Ok `value`: the new value. */
  | readonly [kind: 'incrfloat', by: number]
  /** APPEND, refused past `maxBytes` (--max-value). Ok `count`: the new length. */
  | readonly [kind: 'append', value: string, maxBytes: number]
  /** SETRANGE, refused past `maxBytes` (--max-value). Ok `count`: the new length. */
  | readonly [kind: 'setrange', offset: number, value: string, maxBytes: number]
  /** SETBIT, refused past `maxBytes`. Ok `count`: the bit's old value. */
  | readonly [kind: 'setbit', offset: number, bit: 0 | 1, maxBytes: number]
  /** GETDEL, GETEX (`expiresAt` {@link KEEP_EXPIRY} leaves it, 0 removes it). Ok `value`: the value, null if none. */
  | readonly [kind: 'getdel']
  | readonly [kind: 'getex', expiresAt: number]
  /** EXPIRE and its kin (`expiresAt` 0 = PERSIST). Ok `count`: 1 if applied. */
  | readonly [kind: 'expire', expiresAt: number, condition: ExpireIf];

/** Why a mutation could not apply to the value held. */
export type Refusal = 'not-integer' | 'overflow' | 'not-float' | 'not-finite' | 'too-long';

/** What the key holds: its value (a byte string) and its expiry (0 = none). */
export interface Held {
  value: string;
  expiresAt: number;
}

export interface Outcome {
  /** For the client: a value (or null) and a number, as the mutation's doc says. */
  value?: string | null;
  count?: number;
  refused?: Refusal;
  /** What the key becomes: undefined = unchanged, null = removed. */
  next?: Held | null;
}

/** The range of Redis's 64-bit integers. */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** What `mutation` does to a key holding `held` (undefined: absent) at time `now`. */
export function mutate(held: Held | undefined, mutation: Mutation, now: number): Outcome {
  switch (mutation[0]) {
    case 'set': {
      const [, value, expiresAt, condition] = mutation;
      const old = held?.value ?? null;
      if ((condition === SetIf.Absent && held !== undefined) || (condition === SetIf.Present && held === undefined)) return { value: old, count: 0 };
      const at = expiresAt === KEEP_EXPIRY ? (held?.expiresAt ?? 0) : expiresAt;
      return { value: old, count: 1, next: expiredAt(at, now) ? null : { value, expiresAt: at } };
    }
    case 'incr': {
      const current = held === undefined ? 0n : parseInt64(held.value);
      if (current === undefined) return { refused: 'not-integer' };
      const next = current + BigInt(mutation[1]);
      if (next < INT64_MIN || next > INT64_MAX) return { refused: 'overflow' };
      return changed(held, String(next));
    }
    case 'incrfloat': {
      const current = held === undefined ? 0 : parseFloat64(held.value);
      if (current === undefined) return { refused: 'not-float' };
      const next = current + mutation[1];
      if (!Number.isFinite(next)) return { refused: 'not-finite' };
      return changed(held, formatFloat(next));
    }
    case 'append': {
      const value = (held?.value ?? '') + mutation[1];
      if (value.length > mutation[2]) return { refused: 'too-long' };
      return { count: value.length, next: { value, expiresAt: held?.expiresAt ?? 0 } };
    }
    case 'setrange': {
      const [, offset, patch, maxBytes] = mutation;
      const current = held?.value ?? '';
      // Redis leaves an absent key absent for an empty patch, and answers the length as it is.
      if (patch.length === 0) return { count: current.length };
      if (offset + patch.length > maxBytes) return { refused: 'too-long' };
      const value = current.padEnd(offset, '\0').slice(0, offset) + patch + current.slice(offset + patch.length);
      return { count: value.length, next: { value, expiresAt: held?.expiresAt ?? 0 } };
    }
    case 'setbit': {
      const [, offset, bit, maxBytes] = mutation;
      const index = Math.floor(offset / 8);
      if (index + 1 > maxBytes) return { refused: 'too-long' };
      const current = (held?.value ?? '').padEnd(index + 1, '\0');
      const mask = 0x80 >> (offset % 8);
      const byte = current.charCodeAt(index);
      const value = current.slice(0, index) + String.fromCharCode(bit === 1 ? byte | mask : byte & ~mask) + current.slice(index + 1);
      const count = (byte & mask) === 0 ? 0 : 1;
      // A bit set to what it was on a string long enough is no change (Redis signals none, and no copy goes out).
      return held !== undefined && value === held.value ? { count } : { count, next: { value, expiresAt: held?.expiresAt ?? 0 } };
    }
    case 'getdel':
      return held === undefined ? { value: null } : { value: held.value, next: null };
    case 'getex': {
      if (held === undefined) return { value: null };
      const at = mutation[1];
      if (at === KEEP_EXPIRY || at === held.expiresAt) return { value: held.value };
      return { value: held.value, next: expiredAt(at, now) ? null : { value: held.value, expiresAt: at } };
    }
    case 'expire': {
      const [, at, condition] = mutation;
      if (held === undefined) return { count: 0 };
      if (at === 0) return held.expiresAt === 0 ? { count: 0 } : { count: 1, next: { value: held.value, expiresAt: 0 } };
      if (!expiryAllows(condition, held.expiresAt, at)) return { count: 0 };
      return { count: 1, next: expiredAt(at, now) ? null : { value: held.value, expiresAt: at } };
    }
  }
}

/** The value replaced, its expiry kept (INCR and its kin change a value in place). */
function changed(held: Held | undefined, value: string): Outcome {
  return { value, next: { value, expiresAt: held?.expiresAt ?? 0 } };
}

function expiredAt(at: number, now: number): boolean {
  return at !== 0 && at <= now;
}

/** Redis's NX XX GT LT, where no expiry counts as an infinite one. */
function expiryAllows(condition: ExpireIf, current: number, at: number): boolean {
  switch (condition) {
    case ExpireIf.Always:
      return true;
    case ExpireIf.NoExpiry:
      return current === 0;
    case ExpireIf.HasExpiry:
      return current !== 0;
    case ExpireIf.Later:
      return current !== 0 && at > current;
    case ExpireIf.Sooner:
      return current === 0 || at < current;
    case ExpireIf.SoonerExisting:
      return current !== 0 && at < current;
  }
}

const INTEGER = /^-?[1-9][0-9]{0,18}$/;

/** A byte string as a 64-bit integer, as Redis's string2ll reads one (no sign but '-', no leading zero, no space); undefined otherwise. */
export function parseInt64(text: string): bigint | undefined {
  if (text === '0') return 0n;
  if (!INTEGER.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?inf(?:inity)?$/i;

/** A byte string as a float, as Redis's string2ld reads one (no space around it, no NaN); undefined otherwise. */
export function parseFloat64(text: string): number | undefined {
  if (INFINITY.test(text)) return text[0] === '-' ? -Infinity : Infinity;
  if (!FLOAT.test(text)) return undefined;
  return Number(text);
}

/**
 * A float as INCRBYFLOAT answers it: plain decimal digits, no exponent, no trailing zeros, no
 * negative zero. Redis computes in long double; this uses doubles and JavaScript's shortest
 * round-trip digits, so 0.1 + 0.2 answers 0.30000000000000004 where Redis answers 0.3.
 */
export function formatFloat(value: number): string {
  if (value === 0) return '0';
  if (Number.isInteger(value)) return BigInt(value).toString();
  const text = String(value);
  if (!text.includes('e')) return text;
  // Below 1e-7: spell out the leading zeros.
  const [digits, exponent] = text.split('e') as [string, string];
  const negative = digits.startsWith('-');
  const plain = digits.replace('-', '').replace('.', '');
  return `${negative ? '-' : ''}0.${'0'.repeat(-Number(exponent) - 1)}${plain}`;
}
