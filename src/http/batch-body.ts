import { textToBytes } from './bytes.js';
import { CacheError, checkValueSize, ErrorCode } from '../errors.js';
import { checkKeyLength, parseTtl } from './query.js';

/** Most keys one /mget or /mset may name. */
export const MAX_BATCH_KEYS = 10_000;

/** Largest /mget or /mset body: room for MAX_BATCH_KEYS keys, or two values of --max-value. */
export const maxBatchBody = (maxValue: number): number => Math.max(64 * 1024 * 1024, 2 * maxValue);

/** A request body that must be a JSON object; anything else is a 400 that says what is wrong. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new CacheError(ErrorCode.BadRequest, `The body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CacheError(ErrorCode.BadRequest, 'The body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** `body[field]` as a list of valid keys. */
export function batchKeys(body: Record<string, unknown>, field: string): string[] {
  const keys = body[field];
  if (!Array.isArray(keys) || !keys.every((key): key is string => typeof key === 'string')) {
    throw new CacheError(ErrorCode.BadRequest, `"${field}" must be an array of strings`);
  }
  checkCount(keys.length, field);
  keys.forEach(checkKey);
  return keys;
}

export function checkCount(count: number, field: string): void {
  if (count > MAX_BATCH_KEYS) {
    throw new CacheError(ErrorCode.BadRequest, `"${field}" has ${count} items; at most ${MAX_BATCH_KEYS} per request`);
  }
}

export function checkKey(key: string): void {
  if (key === '') throw new CacheError(ErrorCode.BadRequest, 'Keys must not be empty');
  checkKeyLength(key);
}

/** An /mset body's entries as [key, byte string] pairs, and its ttl in milliseconds (0 = none). */
export function parseMset(body: Record<string, unknown>, maxValue: number): { entries: Array<[string, string]>; ttlMs: number } {
  const entries = body['entries'];
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
    throw new CacheError(ErrorCode.BadRequest, '"entries" must be an object of key: string value pairs');
  }
  const pairs = Object.entries(entries as Record<string, unknown>);
  checkCount(pairs.length, 'entries');
  const ttlMs = parseTtl(body['ttl'] as string | number | undefined);
  return {
    ttlMs,
    entries: pairs.map(([key, value]) => {
      checkKey(key);
      if (typeof value !== 'string') throw new CacheError(ErrorCode.BadRequest, `The value of "${key}" must be a string`);
      const bytes = textToBytes(value);
      checkValueSize(bytes.length, maxValue);
      return [key, bytes];
    }),
  };
}
