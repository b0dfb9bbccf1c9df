import { Buffer } from 'node:buffer';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { DataPath } from '../cluster/data-path.js';
import type { KeyspaceOps } from '../cluster/keyspace.js';
import type { MultiKeyOps } from '../cluster/multi-key.js';
import { asCacheError, statusError, type CacheError } from '../errors.js';
import { Op, Status, type OkResult, type Result } from '../core/protocol.js';
import type { ResultCallback } from '../nodes/node-client.js';
import { Want } from '../nodes/shared-reader.js';
import { bytesToText } from '../bytes.js';

/**
 * Writing answers straight from node:http, for the routes that bypass the Hono app because they
 * are the hot path (src/http/seed.ts, key-routes.ts, batch-routes.ts).
 */
export interface ServerState {
  /** Set at shutdown: from then on every response closes its connection. */
  draining: boolean;
}

/** What the node:http routes share: the data path, the value limit and the server's state. */
export interface RouteContext {
  data: DataPath;
  /** Writes of several keys as one step (/mset). */
  multi: MultiKeyOps;
  /** Scans (GET /keys). */
  keyspace: KeyspaceOps;
  /** --max-value in bytes. */
  maxValue: number;
  state: ServerState;
}

/**
 * What a data route writes its answer through: node's ServerResponse, or the fast path's answer
 * (src/http/fast/answer.ts), which turns the same calls into the bytes node would send.
 */
export interface Reply {
  shouldKeepAlive: boolean;
  setHeader(name: string, value: string | number): unknown;
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  end(body?: string, encoding?: BufferEncoding): unknown;
}

/** A request the fast path framed itself: its method and its whole body, already read. */
export interface FramedRequest {
  readonly method: string;
  readonly body: Buffer;
}

/**
 * A node:http route's handler: its `:name` path segments (still encoded) and its query string.
 * What it throws before it hands the request on (bad input) is answered as an error by its
 * caller (src/http/handler.ts).
 */
export type RawHandler = (req: IncomingMessage, res: ServerResponse, params: readonly string[], query: string) => void;

/** A handler the fast path runs too: it needs no more of a request than a {@link FramedRequest} has, nor of its answer than a {@link Reply}. */
export type FastHandler = (req: IncomingMessage | FramedRequest, res: Reply, params: readonly string[], query: string) => void;

export function send(
  state: ServerState,
  res: Reply,
  status: number,
  body: string,
  contentType = 'application/json',
  encoding: BufferEncoding = 'utf8',
): void {
  if (state.draining) res.shouldKeepAlive = false;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body, encoding) });
  res.end(body, encoding);
}

/** Printable ASCII but `"` and `\`: what JSON.stringify writes as it is. */
const PLAIN_JSON = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * A string as a JSON string literal, as JSON.stringify writes it. Most keys and values need no
 * escape, and a regular expression's test is cheaper than JSON.stringify's call into C++ (two a
 * /get answer: 330 against 200 ns per body with its byte length, 2,000,000 bodies).
 */
export function jsonString(text: string): string {
  return PLAIN_JSON.test(text) ? `"${text}"` : JSON.stringify(text);
}

/**
 * An error as `{"error": ..., "code": ...}` and a newline (as the seed's encoder ended every
 * body), with its status. Every error the server answers, whichever layer raises it, has this shape.
 */
export function sendError(state: ServerState, res: Reply, error: unknown): void {
  const cacheError = asCacheError(error);
  send(state, res, cacheError.status, errorBody(cacheError));
}

export function errorBody(error: CacheError): string {
  return `${JSON.stringify(error)}\n`;
}

/**
 * Reads a request body, counting as it streams: past `limit` bytes `onTooLarge` runs once and the
 * rest is read and dropped (closing under a client that is still sending would reset the
 * connection and lose the answer). A client that goes away mid-body just leaves.
 */
export function readBody(req: IncomingMessage | FramedRequest, limit: number, onTooLarge: () => void, onBody: (body: Buffer) => void): void {
  // Framed by the fast path: whole, and within the limit (it hands longer ones to node:http).
  if ('body' in req) return onBody(req.body);
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > limit) {
      refused = true;
      chunks.length = 0;
      onTooLarge();
      return;
    }
    chunks.push(chunk);
  });
  req.on('error', () => undefined);
  req.on('end', () => {
    if (!refused) onBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
}

/** An answer with no body (HEAD, 204). */
export function sendEmpty(state: ServerState, res: Reply, status: number, headers: OutgoingHttpHeaders = {}): void {
  if (state.draining) res.shouldKeepAlive = false;
  res.writeHead(status, headers);
  res.end();
}

/**
 * What a read of a key found: the value (decoded as the read asked; empty for {@link Want.Nothing}),
 * its length in bytes, and the node that answered. Routes pass methods kept as fields, so that
 * a read allocates no closure when shared memory answers it.
 */
export type Found = (res: Reply, key: string, value: string, valueBytes: number, node: string) => void;

/**
 * The base of the node:http route classes: what they share, set once, and the one place where a
 * node's outcome becomes either the route's answer or an error answer.
 */
export abstract class RawRoutes {
  protected readonly data: DataPath;
  protected readonly multi: MultiKeyOps;
  protected readonly keyspace: KeyspaceOps;
  /** --max-value in bytes. */
  protected readonly maxValue: number;
  protected readonly state: ServerState;
  /** Appended to every JSON body it answers with (the seed's encoder ended each with a newline). */
  readonly #suffix: string;

  constructor({ data, multi, keyspace, maxValue, state }: RouteContext, suffix = '') {
    this.data = data;
    this.multi = multi;
    this.keyspace = keyspace;
    this.maxValue = maxValue;
    this.state = state;
    this.#suffix = suffix;
  }

  /**
   * Reads a key from its node's shared memory when it can, else by message (Get, or Exists for
   * {@link Want.Nothing}): `found` with what it holds, `missing` when it is not held. The one way
   * the node:http routes read a key.
   */
  protected readKey(res: Reply, key: string, want: Want, found: Found, missing: (res: Reply) => void): void {
    const local = this.data.local.read(key, want);
    if (local === null) return missing(res);
    if (local !== undefined) return found(res, key, local.value, local.valueBytes, local.node);
    this.data.dispatch(key, [want === Want.Nothing ? Op.Exists : Op.Get, key], this.whenOkOrMissing(res, (result, node) => {
      if (result.status !== Status.Ok) return missing(res);
      if (result.stale === true) res.setHeader('x-cache-stale', '1');
      const value = result.value ?? '';
      found(res, key, want === Want.Text ? bytesToText(value) : value, result.valueBytes ?? value.length, node);
    }));
  }

  /** The 404 of a key not held, as a JSON error. */
  protected readonly notFound = (res: Reply): void => this.fail(res, statusError(Status.NotFound));

  /** A node callback: Ok goes to `onOk`; any other outcome is answered with its error. */
  protected whenOk(res: Reply, onOk: (result: OkResult, node: string) => void): ResultCallback {
    return this.#reply(res, onOk as (result: Result, node: string) => void, false);
  }

  /** As {@link whenOk}, but NotFound goes to the route too, for routes that answer it themselves. */
  protected whenOkOrMissing(res: Reply, onResult: (result: Result, node: string) => void): ResultCallback {
    return this.#reply(res, onResult, true);
  }

  protected json(res: Reply, status: number, json: string): void {
    send(this.state, res, status, json + this.#suffix);
  }

  protected fail(res: Reply, error: unknown): void {
    sendError(this.state, res, error);
  }

  #reply(res: Reply, handle: (result: Result, node: string) => void, missingToo: boolean): ResultCallback {
    return (error, result, node) => {
      if (error !== null) this.fail(res, error);
      else if (result!.status === Status.Ok || (missingToo && result!.status === Status.NotFound)) handle(result!, node);
      else this.fail(res, statusError(result!.status, result!.status === Status.Refused ? result!.refused : undefined));
    };
  }
}
