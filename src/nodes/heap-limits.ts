import type { ResourceLimits } from 'node:worker_threads';
import { ENTRY_OVERHEAD_BYTES, INDEX_HEAP_BYTES, INDEX_HEAP_TTL_BYTES, SMALLEST_SLOT_BYTES, TTL_OVERHEAD_BYTES } from '../core/limits.js';
import type { NodeConfig } from '../core/protocol.js';
import { MAX_BATCH_BYTES } from './node-client.js';

const MIB = 1024 * 1024;
/** A node's allocations are short-lived messages: a small nursery is enough. */
const YOUNG_GENERATION_MB = 2;
/**
 * The most of an entry's accounted bytes its index can take on the heap: the index after churn
 * against the smallest accounted entry (key + smallest slot + overheads), with and without an
 * expiry time (105 / 232 = 0.45, 191 / 332 = 0.58), rounded up to the next tenth: 0.6.
 */
const HEAP_SHARE =
  Math.ceil(
    10 *
      Math.max(
        INDEX_HEAP_BYTES / (SMALLEST_SLOT_BYTES + ENTRY_OVERHEAD_BYTES),
        INDEX_HEAP_TTL_BYTES / (SMALLEST_SLOT_BYTES + ENTRY_OVERHEAD_BYTES + TTL_OVERHEAD_BYTES),
      ),
  ) / 10;
/**
 * Old-generation room beyond that: the thread's own baseline (about 5 MB) and one message in
 * flight (at most {@link MAX_BATCH_BYTES} of values) with its copy, and some to spare: 12 MB.
 * Measured safe: 1,000 PUTs of 1 MiB values from 50 connections at --max-memory 8mb and 64mb,
 * and 1,000,000 one-byte values with TTLs at 64mb, with no node out of heap.
 */
const HEAP_HEADROOM_MB = 5 + Math.ceil((2 * MAX_BATCH_BYTES) / MIB) + 3;

/**
 * V8 heap limits for a node thread, from its memory share. V8 lets a heap grow to several times
 * its live data between full collections; capping it near what the node can hold live is what
 * makes --max-memory bound the process's RSS (measured, 1,000,000 writes at --max-memory 64mb:
 * 450 MB RSS with V8's defaults). Values live outside the heap (workers/arena.ts), so the heap
 * holds the keys and the index, at most {@link HEAP_SHARE} of the share. A node that still
 * outgrows its heap exits with ERR_WORKER_OUT_OF_MEMORY (and is restarted) instead of taking the
 * process down. With no memory limit, only the nursery is capped.
 */
export function heapLimits(config: NodeConfig): ResourceLimits {
  const limits: ResourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
  if (config.maxBytes > 0) limits.maxOldGenerationSizeMb = Math.ceil((config.maxBytes * HEAP_SHARE) / MIB) + HEAP_HEADROOM_MB;
  return limits;
}
