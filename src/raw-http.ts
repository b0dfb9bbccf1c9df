import type { ServerResponse } from 'node:http';
import type { Cluster } from './cluster.js';
import { asCacheError, statusError } from './errors.js';
import { Status, type Result } from './protocol.js';
import type { ResultCallback } from './shard-client.js';

/**
 * Writing answers straight from node:http, for the routes that bypass the Hono app because they
 * are the hot path (src/seed.ts, src/key-routes.ts).
 */
export interface ServerState {
  /** Set at shutdown: from then on every response closes its connection. */
  draining: boolean;
}

/** What the node:http routes share: the cluster, the value limit and the server's state. */
export interface RouteContext {
  cluster: Cluster;
  /** --max-value in bytes. */
  maxValue: number;
  state: ServerState;
}

export function send(
  state: ServerState,
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'application/json',
  encoding: BufferEncoding = 'utf8',
): void {
  if (state.draining) res.shouldKeepAlive = false;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body, encoding) });
  res.end(body, encoding);
}

/** An error as `{"error": ..., "code": ...}` with its status; `suffix` is the seed's newline. */
export function sendError(state: ServerState, res: ServerResponse, error: unknown, suffix = ''): void {
  const cacheError = asCacheError(error);
  send(state, res, cacheError.status, JSON.stringify(cacheError) + suffix);
}

/**
 * A node callback that answers errors itself (transport failures and the statuses Exists,
 * TooLarge, Failed) and hands Ok / NotFound results to `onResult`.
 */
export function replyTo(
  state: ServerState,
  res: ServerResponse,
  onResult: (result: Result, node: string) => void,
  suffix = '',
): ResultCallback {
  return (error, result, node) => {
    if (error !== null) sendError(state, res, error, suffix);
    else if (result!.status === Status.Ok || result!.status === Status.NotFound) onResult(result!, node);
    else sendError(state, res, statusError(result!.status), suffix);
  };
}

/** The base of the node:http route classes: what they share, set once. */
export abstract class RawRoutes {
  protected readonly cluster: Cluster;
  /** --max-value in bytes. */
  protected readonly maxValue: number;
  protected readonly state: ServerState;

  constructor({ cluster, maxValue, state }: RouteContext) {
    this.cluster = cluster;
    this.maxValue = maxValue;
    this.state = state;
  }
}
