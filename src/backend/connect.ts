import { Cluster, Redis, type RedisOptions } from './ioredis.js';
import type { BackendAddress } from './url.js';

/** Longest wait between reconnection attempts. */
const MAX_BACKOFF_MS = 2000;

/** What the link uses of a connection, whether to one server or to a Cluster (ioredis's Redis or Cluster). */
export type Connection = Redis | Cluster;

/**
 * The options every connection to the backend has: its credentials, RESP2 (ioredis 6 speaks RESP3
 * but drops the invalidation pushes), and nothing queued while it is down, so that a request is
 * answered 503 at once rather than when --backend-timeout runs out.
 */
export function serverOptions(address: BackendAddress, timeoutMs: number, name: string): RedisOptions {
  return {
    ...(address.username === undefined ? {} : { username: address.username }),
    ...(address.password === undefined ? {} : { password: address.password }),
    db: address.db,
    protocol: 2,
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_BACKOFF_MS),
  };
}

/**
 * A connection for commands: to the one server, or a Cluster client that routes each by its key's
 * slot. `queue`: commands wait for it while it is down (the pub/sub relay's subscriptions).
 */
export function connect(address: BackendAddress, timeoutMs: number, name: string, queue = false): Connection {
  const options = { ...serverOptions(address, timeoutMs, name), enableOfflineQueue: queue };
  if (address.kind === 'server') return new Redis({ ...options, ...address.nodes[0]!, lazyConnect: true });
  return new Cluster(address.nodes, {
    redisOptions: options,
    lazyConnect: true,
    enableOfflineQueue: queue,
    // Reads go to masters: a replica may lag behind the writes this server has acknowledged.
    scaleReads: 'master',
    clusterRetryStrategy: (attempt) => Math.min(attempt * 100, MAX_BACKOFF_MS),
    // A master that died is only left behind once the slots are asked for again: with nothing
    // queued and no retries, a failed command alone would not make ioredis ask.
    slotsRefreshInterval: 1000,
  });
}

/** A connection to one node (a tracker, a master of a Cluster), with the backend's credentials. */
export function connectNode(address: BackendAddress, node: { host: string; port: number }, timeoutMs: number, name: string): Redis {
  return new Redis({ ...serverOptions(address, timeoutMs, name), ...node, db: address.kind === 'cluster' ? 0 : address.db, lazyConnect: true });
}
