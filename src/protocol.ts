/**
 * The messages between the main thread and a shard worker: one module imported by both sides.
 *
 * Every operation a worker receives in one event-loop turn of the main thread travels in one
 * {@link BatchRequest}, and all of their results come back in one {@link BatchReply}, in order.
 * A postMessage costs more than the map lookup it carries, so batching is what lets the shards
 * keep up with the HTTP layer. Messages hold plain data only: errors cross as a {@link Status}.
 */

export const Op = {
  Get: 1,
  Set: 2,
  Delete: 3,
  Info: 4,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

export type Command =
  | readonly [op: typeof Op.Get, key: string]
  | readonly [op: typeof Op.Set, key: string, value: string]
  | readonly [op: typeof Op.Delete, key: string]
  | readonly [op: typeof Op.Info];

export const Status = {
  Ok: 0,
  NotFound: 1,
  /** The worker could not apply the command (bad command); the message says why. */
  Failed: 2,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** A store's counters since the node started. */
export interface StoreStats {
  keys: number;
  hits: number;
  misses: number;
  evictions: number;
  sets: number;
  deletes: number;
}

/** One node's figures, as `GET /nodes` shows them. */
export interface NodeInfo extends StoreStats {
  id: string;
  threadId: number;
  /** The highest ring version this worker has seen, from an announcement or a routed request. */
  ringVersion: number;
  heapUsedBytes: number;
}

export type Result =
  | { status: typeof Status.Ok; value?: string; info?: NodeInfo }
  | { status: typeof Status.NotFound }
  | { status: typeof Status.Failed; message: string };

export interface BatchRequest {
  type: 'batch';
  id: number;
  /** The ring version the commands were routed with. */
  ringVersion: number;
  commands: Command[];
}

export interface BatchReply {
  type: 'batch';
  id: number;
  results: Result[];
}

/** Membership as the main thread announces it on the cluster channel and to new workers. */
export interface RingAnnouncement {
  type: 'ring';
  version: number;
  nodes: string[];
}

/** What a plain shard worker posts once its store and channel are set up. */
export interface ReadyMessage {
  type: 'ready';
  id: string;
  threadId: number;
}

export type ToWorker = BatchRequest | RingAnnouncement;
export type FromWorker = BatchReply | ReadyMessage;

/** Messages on the `cluster` BroadcastChannel. */
export type ClusterEvent = RingAnnouncement;

export const CLUSTER_CHANNEL = 'cluster';

/** What every shard worker is started with. */
export interface ShardConfig {
  id: string;
  /** Maximum entries held; least recently used are evicted beyond it. 0 = no count limit. */
  maxEntries: number;
  /** The ring as it was when the worker was started. */
  ring: RingAnnouncement;
}
