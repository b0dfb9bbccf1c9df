import { ENTRY_OVERHEAD_BYTES, SLOT_GROWTH, SMALLEST_SLOT_BYTES } from './limits.js';
import { ITEM_HEADER_BYTES } from './shared-layout.js';

/**
 * The arena's size classes (workers/arena.ts) and what an entry is accounted at: one home for
 * the rule that a node's memory budget (--max-memory) applies and MEMORY USAGE reports.
 * Slot sizes grow by SLOT_GROWTH from SMALLEST_SLOT_BYTES to a page (1 MiB), multiples of 8.
 */
export const MAX_PAGE_BYTES = 1024 * 1024;

/** Slot sizes of the size classes, smallest first. */
export const CLASS_SLOTS: readonly number[] = (() => {
  const sizes: number[] = [];
  for (let size = SMALLEST_SLOT_BYTES; size < MAX_PAGE_BYTES; size = Math.ceil((size * SLOT_GROWTH) / 8) * 8) sizes.push(size);
  sizes.push(MAX_PAGE_BYTES);
  return sizes;
})();

/** The smallest size class whose slot holds `length` bytes (the last class for anything larger). */
export function classOf(length: number): number {
  let low = 0;
  let high = CLASS_SLOTS.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (CLASS_SLOTS[mid]! < length) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The bytes an item of `length` bytes (header included) takes: its slot, or itself beyond a page. */
export function slotBytes(length: number): number {
  return length > MAX_PAGE_BYTES ? length : CLASS_SLOTS[classOf(length)]!;
}

/** The bytes an item takes for a key of `keyBytes` UTF-8 bytes and a value of `valueLength`. */
export function itemBytes(keyBytes: number, valueLength: number): number {
  return ITEM_HEADER_BYTES + keyBytes + valueLength;
}

/** What one copy of an entry is accounted at: the key in UTF-8 bytes, the item's slot, the overhead (an expiry time is in the bucket: nothing more). */
export function entryBytes(keyBytes: number, valueLength: number): number {
  return keyBytes + slotBytes(itemBytes(keyBytes, valueLength)) + ENTRY_OVERHEAD_BYTES;
}
