/**
 * The order SCAN visits keys in, the same for every node and every table size: a key's place is
 * its 32-bit hash with the bits reversed. A SCAN cursor is a place; each step asks every live
 * node for its keys in [cursor, next), so a key present for the whole scan is returned once,
 * whichever node holds it, while nodes join, leave or grow their tables (Redis's reverse-binary
 * cursor, applied to hashes instead of one table's buckets). Both threads use it.
 */

/** Places are 0 .. SCAN_SPACE - 1; a scan ends when its cursor comes back to 0. */
export const SCAN_SPACE = 2 ** 32;

/** `hash` (any 32-bit integer) with its bits reversed, as an unsigned number. */
export function scanOrder(hash: number): number {
  let x = hash >>> 0;
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
  return ((x >>> 16) | (x << 16)) >>> 0;
}
