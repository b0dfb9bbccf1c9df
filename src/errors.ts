import type { Refusal } from './core/mutation.js';
import { Status } from './core/protocol.js';

/**
 * Every failure a client can see has one of these codes. The HTTP status for each is chosen in
 * one place, {@link httpStatusOf}, so the API layer and the seed routes cannot disagree.
 */
export const ErrorCode = {
  BadRequest: 'BAD_REQUEST',
  MissingParameter: 'MISSING_PARAMETER',
  KeyTooLong: 'KEY_TOO_LONG',
  NotFound: 'NOT_FOUND',
  KeyNotFound: 'KEY_NOT_FOUND',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  Unauthorized: 'UNAUTHORIZED',
  KeyExists: 'KEY_EXISTS',
  Conflict: 'CONFLICT',
  NotAnInteger: 'NOT_AN_INTEGER',
  NotANumber: 'NOT_A_NUMBER',
  Overflow: 'OVERFLOW',
  ValueTooLarge: 'VALUE_TOO_LARGE',
  HeadersTooLarge: 'HEADERS_TOO_LARGE',
  RequestTimeout: 'REQUEST_TIMEOUT',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  NotImplemented: 'NOT_IMPLEMENTED',
  NodeUnavailable: 'NODE_UNAVAILABLE',
  BackendUnavailable: 'BACKEND_UNAVAILABLE',
  WrongType: 'WRONG_TYPE',
  ShuttingDown: 'SHUTTING_DOWN',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  MISSING_PARAMETER: 400,
  KEY_TOO_LONG: 400,
  NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNAUTHORIZED: 401,
  KEY_EXISTS: 409,
  CONFLICT: 409,
  NOT_AN_INTEGER: 409,
  NOT_A_NUMBER: 409,
  OVERFLOW: 409,
  VALUE_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_IMPLEMENTED: 501,
  NODE_UNAVAILABLE: 503,
  BACKEND_UNAVAILABLE: 503,
  WRONG_TYPE: 409,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code];
}

/** The one error type of the cache. `message` is safe to show to clients. */
export class CacheError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'CacheError';
    this.code = code;
  }

  get status(): number {
    return httpStatusOf(this.code);
  }

  /** The JSON body clients get: the seed's `error` field plus a stable `code`. */
  toJSON(): { error: string; code: ErrorCode } {
    return { error: this.message, code: this.code };
  }
}

/** Any thrown value as a CacheError; unknown errors become INTERNAL with no detail leaked. */
export function asCacheError(error: unknown): CacheError {
  if (error instanceof CacheError) return error;
  return internalError();
}

/** A 500 that says nothing about its cause. */
export function internalError(): CacheError {
  return new CacheError(ErrorCode.Internal, 'Internal server error');
}

export function keyNotFound(): CacheError {
  return new CacheError(ErrorCode.KeyNotFound, 'Key not found');
}

/** A 405; the caller sets the `Allow` header its framework's way. */
export function methodNotAllowed(): CacheError {
  return new CacheError(ErrorCode.MethodNotAllowed, 'Method not allowed');
}

export function nodeUnavailable(): CacheError {
  return new CacheError(ErrorCode.NodeUnavailable, 'Cache node unavailable');
}

/** --backend-wait: fewer replicas than asked confirmed a write in time (the master may have applied it). */
export function notReplicated(replicas: number): CacheError {
  return new CacheError(ErrorCode.BackendUnavailable, `Backend did not confirm the write on ${replicas} replica(s) within --backend-timeout; it may have been applied`);
}

/** Redis's WRONGTYPE: the --backend holds a list, a hash or another non-string at the key. */
export function wrongType(): CacheError {
  return new CacheError(ErrorCode.WrongType, 'The backend holds a value of another type than a string at this key');
}

/** The --backend server is down, or did not answer within --backend-timeout. */
export function backendUnavailable(): CacheError {
  return new CacheError(ErrorCode.BackendUnavailable, 'Backend unavailable');
}

/**
 * One instance for every miss: an Error captures a stack trace when it is made, and a miss is an
 * answer, not a fault (GET miss, 3 nodes, medians: main thread 35.8 us a request against 39.3 with a new
 * error each time).
 */
const KEY_NOT_FOUND = keyNotFound();

const REFUSALS: Record<Refusal, [ErrorCode, string]> = {
  'not-integer': [ErrorCode.NotAnInteger, 'The value is not an integer, or not within 64 bits'],
  overflow: [ErrorCode.Overflow, 'The increment or decrement would overflow 64 bits'],
  'not-float': [ErrorCode.NotANumber, 'The value is not a number'],
  'not-finite': [ErrorCode.Overflow, 'The increment would make the value infinite or not a number'],
  'too-long': [ErrorCode.ValueTooLarge, 'The value would be larger than the limit (--max-value)'],
};

/** The error for a node's non-Ok status (`refused`: why an update was refused). */
export function statusError(status: Status, refused?: Refusal): CacheError {
  switch (status) {
    case Status.NotFound:
      return KEY_NOT_FOUND;
    case Status.Refused:
      return new CacheError(...REFUSALS[refused ?? 'not-integer']);
    case Status.TooLarge:
      return new CacheError(ErrorCode.ValueTooLarge, "Value is larger than a cache node's memory share");
    default:
      return internalError();
  }
}

export function batchTooLarge(): CacheError {
  return new CacheError(ErrorCode.ValueTooLarge, 'Request body is too large');
}

export function valueTooLarge(maxValue: number): CacheError {
  return new CacheError(ErrorCode.ValueTooLarge, `Value is larger than the limit of ${maxValue} bytes (--max-value)`);
}

/** A 413 for a value over --max-value. */
export function checkValueSize(bytes: number, maxValue: number): void {
  if (bytes > maxValue) throw valueTooLarge(maxValue);
}
