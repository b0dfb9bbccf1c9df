import type { Held, Mutation, Refusal } from './mutation.js';
import type { RingLayout } from './ring.js';
import type { SharedUpdate } from './shared-layout.js';

/**
 * The messages between the main thread and a node thread: one module imported by both sides.
 *
 * Every operation a worker receives in one event-loop turn of the main thread travels in one
 * {@link BatchRequest}, and all of their results come back in one {@link BatchReply}, in order.
 * A postMessage costs more than the map lookup it carries, so batching is what lets the nodes
 * keep up with the HTTP layer. Messages hold plain data only: errors cross as a {@link Status}.
 */

export const Op = {
  Get: 1,
  Set: 2,
  Delete: 3,
  Info: 4,
  /** Whether the key is held; Ok carries the value's length as `valueBytes`. */
  Exists: 5,
  /** Milliseconds left; Ok carries `ttl` (null = no expiry). */
  Ttl: 6,
  /** Empties the node, once per epoch (the same epoch also arrives on the cluster channel). */
  Flush: 7,
  /** Starts a pass over a snapshot of the node's keys for a {@link ScanPlan}; Ok carries `scan`. */
  ScanStart: 8,
  /** The next bounded chunk of the current pass; Ok carries `scan`. */
  ScanNext: 9,
  /** Ends the thread the way a fault would (only sent with --enable-debug). */
  Crash: 10,
  /** Stores keys handed over from other nodes (a chunk of a pass); Ok carries how many were stored as `stored`. */
  Restore: 11,
  /** The values of several keys (for /mget); Ok carries `values`, null where a key is absent. */
  GetMany: 12,
  /** Ok; the batch's reply carries all of the node's shared memory (for a reader starting from nothing). */
  Shared: 13,
  /**
   * A read-modify-write of one key (src/core/mutation.ts), applied in one step. Ok carries the
   * client's `value` / `count` and, if the key changed, `next`: what the other owners must copy.
   */
  Update: 14,
  /** The node's keys whose scan place (src/core/scan-order.ts) is in [from, to), matching a glob (null: all); Ok carries `keys`. */
  Keys: 15,
  /** A random key of the node; Ok carries it as `keys[0]`, NotFound if it holds none. */
  RandomKey: 16,
  /** A key's value and expiry, not counted as a read (RENAME, COPY); Ok carries `value` and `ttl` (null = none). */
  Dump: 17,
  /** Milliseconds since the key was last read or written, not counted as a use (OBJECT IDLETIME); Ok carries `idleMs`. */
  Idle: 18,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/**
 * Values are byte strings: one character per byte (0-255). V8 keeps them as one-byte strings,
 * so they cost their length in memory and cross threads as a copy of their bytes.
 */
export type Command =
  | readonly [op: typeof Op.Get, key: string]
  /** An unconditional write; NX, XX and the rest are {@link Op.Update}s. */
  | readonly [op: typeof Op.Set, key: string, value: string, ttlMs: number, event?: KeyEventName]
  | readonly [op: typeof Op.Delete, key: string, event?: KeyEventName]
  | readonly [op: typeof Op.Exists, key: string]
  | readonly [op: typeof Op.Ttl, key: string]
  | readonly [op: typeof Op.Flush, epoch: number]
  | readonly [op: typeof Op.Info]
  | readonly [op: typeof Op.ScanStart, plan: ScanPlan]
  | readonly [op: typeof Op.ScanNext, maxKeys: number, maxBytes: number]
  | readonly [op: typeof Op.Crash, how: CrashKind]
  | readonly [op: typeof Op.Restore, entries: Copy[]]
  | readonly [op: typeof Op.GetMany, keys: string[]]
  | readonly [op: typeof Op.Shared]
  | readonly [op: typeof Op.Update, key: string, mutation: Mutation]
  | readonly [op: typeof Op.Keys, from: number, to: number, pattern: string | null]
  | readonly [op: typeof Op.RandomKey]
  | readonly [op: typeof Op.Dump, key: string]
  | readonly [op: typeof Op.Idle, key: string];

/** A key's copy: value and milliseconds left (0 = no expiry). */
export type Copy = [key: string, value: string, ttlMs: number];

/** The faults POST /debug/crash/:id can inject. */
export const CRASH_KINDS = ['terminate', 'throw', 'exit', 'oom'] as const;
export type CrashKind = (typeof CRASH_KINDS)[number];

/**
 * One pass over a node's keys during a membership change or a refill. `export`: hand each key
 * this node is responsible for (the first complete node among its owners) to the owners under
 * `next` that lack it. `purge`: drop the keys this node no longer owns under `next`.
 */
export interface ScanPlan {
  kind: 'export' | 'purge';
  /** The ring before the change (the same as `next` for a refill or a purge). */
  previous: RingLayout;
  next: RingLayout;
  replicas: number;
  /** Nodes that hold all their keys: the ones that may export. */
  complete: string[];
  /** Nodes that are being filled from scratch (a node that joined or restarted). */
  filling: string[];
}

/** A key handed over by an export pass: value, milliseconds left (0 = no expiry), new holders. */
export type Handoff = [...copy: Copy, targets: string[]];

/** What a scan command reports. */
export interface ScanProgress {
  /** Keys in the pass's snapshot, and how many have been looked at. */
  total: number;
  scanned: number;
  /** Export: the keys of this chunk to hand over. */
  handoffs: Handoff[];
  /** Purge: keys dropped in this chunk. */
  dropped: number;
  done: boolean;
}

export const Status = {
  Ok: 0,
  NotFound: 1,
  /** The worker could not apply the command (bad command); the message says why. */
  Failed: 2,
  /** The entry is larger than the node's whole memory share. */
  TooLarge: 4,
  /** An {@link Op.Update} the value held does not allow (not a number, an overflow); `refused` says why. */
  Refused: 5,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** A store's counters since the node started. */
export interface StoreStats extends StoreCounts {
  keys: number;
  /** Keys with an expiry time. */
  expires: number;
  /** Accounted bytes: key + value + a fixed per-entry overhead. */
  bytes: number;
}

/** A store's counters: they only grow while its node lives. */
export interface StoreCounts {
  hits: number;
  misses: number;
  evictions: number;
  /** Entries removed because their TTL passed (on read or by active expiry). */
  expired: number;
  sets: number;
  deletes: number;
}

export const COUNT_NAMES = ['hits', 'misses', 'evictions', 'expired', 'sets', 'deletes'] as const satisfies ReadonlyArray<keyof StoreCounts>;
export const NO_COUNTS: Readonly<StoreCounts> = Object.freeze({ hits: 0, misses: 0, evictions: 0, expired: 0, sets: 0, deletes: 0 });

/** One node's figures, as `GET /nodes` shows them. */
export interface NodeInfo extends StoreStats {
  id: string;
  threadId: number;
  /** The highest ring version this worker has seen, from an announcement or a routed request. */
  ringVersion: number;
  /** This node's share of --max-memory (0 = no limit) and of --cache-size. */
  maxBytes: number;
  maxEntries: number;
  /** Items' memory outside the V8 heap (arena pages in use or kept for reuse). */
  arenaBytes: number;
  /** The index table's shared memory. */
  indexBytes: number;
  /** This thread's V8 heap (not the process's RSS). */
  heapUsedBytes: number;
  heapTotalBytes: number;
}

export type Result =
  | {
      status: typeof Status.Ok;
      value?: string;
      values?: Array<string | null>;
      /** Exists: the value's length in bytes. */
      valueBytes?: number;
      /** Restore: copies stored. */
      stored?: number;
      ttl?: number | null;
      /** Idle: milliseconds since the key's last use. */
      idleMs?: number;
      info?: NodeInfo;
      scan?: ScanProgress;
      /** Update: the client's number, and the key's new state (null: removed; absent: unchanged). */
      count?: number;
      next?: Held | null;
      keys?: string[];
      /** --serve-stale: a local copy answered while the backend was unreachable. */
      stale?: boolean;
    }
  | { status: typeof Status.NotFound }
  | { status: typeof Status.TooLarge }
  | { status: typeof Status.Refused; refused: Refusal }
  | { status: typeof Status.Failed; message: string };

export type OkResult = Extract<Result, { status: typeof Status.Ok }>;

export interface BatchRequest {
  type: 'batch';
  id: number;
  /** The ring version the commands were routed with. */
  ringVersion: number;
  /** How many commands {@link commands} holds. */
  count: number;
  commands: FlatCommands;
}

/** A batch's commands in one array, each as its length and then its fields (src/core/batch.ts). */
export type FlatCommands = Array<Command[number]>;

export interface BatchReply {
  type: 'batch';
  id: number;
  results: Result[];
  /** Keys the node holds after the batch: what a crash would lose without replicas. */
  keysHeld: number;
  /** Shared memory the node made or let go since its previous reply (src/core/shared-layout.ts). */
  shared?: SharedUpdate;
}

/** Membership as the main thread announces it on the cluster channel and to new workers. */
export interface RingAnnouncement {
  type: 'ring';
  version: number;
  nodes: string[];
  /** Copies of each key. */
  replicas: number;
  /** While keys move to their new owners: the members before the change. */
  previous?: string[];
  /** Whether nodes report key changes on {@link KEY_EVENTS_CHANNEL} (notify-keyspace-events is on). */
  keyEvents?: boolean;
}

/** What a keyspace notification calls a Set or a Delete that is part of a RENAME or a COPY (else `set`, `del`). */
export type KeyEventName = 'rename_from' | 'rename_to' | 'copy_to';

/** Where nodes report key changes, for keyspace notifications; only the main thread listens. */
export const KEY_EVENTS_CHANNEL = 'key-events';

/**
 * One node's key changes of one turn, each as event then key (`set`, `user:1`, `expired`, ...),
 * reported by the key's first owner on the ring only, so once whatever the number of copies.
 */
export interface KeyEventBatch {
  type: 'key-events';
  events: string[];
}

/** What a plain node thread posts once its store and channel are set up. */
export interface ReadyMessage {
  type: 'ready';
  id: string;
  threadId: number;
}

export type ToWorker = BatchRequest | RingAnnouncement;
export type FromWorker = BatchReply | ReadyMessage;

/**
 * Messages on the `cluster` BroadcastChannel. A flush is not one of them: it goes in each node's
 * batch ({@link Op.Flush}), after the writes sent before it, which the channel does not order.
 */
export type ClusterEvent = RingAnnouncement;

export const CLUSTER_CHANNEL = 'cluster';

/** What every node thread is started with. */
export interface NodeConfig {
  id: string;
  /** Maximum entries held; least recently used are evicted beyond it. 0 = no count limit. */
  maxEntries: number;
  /** Maximum accounted bytes held (this node's share of --max-memory). 0 = no limit. */
  maxBytes: number;
  /** The ring as it was when the worker was started. */
  ring: RingAnnouncement;
}

/** `Op` / `Status` codes to their names in kebab case (`NotFound` -> `not-found`), for logs. */
export function codeNames<T extends Record<string, number>>(codes: T): Record<T[keyof T], string> {
  const kebab = (name: string): string => name.replace(/[A-Z]/g, (c, i: number) => (i > 0 ? '-' : '') + c.toLowerCase());
  return Object.fromEntries(Object.entries(codes).map(([name, code]) => [code, kebab(name)])) as Record<T[keyof T], string>;
}
