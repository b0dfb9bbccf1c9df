import { performance } from 'node:perf_hooks';
/**
 * The layout of a node's shared memory: the one node thread writes it, the HTTP thread reads it
 * (src/nodes/shared-reader.ts, workers/index-table.ts). Declared once so both sides agree.
 *
 * A node's index is an open-addressing hash table (linear probing) in one SharedArrayBuffer:
 * a header, then {@link ENTRY_WORDS} 32-bit words per bucket. A bucket names the page and byte
 * offset of its item (the key's UTF-8 bytes followed by the value's bytes, in the node's arena
 * pages, also SharedArrayBuffers), the value's length, the expiry time and the last use.
 *
 * Consistency is a seqlock per bucket: the writer makes `SEQ` odd, changes the bucket (and only
 * then reuses a slot it pointed at), makes it even again. A reader reads `SEQ`, the bucket, the
 * item, then `SEQ` again, and keeps what it read only if both are the same even number.
 * A delete leaves no tombstone: the entries after it in its run move back (Knuth's algorithm R),
 * inside a table-wide seqlock ({@link HEADER_MOVES}), so tables never fill with tombstones and
 * are rebuilt only to grow. An entry that moves is briefly in neither place, so a reader that
 * finds no key checks that no move began or ended during its probe before it answers a miss
 * (a hit is proven by the bucket's own counter). A larger table is a new buffer, and the old one
 * is marked {@link TABLE_RETIRED} before the node writes anything elsewhere, so a reader that
 * finds it retired asks the node instead (by message) until it has the new one. Once the reader
 * has taken a newer table in hand ({@link HEADER_ADOPTED}) it never reads an older one again, and
 * the node makes the older one's memory into arena pages (workers/entries.ts): a table that
 * doubles leaves nothing behind waiting for both threads' garbage collectors.
 */

/** Header words of an index table. */
export const HEADER_STATE = 0;
export const HEADER_CAPACITY = 1;
/** Odd while the writer moves entries back after a delete; counts the moves (see below). */
export const HEADER_MOVES = 2;
/** 1 once the HTTP thread reads this table: from then on it reads no older one. */
export const HEADER_ADOPTED = 3;
export const HEADER_WORDS = 4;
export const TABLE_LIVE = 0;
export const TABLE_RETIRED = 1;

/** Words per bucket, and each word's meaning. 32 bytes: the expiry's float64 stays 8-aligned. */
export const ENTRY_WORDS = 8;
export const SEQ = 0;
export const HASH = 1;
/** The item's page id; {@link EMPTY} when the bucket holds no entry. */
export const PAGE = 2;
export const OFFSET = 3;
/** Float64 word pair: expiry time on {@link sharedClock}, 0 = none. */
export const EXPIRES = 4;
/** The last use, on {@link sharedClock} in milliseconds, modulo 2^32 (see {@link tickOf}). */
export const USED = 6;
export const VALUE_BYTES = 7;

export const EMPTY = -1;

/** The item's header: the key's length in bytes (a u16, keys are at most 1 KiB); the key follows. */
export const ITEM_HEADER_BYTES = 2;

/**
 * Whether the item at `offset` of `buffer` holds the key `keyBytes` long: compared with `encoded`,
 * its UTF-8 bytes, or when that is undefined with the characters of `key`, an ASCII string
 * (src/core/byte-strings.ts, encodedKey). The one comparison of both the node and the HTTP thread.
 */
export function itemKeyIs(buffer: Uint8Array, offset: number, key: string, encoded: Uint8Array | undefined, keyBytes: number): boolean {
  if ((buffer[offset]! | (buffer[offset + 1]! << 8)) !== keyBytes) return false;
  const start = offset + ITEM_HEADER_BYTES;
  if (encoded === undefined) {
    for (let i = 0; i < keyBytes; i++) if (buffer[start + i] !== key.charCodeAt(i)) return false;
  } else {
    for (let i = 0; i < keyBytes; i++) if (buffer[start + i] !== encoded[i]) return false;
  }
  return true;
}

/**
 * Page ids the HTTP thread never maps: values larger than a page live in private memory and are
 * read by message (copying a megabyte costs far more than the hop).
 */
export const PRIVATE_PAGE_BASE = 1 << 30;

/** This thread's origin, read once: `performance.timeOrigin` is a getter that costs a call per read. */
const TIME_ORIGIN = performance.timeOrigin;

/**
 * Milliseconds on a clock both threads share: each thread's performance.now() starts at its own
 * origin, so it is taken from the same wall-clock instant (timeOrigin) and runs monotonically.
 */
export function sharedClock(): number {
  return TIME_ORIGIN + performance.now();
}

/** A time as a recency tick: milliseconds modulo 2^32, compared by age (49 days wrap). */
export function tickOf(time: number): number {
  return time >>> 0;
}

/** An arena page: `bytes` of `buffer` from `offset` (a page may be cut from a replaced index table). */
export type SharedPage = [id: number, buffer: SharedArrayBuffer, offset: number, bytes: number];

/** What a node hands the HTTP thread, riding its next batch reply: memory made or let go since. */
export interface SharedUpdate {
  /** The current index table, when it is new. */
  table?: SharedArrayBuffer;
  /** New arena pages, by id. */
  pages?: SharedPage[];
  /** Pages the node no longer uses (their ids are never given out again). */
  released?: number[];
}

/** The bucket a hash starts its probe at. */
export function homeBucket(hash: number, capacity: number): number {
  return hash & (capacity - 1);
}
