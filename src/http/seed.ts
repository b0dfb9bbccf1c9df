import { textToBytes } from '../bytes.js';
import { CacheError, checkValueSize, ErrorCode } from '../errors.js';
import { Op } from '../core/protocol.js';
import { Want } from '../nodes/shared-reader.js';
import { checkKeyLength, parseQuery, parseTtl } from './query.js';
import { jsonString, RawRoutes, type FastHandler, type Found, type Reply, type RouteContext } from './respond.js';

/**
 * The seed's three routes, `/get`, `/set` and `/del` (src/http/routes.ts), answered straight from
 * node:http or the fast path (src/http/fast/). Bodies keep the seed's exact shapes and its trailing newline. Values come from the
 * query string only, as in the seed.
 */
export class SeedRoutes extends RawRoutes {
  constructor(context: RouteContext) {
    // Seed bodies end with a newline, as Go's json.Encoder writes them.
    super(context, '\n');
  }

  readonly get: FastHandler = (_req, res, _params, query) => this.#get(res, keyOf(parseQuery(query)));

  readonly set: FastHandler = (_req, res, _params, query) => {
    const params = parseQuery(query);
    this.#set(res, keyOf(params), params.get('value') ?? '', params.get('ttl'));
  };

  readonly delete: FastHandler = (_req, res, _params, query) => this.#delete(res, keyOf(parseQuery(query)));

  #get(res: Reply, key: string): void {
    if (key === '') throw new CacheError(ErrorCode.MissingParameter, "Missing 'key' parameter");
    checkKeyLength(key);
    this.readKey(res, key, Want.Text, this.#found, this.notFound);
  }

  readonly #found: Found = (res, key, text, _valueBytes, node) => {
    this.json(res, 200, `{"key":${jsonString(key)},"value":${jsonString(text)},"node":"${node}"}`);
  };

  #set(res: Reply, key: string, value: string, ttl: string | undefined): void {
    if (key === '' || value === '') {
      throw new CacheError(ErrorCode.MissingParameter, "Both 'key' and 'value' parameters are required");
    }
    checkKeyLength(key);
    const bytes = textToBytes(value);
    checkValueSize(bytes.length, this.maxValue);
    const command = [Op.Set, key, bytes, parseTtl(ttl)] as const;
    this.data.dispatch(key, command, this.whenOk(res, (_result, node) => {
      this.json(res, 201, `{"message":"Value set successfully","key":${jsonString(key)},"node":"${node}"}`);
    }));
  }

  #delete(res: Reply, key: string): void {
    if (key === '') throw new CacheError(ErrorCode.MissingParameter, '`key` parameter is required');
    checkKeyLength(key);
    // The seed answers 201 whether or not the key existed.
    this.data.dispatch(key, [Op.Delete, key], this.whenOkOrMissing(res, (_result, node) => {
      this.json(res, 201, `{"message":"Value deleted successfully","key":${jsonString(key)},"node":"${node}"}`);
    }));
  }
}

function keyOf(params: Map<string, string>): string {
  return params.get('key') ?? '';
}
