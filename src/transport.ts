import type { ResourceLimits } from 'node:worker_threads';
import type { BatchReply, BatchRequest, RingAnnouncement, ShardConfig } from './protocol.js';

/**
 * How the main thread drives one shard thread. Two implementations exist, a plain Worker over its
 * own port and a one-thread piscina pool; both pass the same test suite (test/transport.test.ts)
 * and `npm run bench` measures them side by side.
 */
export interface ShardTransport {
  readonly threadId: number;
  /** Sends one batch; resolves with its reply, rejects with NODE_UNAVAILABLE if the thread dies. */
  exchange(request: BatchRequest): Promise<BatchReply>;
  /** Tells this thread the current ring directly (a thread started late missed the broadcast). */
  announce(ring: RingAnnouncement): void;
  /** `listener` runs once if the thread dies or is replaced while not being closed. */
  onDeath(listener: (reason: string) => void): void;
  /** Ends the thread abruptly, as a crash would: death listeners run, pending exchanges reject. */
  kill(): void;
  /** Stops the thread. Pending exchanges reject. */
  close(): Promise<void>;
}

export const TRANSPORTS = ['worker', 'piscina'] as const;
export type TransportKind = (typeof TRANSPORTS)[number];

/**
 * V8 heap limits for a node thread, from its memory share. V8 lets a heap grow to several times
 * its live data between full collections; capping it near what the node can hold live is what
 * makes --max-memory bound the process's RSS (measured, 1,000,000 writes at --max-memory 64mb:
 * 450 MB RSS with V8's defaults). Values live outside the heap (workers/arena.ts), so the heap
 * holds the keys and the index: per entry at most 105 bytes plus the key after churn (191 with a
 * TTL), against an accounted key + slot (at least 32) + 200 bytes (+ 100 with a TTL): at most
 * 0.58 of the share, under {@link HEAP_SHARE}. The young generation is
 * small because a node's allocations are short-lived messages. A node that still outgrows its
 * heap exits with ERR_WORKER_OUT_OF_MEMORY (and is restarted) instead of taking the process
 * down. With no memory limit, only the nursery is capped.
 */
export function heapLimits(config: ShardConfig): ResourceLimits {
  const MIB = 1024 * 1024;
  const limits: ResourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
  if (config.maxBytes > 0) limits.maxOldGenerationSizeMb = Math.ceil((config.maxBytes * HEAP_SHARE) / MIB) + HEAP_HEADROOM_MB;
  return limits;
}
const YOUNG_GENERATION_MB = 2;
const HEAP_SHARE = 0.6;
/**
 * Old-generation room beyond that: the thread's own baseline (about 5 MB) and one message in
 * flight (at most MAX_BATCH_BYTES, 2 MiB, of values, see src/shard-client.ts) with its copy, and
 * some to spare. Measured safe: 1,000 PUTs of 1 MiB values from 50 connections at --max-memory
 * 8mb and 64mb, and 1,000,000 one-byte values with TTLs at 64mb, with no node out of heap.
 */
const HEAP_HEADROOM_MB = 12;

/** How long a new shard thread may take to report ready before start-up fails. */
export const START_TIMEOUT_MS = 10_000;

export async function startTransport(kind: TransportKind, config: ShardConfig): Promise<ShardTransport> {
  if (kind === 'piscina') {
    const { PiscinaTransport } = await import('./piscina-transport.js');
    return PiscinaTransport.start(config);
  }
  const { WorkerTransport } = await import('./worker-transport.js');
  return WorkerTransport.start(config);
}
