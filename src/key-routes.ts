import type { IncomingMessage, ServerResponse } from 'node:http';
import { CacheError, ErrorCode, methodNotAllowed, valueTooLarge } from './errors.js';
import { Op, SetMode, Status } from './protocol.js';
import { checkKeyLength, parseQuery, parseTtl } from './query.js';
import { RawRoutes, readBody, send, sendEmpty } from './raw-http.js';

const PREFIX = '/keys/';
const ALLOW = 'GET, HEAD, PUT, DELETE';
const OCTETS = 'application/octet-stream';

/**
 * The binary-safe resource API, `/keys/:key` (GET, HEAD, PUT, DELETE) and `/keys/:key/ttl`,
 * straight from node:http like the seed routes: through Hono's Request/Response and web-stream
 * body this path ran at 0.10x (PUT) and 0.25x (GET) of the node:http floor for 1 KiB values.
 * Keys are percent-decoded path segments, so `a%2Fb` is the key `a/b`; a malformed escape is a
 * 400, never a silently different key. Values are raw bytes, stored as byte strings.
 */
export class KeyRoutes extends RawRoutes {
  static matches(path: string): boolean {
    return path.startsWith(PREFIX);
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
    try {
      const { key, ttl } = keyPath(path);
      const method = req.method;
      if (ttl && method === 'GET') this.#ttl(res, key);
      else if (ttl) throw allow(res, 'GET');
      else if (method === 'GET') this.#get(res, key);
      else if (method === 'HEAD') this.#head(res, key);
      else if (method === 'PUT') this.#put(req, res, key, parseQuery(query));
      else if (method === 'DELETE') this.#delete(res, key);
      else throw allow(res, ALLOW);
    } catch (error) {
      this.fail(res, error);
    }
  }

  #get(res: ServerResponse, key: string): void {
    this.cluster.dispatch(key, [Op.Get, key], this.whenOk(res, (result, node) => {
      res.setHeader('x-cache-node', node);
      send(this.state, res, 200, result.value!, OCTETS, 'latin1');
    }));
  }

  #head(res: ServerResponse, key: string): void {
    this.cluster.dispatch(key, [Op.Exists, key], this.whenOkOrMissing(res, (result, node) => {
      if (result.status !== Status.Ok) return sendEmpty(this.state, res, 404);
      sendEmpty(this.state, res, 200, { 'content-type': OCTETS, 'content-length': result.size ?? 0, 'x-cache-node': node });
    }));
  }

  #ttl(res: ServerResponse, key: string): void {
    this.cluster.dispatch(key, [Op.Ttl, key], this.whenOk(res, (result) => {
      const left = result.ttl ?? null;
      const body = left === null ? { ttl: null, ttlMs: null } : { ttl: Math.ceil(left / 1000), ttlMs: Math.round(left) };
      this.json(res, 200, JSON.stringify(body));
    }));
  }

  #delete(res: ServerResponse, key: string): void {
    this.cluster.dispatch(key, [Op.Delete, key], this.whenOk(res, () => sendEmpty(this.state, res, 204)));
  }

  /** Reads the body, counting as it streams: past --max-value it is refused and dropped. */
  #put(req: IncomingMessage, res: ServerResponse, key: string, params: Map<string, string>): void {
    const mode = setMode(params);
    const ttlMs = parseTtl(params.get('ttl'));
    readBody(req, this.maxValue, () => this.fail(res, valueTooLarge(this.maxValue)), (body) => {
      this.cluster.dispatch(key, [Op.Set, key, body.toString('latin1'), ttlMs, mode], this.whenOk(res, (_result, node) => {
        this.json(res, 201, `{"message":"Value set successfully","key":${JSON.stringify(key)},"node":"${node}"}`);
      }));
    });
  }
}

function allow(res: ServerResponse, methods: string): CacheError {
  res.setHeader('allow', methods);
  return methodNotAllowed();
}

/** The key (and whether `/ttl` follows it) from the still-encoded request path. */
function keyPath(path: string): { key: string; ttl: boolean } {
  const segments = path.slice(PREFIX.length).split('/');
  const ttl = segments.length === 2 && segments[1] === 'ttl';
  if (segments.length > (ttl ? 2 : 1)) {
    throw new CacheError(ErrorCode.NotFound, "Endpoint not found (encode a '/' inside a key as %2F)");
  }
  let key: string;
  try {
    key = decodeURIComponent(segments[0]!);
  } catch {
    throw new CacheError(ErrorCode.BadRequest, 'Malformed percent-encoding in the key');
  }
  if (key === '') throw new CacheError(ErrorCode.MissingParameter, 'The key must not be empty');
  checkKeyLength(key);
  return { key, ttl };
}

/** `nx` / `xx` are flags: present (with no value, 1 or true) or absent. */
function setMode(params: Map<string, string>): SetMode {
  const flag = (name: string): boolean => {
    const value = params.get(name);
    if (value === undefined || value === 'false' || value === '0') return false;
    if (value === '' || value === 'true' || value === '1') return true;
    throw new CacheError(ErrorCode.BadRequest, `${name} is a flag: give it no value, 1 or true; got '${value}'`);
  };
  const nx = flag('nx');
  const xx = flag('xx');
  if (nx && xx) throw new CacheError(ErrorCode.BadRequest, 'nx and xx cannot both be set');
  return nx ? SetMode.IfAbsent : xx ? SetMode.IfPresent : SetMode.Always;
}
