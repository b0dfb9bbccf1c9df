import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cluster } from './cluster.js';
import { asCacheError, CacheError, ErrorCode } from './errors.js';
import { checkKeyLength, parseQuery } from './query.js';

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

export function handleSeed(cluster: Cluster, req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
  let params: Map<string, string>;
  try {
    const allowed = ALLOWED[path]!;
    if (req.method !== allowed) {
      res.setHeader('allow', allowed);
      throw new CacheError(ErrorCode.MethodNotAllowed, 'Method not allowed');
    }
    params = parseQuery(query);
  } catch (error) {
    sendError(res, error);
    return;
  }
  route(cluster, path, params).then(
    ([status, body]) => sendLine(res, status, body),
    (error: unknown) => sendError(res, error),
  );
}

async function route(cluster: Cluster, path: string, params: Map<string, string>): Promise<[number, string]> {
  const key = params.get('key') ?? '';
  if (path === '/get') {
    if (key === '') throw new CacheError(ErrorCode.MissingParameter, "Missing 'key' parameter");
    checkKeyLength(key);
    const hit = await cluster.get(key);
    if (hit === undefined) throw new CacheError(ErrorCode.KeyNotFound, 'Key not found');
    return [200, `{"key":${JSON.stringify(key)},"value":${JSON.stringify(hit.value)},"node":${JSON.stringify(hit.node)}}`];
  }
  if (path === '/set') {
    const value = params.get('value') ?? '';
    if (key === '' || value === '') {
      throw new CacheError(ErrorCode.MissingParameter, "Both 'key' and 'value' parameters are required");
    }
    checkKeyLength(key);
    const node = await cluster.set(key, value);
    return [201, `{"message":"Value set successfully","key":${JSON.stringify(key)},"node":${JSON.stringify(node)}}`];
  }
  if (key === '') throw new CacheError(ErrorCode.MissingParameter, '`key` parameter is required');
  checkKeyLength(key);
  const { node } = await cluster.delete(key);
  // The seed answers 201 whether or not the key existed.
  return [201, `{"message":"Value deleted successfully","key":${JSON.stringify(key)},"node":${JSON.stringify(node)}}`];
}

function sendError(res: ServerResponse, error: unknown): void {
  const cacheError = asCacheError(error);
  sendLine(res, cacheError.status, JSON.stringify(cacheError));
}

/** Sends a JSON body followed by a newline, as the seed's encoder does. */
export function sendLine(res: ServerResponse, status: number, json: string): void {
  const body = `${json}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
