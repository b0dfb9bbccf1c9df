import { Buffer } from 'node:buffer';
import { bytesToText, textToBytes } from '../bytes.js';
import { CacheError, checkValueSize, ErrorCode } from '../errors.js';
import { checkKeyLength, parseTtl } from './query.js';

/** Most keys one /mget or /mset may name. */
export const MAX_BATCH_KEYS = 10_000;

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

/** How /mget and /mset write values in JSON: text (stored as its UTF-8 bytes), or base64 of any bytes. */
export type ValueEncoding = 'utf8' | 'base64';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A 400 for any field of `body` not in `known`: a misspelt or unsupported option must not be ignored. */
export function checkFields(body: Record<string, unknown>, route: string, known: readonly string[]): void {
  for (const field of Object.keys(body)) {
    if (!known.includes(field)) {
      throw new CacheError(ErrorCode.BadRequest, `Unknown field "${field}" in the body: ${route} takes ${known.map((k) => `"${k}"`).join(', ')}`);
    }
  }
}

/** `body.encoding`: absent (utf8), "utf8" or "base64". */
export function encodingOf(body: Record<string, unknown>): ValueEncoding {
  const encoding = body['encoding'] ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'base64') throw new CacheError(ErrorCode.BadRequest, '"encoding" must be "utf8" or "base64"');
  return encoding;
}

/** A JSON value as the byte string to store. */
export function decodeValue(value: string, encoding: ValueEncoding, key: string): string {
  if (encoding === 'utf8') return textToBytes(value);
  if (!BASE64.test(value)) throw new CacheError(ErrorCode.BadRequest, `The value of "${key}" is not valid base64`);
  return Buffer.from(value, 'base64').toString('latin1');
}

/** A stored byte string as the JSON value to send. */
export function encodeValue(bytes: string, encoding: ValueEncoding): string {
  return encoding === 'utf8' ? bytesToText(bytes) : Buffer.from(bytes, 'latin1').toString('base64');
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
  checkFields(body, '/mset', ['entries', 'ttl', 'encoding']);
  const encoding = encodingOf(body);
  const entries = body['entries'];
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
    throw new CacheError(ErrorCode.BadRequest, '"entries" must be an object of key: string value pairs');
  }
  const pairs = Object.entries(entries as Record<string, unknown>);
  checkCount(pairs.length, 'entries');
  const ttl = body['ttl'];
  if (ttl !== undefined && typeof ttl !== 'number') throw new CacheError(ErrorCode.BadRequest, '"ttl" must be a number of seconds');
  const ttlMs = parseTtl(ttl);
  return {
    ttlMs,
    entries: pairs.map(([key, value]) => {
      checkKey(key);
      if (typeof value !== 'string') throw new CacheError(ErrorCode.BadRequest, `The value of "${key}" must be a string`);
      const bytes = decodeValue(value, encoding, key);
      checkValueSize(bytes.length, maxValue);
      return [key, bytes];
    }),
  };
}
