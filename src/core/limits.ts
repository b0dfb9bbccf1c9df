/**
 * The sizes both threads must agree on, declared once: what the main thread checks at the edge
 * and what a node accounts for. Changing one here changes it on both sides of the thread boundary.
 */

/** Most nodes at once, as --nodes and joins allow. */
export const MAX_NODES = 64;

/**
 * Most bytes one batch of commands may carry: an /mget or /mset body, the commands a RESP client
 * queues after MULTI. Room for 10,000 keys with their values, or two values of --max-value.
 */
export const maxBatchBody = (maxValue: number): number => Math.max(64 * 1024 * 1024, 2 * maxValue);

/** Longest key accepted, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/**
 * Bytes an entry costs beyond its key and its item's slot in the arena, accounted so that
 * --max-memory bounds the process's real memory, not just its payload: its 32-byte bucket in the
 * shared index at a load between 0.375 and 0.75 (43-85 bytes; bench/entry-overhead.ts measures
 * 67-84), as much again for the table a growth leaves until both threads have collected it, and
 * room for the garbage churn leaves. Nothing per entry is on the V8 heap (measured 0-6 bytes).
 */
export const ENTRY_OVERHEAD_BYTES = 200;

/** The smallest item slot in the arena: every entry is accounted at least this for its item. */
export const SMALLEST_SLOT_BYTES = 32;

/** How much larger than its value a value's slot may be (the arena's size classes grow by this). */
export const SLOT_GROWTH = 1.25;

/**
 * The most one entry of a `maxValue`-byte value can be accounted at: the longest key counted
 * twice (once in its item's slot), the largest slot, the overhead. A node's memory share must
 * hold at least one.
 */
export function largestEntryBytes(maxValue: number): number {
  return 2 * MAX_KEY_BYTES + Math.ceil((maxValue + MAX_KEY_BYTES + 2) * SLOT_GROWTH) + 8 + ENTRY_OVERHEAD_BYTES;
}
