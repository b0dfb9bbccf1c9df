import type { IncomingMessage } from 'node:http';
import { CacheError, ErrorCode, statusError, valueTooLarge } from '../errors.js';
import { Want } from '../nodes/shared-reader.js';
import { SetIf } from '../core/mutation.js';
import { Op, Status, type Command } from '../core/protocol.js';
import { sharedClock } from '../core/shared-layout.js';
import { checkKeyLength, decodeSegment, parseFlag, parseQuery, parseTtl } from './query.js';
import { jsonString, RawRoutes, readBody, send, sendEmpty, type FastHandler, type Found, type FramedRequest, type Reply } from './respond.js';

const OCTETS = 'application/octet-stream';

/**
 * The binary-safe resource API, `/keys/:key` (GET, HEAD, PUT, DELETE) and `/keys/:key/ttl`,
 * straight from node:http like the seed routes: through Hono's Request/Response and web-stream
 * body this path ran at 0.10x (PUT) and 0.25x (GET) of the node:http floor for 1 KiB values.
 * Keys are percent-decoded path segments, so `a%2Fb` is the key `a/b`; a malformed escape is a
 * 400, never a silently different key. Values are raw bytes, stored as byte strings.
 */
export class KeyRoutes extends RawRoutes {
  readonly key: FastHandler = (req, res, params, query) => {
    const key = keyOf(params[0]!);
    const method = req.method;
    if (method === 'GET') this.#get(res, key);
    else if (method === 'HEAD') this.#head(res, key);
    else if (method === 'PUT') this.#put(req, res, key, parseQuery(query));
    else this.#delete(res, key);
  };

  readonly ttl: FastHandler = (_req, res, params) => this.#ttl(res, keyOf(params[0]!));

  #get(res: Reply, key: string): void {
    this.readKey(res, key, Want.Bytes, this.#found, this.notFound);
  }

  readonly #found: Found = (res, _key, value, _valueBytes, node) => {
    res.setHeader('x-cache-node', node);
    send(this.state, res, 200, value, OCTETS, 'latin1');
  };

  #head(res: Reply, key: string): void {
    this.readKey(res, key, Want.Nothing, this.#held, this.#notHeld);
  }

  readonly #held: Found = (res, _key, _value, valueBytes, node) => {
    sendEmpty(this.state, res, 200, { 'content-type': OCTETS, 'content-length': valueBytes, 'x-cache-node': node });
  };

  readonly #notHeld = (res: Reply): void => sendEmpty(this.state, res, 404);

  #ttl(res: Reply, key: string): void {
    this.data.dispatch(key, [Op.Ttl, key], this.whenOk(res, (result) => {
      const left = result.ttl ?? null;
      const body = left === null ? { ttl: null, ttlMs: null } : { ttl: Math.ceil(left / 1000), ttlMs: Math.round(left) };
      this.json(res, 200, JSON.stringify(body));
    }));
  }

  #delete(res: Reply, key: string): void {
    this.data.dispatch(key, [Op.Delete, key], this.whenOk(res, () => sendEmpty(this.state, res, 204)));
  }

  /** Reads the body, counting as it streams: past --max-value it is refused and dropped. */
  #put(req: IncomingMessage | FramedRequest, res: Reply, key: string, params: Map<string, string>): void {
    const condition = setCondition(params);
    const ttlMs = parseTtl(params.get('ttl'));
    readBody(req, this.maxValue, () => this.fail(res, valueTooLarge(this.maxValue)), (body) => {
      const value = body.toString('latin1');
      // NX / XX read and write the key in one step on its node (src/core/mutation.ts).
      const command: Command =
        condition === SetIf.Always ? [Op.Set, key, value, ttlMs] : [Op.Update, key, ['set', value, ttlMs === 0 ? 0 : sharedClock() + ttlMs, condition]];
      this.data.dispatch(key, command, this.whenOk(res, (result, node) => {
        if (result.count === 0) return this.fail(res, condition === SetIf.Absent ? new CacheError(ErrorCode.KeyExists, 'Key already exists') : statusError(Status.NotFound));
        this.json(res, 201, `{"message":"Value set successfully","key":${jsonString(key)},"node":"${node}"}`);
      }));
    });
  }
}

/** The key from its still-encoded path segment. */
export function keyOf(segment: string): string {
  const key = decodeSegment(segment, 'key');
  checkKeyLength(key);
  return key;
}

/** `nx` / `xx`: only if absent, only if present. */
function setCondition(params: Map<string, string>): SetIf {
  const nx = parseFlag(params, 'nx');
  const xx = parseFlag(params, 'xx');
  if (nx && xx) throw new CacheError(ErrorCode.BadRequest, 'nx and xx cannot both be set');
  return nx ? SetIf.Absent : xx ? SetIf.Present : SetIf.Always;
}
