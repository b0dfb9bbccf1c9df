import { EMPTY } from '../src/core/shared-layout.js';
import { SCAN_SPACE, scanOrder } from '../src/core/scan-order.js';
import type { Entries } from './entries.js';

/**
 * The keys a node holds whose place in the scan order (src/core/scan-order.ts) is in
 * [`from`, `to`), not expired at `now`, and accepted by `match`. The scan order reverses the
 * bits of a key's hash, and a key's home bucket is its hash's low bits, so a range of the order
 * is a set of home buckets: each is looked up with the run of buckets after it that linear
 * probing may have pushed its keys into. The whole range is a plain walk over every bucket.
 */
export function keysInRange(entries: Entries, from: number, to: number, now: number, match: (key: string) => boolean): string[] {
  const table = entries.table;
  const keys: string[] = [];
  const take = (bucket: number): void => {
    const at = table.expiresAt(bucket);
    if (at !== 0 && at <= now) return;
    const key = entries.keyOf(bucket);
    if (match(key)) keys.push(key);
  };
  if (from <= 0 && to >= SCAN_SPACE) {
    for (let bucket = 0; bucket < table.capacity; bucket++) if (table.page(bucket) !== EMPTY) take(bucket);
    return keys;
  }
  const bits = Math.log2(table.capacity);
  const mask = table.capacity - 1;
  // Each home bucket stands for 2^(32 - bits) places of the order.
  const width = 2 ** (32 - bits);
  for (let prefix = Math.floor(from / width); prefix * width < to; prefix++) {
    const home = scanOrder(prefix) >>> (32 - bits);
    for (let bucket = home; table.page(bucket) !== EMPTY; bucket = (bucket + 1) & mask) {
      const hash = table.hash(bucket);
      if ((hash & mask) !== home) continue;
      const place = scanOrder(hash);
      if (place >= from && place < to) take(bucket);
    }
  }
  return keys;
}

/** A key held and not expired at `now`, from a random place in the table; undefined if there is none. */
export function randomKey(entries: Entries, now: number, random: () => number): string | undefined {
  const table = entries.table;
  const start = Math.floor(random() * table.capacity);
  for (let i = 0; i < table.capacity; i++) {
    const bucket = (start + i) & (table.capacity - 1);
    if (table.page(bucket) === EMPTY) continue;
    const at = table.expiresAt(bucket);
    if (at === 0 || at > now) return entries.keyOf(bucket);
  }
  return undefined;
}
