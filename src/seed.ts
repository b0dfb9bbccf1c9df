import type { IncomingMessage, ServerResponse } from 'node:http';
import { bytesToText, textToBytes } from './bytes.js';
import { CacheError, checkValueSize, ErrorCode, methodNotAllowed } from './errors.js';
import { Op, SetMode } from './protocol.js';
import { checkKeyLength, parseQuery, parseTtl } from './query.js';
import { RawRoutes, type RouteContext } from './raw-http.js';

/**
 * The seed's three routes, `/get`, `/set` and `/del`, answered straight from node:http.
 *
 * They are the hot path, and Hono's Request/Response adaptation costs about 13% of throughput
 * there (constant-JSON handler, 50 connections, 4 rounds: node:http 40.2k req/s, Hono on
 * @hono/node-server 34.9k). The admin and batch routes go through the Hono app (src/api.ts).
 * Bodies keep the seed's exact shapes and its trailing newline.
 */
export const SEED_PATHS = new Set(['/get', '/set', '/del']);

const ALLOWED: Record<string, string> = { '/get': 'GET', '/set': 'POST', '/del': 'DELETE' };
export class SeedRoutes extends RawRoutes {
  constructor(context: RouteContext) {
    // Seed bodies end with a newline, as Go's json.Encoder writes them.
    super(context, '\n');
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
    try {
      const allowed = ALLOWED[path]!;
      if (req.method !== allowed) {
        res.setHeader('allow', allowed);
        throw methodNotAllowed();
      }
      const params = parseQuery(query);
      const key = params.get('key') ?? '';
      if (path === '/get') this.#get(res, key);
      else if (path === '/set') this.#set(res, key, params.get('value') ?? '', params.get('ttl'));
      else this.#delete(res, key);
    } catch (error) {
      this.fail(res, error);
    }
  }

  #get(res: ServerResponse, key: string): void {
    if (key === '') throw new CacheError(ErrorCode.MissingParameter, "Missing 'key' parameter");
    checkKeyLength(key);
    this.cluster.dispatch(key, [Op.Get, key], this.whenOk(res, (result, node) => {
      const value = bytesToText(result.value!);
      this.json(res, 200, `{"key":${JSON.stringify(key)},"value":${JSON.stringify(value)},"node":"${node}"}`);
    }));
  }

  #set(res: ServerResponse, key: string, value: string, ttl: string | undefined): void {
    if (key === '' || value === '') {
      throw new CacheError(ErrorCode.MissingParameter, "Both 'key' and 'value' parameters are required");
    }
    checkKeyLength(key);
    const bytes = textToBytes(value);
    checkValueSize(bytes.length, this.maxValue);
    const command = [Op.Set, key, bytes, parseTtl(ttl), SetMode.Always] as const;
    this.cluster.dispatch(key, command, this.whenOk(res, (_result, node) => {
      this.json(res, 201, `{"message":"Value set successfully","key":${JSON.stringify(key)},"node":"${node}"}`);
    }));
  }

  #delete(res: ServerResponse, key: string): void {
    if (key === '') throw new CacheError(ErrorCode.MissingParameter, '`key` parameter is required');
    checkKeyLength(key);
    // The seed answers 201 whether or not the key existed.
    this.cluster.dispatch(key, [Op.Delete, key], this.whenOkOrMissing(res, (_result, node) => {
      this.json(res, 201, `{"message":"Value deleted successfully","key":${JSON.stringify(key)},"node":"${node}"}`);
    }));
  }
}
