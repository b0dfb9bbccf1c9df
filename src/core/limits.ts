/**
 * The sizes both threads must agree on, declared once: what the main thread checks at the edge
 * and what a node accounts for. Changing one here changes it on both sides of the thread boundary.
 */

/** Most nodes at once, as --nodes and joins allow. */
export const MAX_NODES = 64;

/** Longest key accepted, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/**
 * Bytes an entry costs beyond its key and its value's slot in the arena: its map entry and the
 * key's string header on the V8 heap, and room for the garbage churn leaves. Measured on Node 20
 * (x64) by bench/entry-overhead.ts: {@link INDEX_HEAP_BYTES} after eviction churn, plus 16 for
 * the slot's place in the arena's LRU list. Accounting it is what lets --max-memory bound the
 * process's real memory, not just its payload.
 */
export const ENTRY_OVERHEAD_BYTES = 200;
/** What an expiry time adds to an entry: a second map entry. */
export const TTL_OVERHEAD_BYTES = 100;

/**
 * What one entry's index costs on a node's V8 heap after eviction churn, beyond its key's bytes
 * (bench/entry-overhead.ts, Node 20 x64): 105 bytes (52 for a store filled once), 191 with an
 * expiry time. The node heap limits are derived from these (src/nodes/heap-limits.ts).
 */
export const INDEX_HEAP_BYTES = 105;
export const INDEX_HEAP_TTL_BYTES = 191;

/** The smallest value slot in the arena: every entry is accounted at least this for its value. */
export const SMALLEST_SLOT_BYTES = 32;

/** How much larger than its value a value's slot may be (the arena's size classes grow by this). */
export const SLOT_GROWTH = 1.25;

/**
 * The most one entry of a `maxValue`-byte value can be accounted at: the longest key, the largest
 * slot, both overheads. A node's memory share must hold at least one.
 */
export function largestEntryBytes(maxValue: number): number {
  return MAX_KEY_BYTES + Math.ceil(maxValue * SLOT_GROWTH) + 8 + ENTRY_OVERHEAD_BYTES + TTL_OVERHEAD_BYTES;
}
