import { CacheError, ErrorCode } from './errors.js';
import { checkKeyLength } from './query.js';

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
