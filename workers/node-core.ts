import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import {
  CLUSTER_CHANNEL,
  Op,
  Status,
  type BatchReply,
  type BatchRequest,
  type ClusterEvent,
  type Command,
  type CrashKind,
  type NodeInfo,
  type Result,
  type NodeConfig,
} from '../src/core/protocol.js';
import { Glob } from '../src/core/glob.js';
import { KeyEventReporter } from './key-events.js';
import { Scan } from './scan.js';
import { Store } from './store.js';
import { unflatten } from '../src/core/batch.js';

const OK: Result = { status: Status.Ok };
const NOT_FOUND: Result = { status: Status.NotFound };
const TOO_LARGE: Result = { status: Status.TooLarge };

/**
 * How often expired keys are swept without being read, and how many index buckets each sweep
 * looks at: 50,000 a tick is 500,000 a second (a lap over the 2,097,152 buckets of a million keys
 * in about 4 s). A bucket that is not due costs two array reads.
 */
const EXPIRY_INTERVAL_MS = 100;
const EXPIRY_BUCKETS_PER_TICK = 50_000;
/** A pass that has had no chunk asked for this long is over. */
const ABANDONED_SCAN_MS = 10_000;

/**
 * What runs inside a node thread, whichever way the thread is driven (a plain Worker or a
 * one-thread piscina pool): the node's store, its view of the ring, and the cluster channel.
 */
export class NodeCore {
  readonly id: string;
  readonly store: Store;
  #ringVersion: number;
  #flushEpoch = 0;
  /** The next reply carries all of the shared memory (asked for by {@link Op.Shared}). */
  #shareAll = false;
  /** The pass over this node's keys that a membership change is running, if any. */
  #scan: Scan | undefined;
  readonly #channel: BroadcastChannel;
  readonly #events: KeyEventReporter;
  readonly #expiryTimer: NodeJS.Timeout;

  constructor(config: NodeConfig) {
    this.id = config.id;
    this.#events = new KeyEventReporter(config.id, config.ring);
    this.store = new Store({ maxEntries: config.maxEntries, maxBytes: config.maxBytes, onRemoved: (key, why) => this.#events.note(why, key) });
    this.#ringVersion = config.ring.version;
    this.#channel = new BroadcastChannel(CLUSTER_CHANNEL);
    this.#channel.onmessage = (event) => {
      this.onClusterEvent(event.data as ClusterEvent);
    };
    this.#expiryTimer = setInterval(() => {
      this.store.expire(EXPIRY_BUCKETS_PER_TICK);
      this.#events.flush();
      // A pass the main thread gave up on (a node died under it) must not keep reads from
      // ordering the keys.
      if (this.#scan !== undefined && performance.now() - this.#scan.lastUsed > ABANDONED_SCAN_MS) {
        this.#scan.end();
        this.#scan = undefined;
      }
    }, EXPIRY_INTERVAL_MS);
  }

  get ringVersion(): number {
    return this.#ringVersion;
  }

  /** Versions only move forward: a late announcement must not roll the node back. */
  seeRingVersion(version: number): void {
    if (version > this.#ringVersion) this.#ringVersion = version;
  }

  onClusterEvent(event: ClusterEvent): void {
    this.seeRingVersion(event.version);
    this.#events.update(event);
  }

  handle(request: BatchRequest): BatchReply {
    this.seeRingVersion(request.ringVersion);
    const commands = unflatten(request.commands, request.count);
    // Built by push, not `new Array(n)`: structured cloning writes a holey array key by key (a sparse
    // array), which cost the node 10.5 against 4.3 us and the main thread 12.3-14.1 against 5.8-6.0
    // to read back, for a batch of 188 results.
    const results: Result[] = [];
    for (let i = 0; i < commands.length; i++) results.push(this.#apply(commands[i]!));
    this.#events.flush();
    const reply: BatchReply = { type: 'batch', id: request.id, results, keysHeld: this.store.size };
    // Published before the reply leaves: a read the main thread starts after it sees the writes.
    const shared = this.store.takeUpdate(this.#shareAll);
    this.#shareAll = false;
    if (shared !== undefined) reply.shared = shared;
    return reply;
  }

  info(): NodeInfo {
    const heap = getHeapStatistics();
    return {
      id: this.id,
      threadId,
      ringVersion: this.#ringVersion,
      maxBytes: this.store.maxBytes,
      maxEntries: this.store.maxEntries,
      ...this.store.stats(),
      heapUsedBytes: heap.used_heap_size,
      heapTotalBytes: heap.total_heap_size,
    };
  }

  close(): void {
    clearInterval(this.#expiryTimer);
    this.#channel.close();
    this.#events.close();
  }

  /** Each epoch empties the node once (a late copy of an old epoch is ignored). */
  #flush(epoch: number): void {
    if (epoch <= this.#flushEpoch) return;
    this.#flushEpoch = epoch;
    this.store.clear();
  }

  #apply(command: Command): Result {
    switch (command[0]) {
      case Op.Get: {
        const value = this.store.get(command[1]);
        return value === undefined ? NOT_FOUND : { status: Status.Ok, value };
      }
      case Op.Set: {
        if (!this.store.set(command[1], command[2], command[3])) return TOO_LARGE;
        if (this.#events.on) {
          this.#events.note(command[4] ?? 'set', command[1]);
          if (command[3] > 0) this.#events.note('expire', command[1]);
        }
        return OK;
      }
      case Op.Delete:
        if (!this.store.delete(command[1])) return NOT_FOUND;
        this.#events.note(command[2] ?? 'del', command[1]);
        return OK;
      case Op.Exists: {
        const value = this.store.valueBytes(command[1]);
        return value === undefined ? NOT_FOUND : { status: Status.Ok, valueBytes: value };
      }
      case Op.Ttl: {
        const ttl = this.store.ttl(command[1]);
        return ttl === undefined ? NOT_FOUND : { status: Status.Ok, ttl };
      }
      case Op.Idle: {
        const idleMs = this.store.idleMs(command[1]);
        return idleMs === undefined ? NOT_FOUND : { status: Status.Ok, idleMs };
      }
      case Op.Flush:
        this.#flush(command[1]);
        return OK;
      case Op.Info:
        return { status: Status.Ok, info: this.info() };
      case Op.ScanStart:
        this.#scan?.end();
        this.#scan = new Scan(this.store, this.id, command[1]);
        return { status: Status.Ok, scan: this.#scan.next(0, 0) };
      case Op.ScanNext: {
        if (this.#scan === undefined) return { status: Status.Failed, message: 'no scan in progress' };
        const scan = this.#scan.next(command[1], command[2]);
        if (scan.done) this.#scan = undefined;
        return { status: Status.Ok, scan };
      }
      case Op.Restore: {
        let stored = 0;
        for (const [key, value, ttlMs] of command[1]) if (this.store.restore(key, value, ttlMs)) stored++;
        return { status: Status.Ok, stored };
      }
      case Op.GetMany: {
        const keys = command[1];
        const values: Array<string | null> = [];
        for (let i = 0; i < keys.length; i++) values.push(this.store.get(keys[i]!) ?? null);
        return { status: Status.Ok, values };
      }
      case Op.Shared:
        this.#shareAll = true;
        return OK;
      case Op.Keys: {
        const pattern = command[3] === null ? undefined : new Glob(command[3]);
        return { status: Status.Ok, keys: this.store.keysIn(command[1], command[2], pattern === undefined ? () => true : (key) => pattern.matches(key)) };
      }
      case Op.RandomKey: {
        const key = this.store.randomKey();
        return key === undefined ? NOT_FOUND : { status: Status.Ok, keys: [key] };
      }
      case Op.Dump: {
        const entry = this.store.entry(command[1]);
        return entry === undefined ? NOT_FOUND : { status: Status.Ok, value: entry.value, ttl: entry.ttlMs === 0 ? null : entry.ttlMs };
      }
      case Op.Update: {
        const outcome = this.store.update(command[1], command[2]);
        if (outcome === 'too-large') return TOO_LARGE;
        if (outcome.refused !== undefined) return { status: Status.Refused, refused: outcome.refused };
        this.#events.noteUpdate(command[1], command[2], outcome);
        const result: Result = { status: Status.Ok };
        if (outcome.value !== undefined) result.value = outcome.value ?? undefined;
        if (outcome.count !== undefined) result.count = outcome.count;
        if (outcome.next !== undefined) result.next = outcome.next;
        return result;
      }
      case Op.Crash:
        // After this batch's reply has gone out, as a fault in the middle of work would.
        setImmediate(crash, command[1]);
        return OK;
      default:
        return { status: Status.Failed, message: `unknown command ${String((command as Command)[0])}` };
    }
  }
}

/** The faults /debug/crash injects; `terminate` is done by the main thread. */
function crash(how: CrashKind): void {
  if (how === 'exit') process.exit(70);
  if (how === 'oom') {
    const hog: number[][] = [];
    for (;;) hog.push(new Array<number>(1 << 20).fill(hog.length));
  }
  throw new Error('fault injected by POST /debug/crash');
}
