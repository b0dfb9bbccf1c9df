import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { bufferToBytes, bytesToBuffer } from './bytes.js';
import type { Cluster } from './cluster.js';
import { CacheError, checkValueSize, ErrorCode, statusError, valueTooLarge } from './errors.js';
import { Op, SetMode, Status } from './protocol.js';
import { checkKeyLength, parseQuery, parseTtl } from './query.js';

/**
 * The binary-safe resource API: `/keys/:key` (GET, HEAD, PUT, DELETE) and `/keys/:key/ttl`.
 * Keys are percent-decoded path segments, so `a%2Fb` is the key `a/b`; the segment is read from
 * the raw URL and decoded strictly (a malformed escape is a 400, never a silently different key).
 */
export function registerKeyRoutes(app: Hono, cluster: Cluster, maxValue: number): void {
  app.put(
    '/keys/*',
    bodyLimit({
      maxSize: maxValue,
      onError: () => {
        throw valueTooLarge(maxValue);
      },
    }),
    async (c) => {
      const { key, ttl } = keyPath(c);
      if (ttl) throw new CacheError(ErrorCode.MethodNotAllowed, 'Method not allowed');
      const params = parseQuery(queryOf(c.req.url));
      const mode = setMode(params);
      const ttlMs = parseTtl(params.get('ttl'));
      const value = bufferToBytes(new Uint8Array(await c.req.arrayBuffer()));
      checkValueSize(value.length, maxValue);
      const { result, node } = await cluster.run(key, [Op.Set, key, value, ttlMs, mode]);
      if (result.status !== Status.Ok) throw statusError(result.status);
      return c.json({ message: 'Value set successfully', key, node }, 201);
    },
  );

  // HEAD arrives here too (Hono routes it to GET and drops the body).
  app.get('/keys/*', async (c) => {
    const { key, ttl } = keyPath(c);
    if (ttl) {
      const { result } = await cluster.run(key, [Op.Ttl, key]);
      const left = result.status === Status.Ok ? result.ttl : undefined;
      if (left === undefined) throw notFound();
      return c.json({ ttl: left === null ? null : Math.ceil(left / 1000), ttlMs: left === null ? null : Math.round(left) });
    }
    if (c.req.method === 'HEAD') {
      const { result, node } = await cluster.run(key, [Op.Exists, key]);
      if (result.status !== Status.Ok) return c.body(null, 404);
      return c.body(null, 200, {
        'content-type': 'application/octet-stream',
        'content-length': String(result.size ?? 0),
        'x-cache-node': node,
      });
    }
    const { result, node } = await cluster.run(key, [Op.Get, key]);
    if (result.status !== Status.Ok) throw notFound();
    return c.body(bytesToBuffer(result.value ?? ''), 200, {
      'content-type': 'application/octet-stream',
      'x-cache-node': node,
    });
  });

  app.delete('/keys/*', async (c) => {
    const { key, ttl } = keyPath(c);
    if (ttl) throw new CacheError(ErrorCode.MethodNotAllowed, 'Method not allowed');
    const { result } = await cluster.run(key, [Op.Delete, key]);
    if (result.status !== Status.Ok) throw notFound();
    return c.body(null, 204);
  });

  app.all('/keys/*', (c) => {
    c.header('allow', 'GET, HEAD, PUT, DELETE');
    throw new CacheError(ErrorCode.MethodNotAllowed, 'Method not allowed');
  });
}

const notFound = (): CacheError => new CacheError(ErrorCode.KeyNotFound, 'Key not found');

function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

/** The key (and whether `/ttl` follows it) from the raw, still-encoded request path. */
function keyPath(c: Context): { key: string; ttl: boolean } {
  const url = c.req.url;
  const start = url.indexOf('/keys/', url.indexOf('://') + 3) + '/keys/'.length;
  const q = url.indexOf('?', start);
  const segments = url.slice(start, q < 0 ? undefined : q).split('/');
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
