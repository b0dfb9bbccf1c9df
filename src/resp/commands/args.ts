import { INT64_MAX, INT64_MIN, parseInt64 } from '../../core/mutation.js';
import { sharedClock } from '../../core/shared-layout.js';
import { Errors } from '../reply.js';

/**
 * Arguments as Redis reads them: integers with string2ll's rules (64-bit, exact), expiry times
 * with its overflow checks. Each parser returns its value, or an error text (a string starting
 * with `ERR`) for the caller to reply.
 */

export class ArgError {
  constructor(readonly message: string) {}
}

/** A 64-bit integer argument. */
export function int64(arg: string): bigint | ArgError {
  return parseInt64(arg) ?? new ArgError(Errors.notInteger);
}

/** An integer argument that fits a JavaScript number exactly (offsets, counts). */
export function safeInt(arg: string): number | ArgError {
  const value = parseInt64(arg);
  if (value === undefined) return new ArgError(Errors.notInteger);
  return Number(value);
}

export type ExpiryUnit = 'ex' | 'px' | 'exat' | 'pxat';

/**
 * SET's and GETEX's EX / PX / EXAT / PXAT argument as an absolute time in milliseconds on the
 * shared clock: positive, and no overflow once in milliseconds and (EX, PX) added to now.
 */
export function expiryAt(arg: string, unit: ExpiryUnit, command: string): number | ArgError {
  const value = parseInt64(arg);
  if (value === undefined) return new ArgError(Errors.notInteger);
  const seconds = unit === 'ex' || unit === 'exat';
  if (value <= 0n || (seconds && value > INT64_MAX / 1000n)) return new ArgError(Errors.expireTime(command));
  let at = seconds ? value * 1000n : value;
  if (unit === 'ex' || unit === 'px') at += BigInt(Math.floor(sharedClock()));
  if (at > INT64_MAX) return new ArgError(Errors.expireTime(command));
  return Number(at);
}

/**
 * EXPIRE's and its kin's time as an absolute time in milliseconds: any integer (a time in the
 * past removes the key), refused only where Redis finds an overflow. A time at or before the
 * clock's start is given as 1, still in the past (0 would mean no expiry).
 */
export function expireAt(arg: string, seconds: boolean, relative: boolean, command: string): number | ArgError {
  const value = parseInt64(arg);
  if (value === undefined) return new ArgError(Errors.notInteger);
  if (seconds && (value > INT64_MAX / 1000n || value < INT64_MIN / 1000n)) return new ArgError(Errors.expireTime(command));
  let at = seconds ? value * 1000n : value;
  const base = relative ? BigInt(Math.floor(sharedClock())) : 0n;
  if (at > INT64_MAX - base) return new ArgError(Errors.expireTime(command));
  at += base;
  return at <= 0n ? 1 : Number(at);
}
