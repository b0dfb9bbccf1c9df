import type { ResourceLimits } from 'node:worker_threads';
import type { NodeConfig } from '../core/protocol.js';
import { MAX_BATCH_BYTES } from './node-client.js';

const MIB = 1024 * 1024;
/** A node's allocations are short-lived messages: a small nursery is enough. */
const YOUNG_GENERATION_MB = 2;
/**
 * Old-generation room: nothing per entry lives on a node's heap (entries are in shared memory,
 * workers/entries.ts), so what it holds is the thread's own baseline (about 5 MB) and one message in
 * flight (at most {@link MAX_BATCH_BYTES} of values) with its copy, and some to spare: 12 MB.
 * Measured safe: 1,000 PUTs of 1 MiB values from 50 connections at --max-memory 8mb and 64mb,
 * and 1,000,000 one-byte values with TTLs at 64mb, with no node out of heap.
 */
const HEAP_HEADROOM_MB = 5 + Math.ceil((2 * MAX_BATCH_BYTES) / MIB) + 3;

/**
 * V8 heap limits for a node thread, from its memory share. V8 lets a heap grow to several times
 * its live data between full collections; capping it near what the node can hold live is what
 * makes --max-memory bound the process's RSS (measured, 1,000,000 writes at --max-memory 64mb:
 * 450 MB RSS with V8's defaults). A node that still outgrows its heap exits with
 * ERR_WORKER_OUT_OF_MEMORY (and is restarted) instead of taking the process down. With no memory
 * limit, only the nursery is capped.
 */
export function heapLimits(config: NodeConfig): ResourceLimits {
  const limits: ResourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
  if (config.maxBytes > 0) limits.maxOldGenerationSizeMb = HEAP_HEADROOM_MB;
  return limits;
}
