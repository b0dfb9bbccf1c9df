import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cluster } from './cluster.js';
import { asCacheError, CacheError, checkValueSize, ErrorCode, statusError } from './errors.js';
import { bytesToText, textToBytes } from './bytes.js';
import { Op, SetMode, Status } from './protocol.js';
import { checkKeyLength, parseQuery, parseTtl } from './query.js';
import type { ResultCallback } from './shard-client.js';

/**
 * The seed's three routes, `/get`, `/set` and `/del`, answered straight from node:http.
 *
 * They are the hot path, and Hono's Request/Response adaptation costs about 13% of throughput
 * there (constant-JSON handler, 50 connections, 4 rounds: node:http 40.2k req/s, Hono on
 * @hono/node-server 34.9k). Every other route goes through the Hono app (src/api.ts).
 * Bodies keep the seed's exact shapes and its trailing newline (Go's json.Encoder writes one).
 */
export const SEED_PATHS = new Set(['/get', '/set', '/del']);

const ALLOWED: Record<string, string> = { '/get': 'GET', '/set': 'POST', '/del': 'DELETE' };
const KEY_NOT_FOUND = new CacheError(ErrorCode.KeyNotFound, 'Key not found');

export class SeedRoutes {
  readonly #cluster: Cluster;
  readonly #maxValue: number;
  /** Set at shutdown: from then on every response closes its connection. */
  draining = false;

  constructor(cluster: Cluster, maxValue: number) {
    this.#cluster = cluster;
    this.#maxValue = maxValue;
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
    try {
      const allowed = ALLOWED[path]!;
      if (req.method !== allowed) {
        res.setHeader('allow', allowed);
        throw new CacheError(ErrorCode.MethodNotAllowed, 'Method not allowed');
      }
      const params = parseQuery(query);
      const key = params.get('key') ?? '';
      if (path === '/get') this.#get(res, key);
      else if (path === '/set') this.#set(res, key, params.get('value') ?? '', params.get('ttl'));
      else this.#delete(res, key);
    } catch (error) {
      this.#sendError(res, error);
    }
  }

  #get(res: ServerResponse, key: string): void {
    if (key === '') throw new CacheError(ErrorCode.MissingParameter, "Missing 'key' parameter");
    checkKeyLength(key);
    this.#cluster.dispatch(key, [Op.Get, key], this.#reply(res, (result, node) => {
      if (result.status !== Status.Ok) return this.#sendError(res, KEY_NOT_FOUND);
      const value = bytesToText(result.value!);
      this.#send(res, 200, `{"key":${JSON.stringify(key)},"value":${JSON.stringify(value)},"node":"${node}"}`);
    }));
  }

  #set(res: ServerResponse, key: string, value: string, ttl: string | undefined): void {
    if (key === '' || value === '') {
      throw new CacheError(ErrorCode.MissingParameter, "Both 'key' and 'value' parameters are required");
    }
    checkKeyLength(key);
    const bytes = textToBytes(value);
    checkValueSize(bytes.length, this.#maxValue);
    const command = [Op.Set, key, bytes, parseTtl(ttl), SetMode.Always] as const;
    this.#cluster.dispatch(key, command, this.#reply(res, (_result, node) => {
      this.#send(res, 201, `{"message":"Value set successfully","key":${JSON.stringify(key)},"node":"${node}"}`);
    }));
  }

  #delete(res: ServerResponse, key: string): void {
    if (key === '') throw new CacheError(ErrorCode.MissingParameter, '`key` parameter is required');
    checkKeyLength(key);
    // The seed answers 201 whether or not the key existed.
    this.#cluster.dispatch(key, [Op.Delete, key], this.#reply(res, (_result, node) => {
      this.#send(res, 201, `{"message":"Value deleted successfully","key":${JSON.stringify(key)},"node":"${node}"}`);
    }));
  }

  /** Turns a node's outcome into either `onResult` or an error response. */
  #reply(res: ServerResponse, onResult: (result: NonNullable<Parameters<ResultCallback>[1]>, node: string) => void): ResultCallback {
    return (error, result, node) => {
      if (error !== null) this.#sendError(res, error);
      else if (result!.status === Status.Ok || result!.status === Status.NotFound) onResult(result!, node);
      else this.#sendError(res, statusError(result!.status));
    };
  }

  #sendError(res: ServerResponse, error: unknown): void {
    const cacheError = asCacheError(error);
    this.#send(res, cacheError.status, JSON.stringify(cacheError));
  }

  /** Sends a JSON body followed by a newline, as the seed's encoder does. */
  #send(res: ServerResponse, status: number, json: string): void {
    if (this.draining) res.shouldKeepAlive = false;
    sendBody(res, status, `${json}\n`);
  }
}

/** Sends `body` as JSON from node:http, without the Hono app. */
export function sendJson(res: ServerResponse, status: number, body: object): void {
  sendBody(res, status, JSON.stringify(body));
}

function sendBody(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
