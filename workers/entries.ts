import { Buffer } from 'node:buffer';
import { encodedKey } from '../src/core/byte-strings.js';
import { hash32 } from '../src/core/hash.js';
import { MAX_KEY_BYTES } from '../src/core/limits.js';
import { EMPTY, homeBucket, type SharedUpdate } from '../src/core/shared-layout.js';
import { Arena, handleOf, offsetOf, pageOf, type ArenaOptions } from './arena.js';
import { SampledLru } from './eviction.js';
import { BUCKETS_OFFSET, IndexTable, MIN_CAPACITY } from './index-table.js';
import { KeyCursor, type Walked } from './key-cursor.js';
import { ReplacedTables } from './replaced-tables.js';

/**
 * A node's entries in shared memory: the items in the {@link Arena}, the {@link IndexTable} that
 * finds them (replaced by a larger one as it fills), passes over the keys, and the choice of an
 * entry to evict. The node finds a key the way the HTTP thread does, by its hash and its bytes in
 * the table: nothing per key is kept on the V8 heap (a Map of keys to buckets cost about 100
 * bytes a key). What the entries may cost and when they expire is the {@link Store}'s to decide.
 * Only the node thread uses it.
 */
export class Entries implements Walked {
  #table = new IndexTable(MIN_CAPACITY);
  /** The table the HTTP thread has not been handed yet. */
  #newTable: SharedArrayBuffer | undefined = this.#table.buffer;
  readonly #eviction: SampledLru;
  /** Where active expiry goes on in the table. */
  #sweepAt = 0;
  #expiring = 0;
  readonly #arena: Arena;
  /** The key being looked up, in UTF-8. */
  readonly #key = Buffer.allocUnsafe(MAX_KEY_BYTES + 4);
  /** Passes over the keys under way: they hear of moves and of the table's replacement. */
  readonly #cursors = new Set<KeyCursor>();
  readonly #replaced = new ReplacedTables();

  constructor(arena: ArenaOptions, random?: () => number) {
    this.#arena = new Arena(arena);
    this.#eviction = new SampledLru(5, 16, random);
  }

  /** The current table: what a bucket holds is read and changed there. */
  get table(): IndexTable {
    return this.#table;
  }

  /** Entries with an expiry time. */
  get expiring(): number {
    return this.#expiring;
  }

  get size(): number {
    return this.#table.live;
  }

  /** The bucket that holds `key`, found by its hash and then its bytes; undefined if none. */
  bucket(key: string): number | undefined {
    const keyBytes = Buffer.byteLength(key, 'utf8');
    if (keyBytes > MAX_KEY_BYTES) return undefined;
    const encoded = encodedKey(key, keyBytes, this.#key);
    const table = this.#table;
    const hash = hash32(key) | 0;
    const mask = table.capacity - 1;
    for (let bucket = homeBucket(hash, table.capacity); ; bucket = (bucket + 1) & mask) {
      const page = table.page(bucket);
      if (page === EMPTY) return undefined;
      if (table.hash(bucket) === hash && this.#arena.keyIs(handleOf(page, table.offset(bucket)), key, encoded, keyBytes)) return bucket;
    }
  }

  /** A pass over the keys ({@link KeyCursor}); it ends when it has run out or on `return()`. */
  keys(): KeyCursor {
    const cursor = new KeyCursor(this);
    this.#cursors.add(cursor);
    return cursor;
  }

  release(cursor: KeyCursor): void {
    this.#cursors.delete(cursor);
  }

  /**
   * Stores the key's item (`keyBytes` long in UTF-8) and points its bucket (`held`, or a free one
   * for a new key) at it; returns the bucket, or -1 if the arena has no slot for it within its
   * limit. An overwrite changes the bucket in place, and the old slot is freed only once the
   * bucket no longer points at it.
   */
  write(key: string, keyBytes: number, value: string, expiresAt: number, tick: number, held: number | undefined): number {
    if (this.#replaced.pending) this.#replaced.recycle(this.#table, this.#walked, this.#reuse);
    const handle = this.#arena.store(key, keyBytes, value);
    if (handle < 0) return -1;
    const page = pageOf(handle);
    const offset = offsetOf(handle);
    this.#expiring += expiresAt !== 0 ? 1 : 0;
    if (held !== undefined) {
      const previous = this.#handle(held);
      if (this.#table.expiresAt(held) !== 0) this.#expiring--;
      this.#table.put(held, this.#table.hash(held), page, offset, value.length, expiresAt, tick);
      this.#arena.free(previous);
      return held;
    }
    if (this.#table.full) this.#rebuild();
    const hash = hash32(key);
    const bucket = this.#table.freeBucket(hash);
    this.#table.put(bucket, hash, page, offset, value.length, expiresAt, tick);
    return bucket;
  }

  value(bucket: number): string {
    return this.#arena.read(this.#handle(bucket), this.#table.valueBytes(bucket));
  }

  keyOf(bucket: number): string {
    return this.#arena.keyAt(this.#handle(bucket))!;
  }

  /** The key's length in UTF-8 bytes, from its item (no string is made). */
  keyBytes(bucket: number): number {
    return this.#arena.keyBytes(this.#handle(bucket));
  }

  /**
   * The key of a bucket of `table`, the current one or one replaced since (which no longer
   * changes while its slots are reused): undefined when the item there is no longer that bucket's
   * (its page is gone, or the slot holds another key, told by the bucket's hash).
   */
  keyIn(table: IndexTable, bucket: number): string | undefined {
    if (table === this.#table) return this.keyOf(bucket);
    const key = this.#arena.keyAt(handleOf(table.page(bucket), table.offset(bucket)));
    return key !== undefined && (hash32(key) | 0) === table.hash(bucket) ? key : undefined;
  }

  /**
   * Looks at up to `maxBuckets` buckets from where the previous call stopped (a lap ends a call)
   * and calls `expired`, which must remove it, for each entry due by `now`. No list of keys with a
   * time is kept (a Map: 100 bytes a key); with none, nothing is read (a lap: 4% of a node's time).
   */
  sweep(maxBuckets: number, now: number, expired: (bucket: number) => void): void {
    if (this.#expiring === 0) return;
    const table = this.#table;
    const end = Math.min(table.capacity, this.#sweepAt + maxBuckets);
    for (let bucket = this.#sweepAt; bucket < end; bucket++) {
      if (table.page(bucket) < 0) continue;
      const at = table.expiresAt(bucket);
      if (at === 0 || at > now) continue;
      expired(bucket);
      // The removal may have moved a later entry back into this bucket: look at it again.
      bucket--;
    }
    this.#sweepAt = end === table.capacity ? 0 : end;
  }

  /** Bytes of arena pages, in use or kept for reuse, and of the index table. */
  get arenaBytes(): number {
    return this.#arena.bytes;
  }

  get indexBytes(): number {
    return this.#table.buffer.byteLength;
  }

  /** Shared memory made or let go since the last call (with `all`: all of it); undefined if none. */
  takeUpdate(all: boolean): SharedUpdate | undefined {
    const update = this.#arena.takeUpdate(all);
    const table = all ? this.#table.buffer : this.#newTable;
    this.#newTable = undefined;
    return table === undefined ? update : { ...update, table };
  }

  /** An entry moved back after a delete: a pass under way must not miss it. */
  readonly #moved = (from: number, to: number): void => {
    for (const cursor of this.#cursors) cursor.moved(from, to);
  };

  /** The arena handle of the item a held bucket points at. */
  #handle(bucket: number): number {
    return handleOf(this.#table.page(bucket), this.#table.offset(bucket));
  }

  remove(bucket: number): void {
    const handle = this.#handle(bucket);
    if (this.#table.expiresAt(bucket) !== 0) this.#expiring--;
    this.#table.remove(bucket, this.#moved);
    this.#arena.free(handle);
  }

  /** The bucket to evict, never `spare`; -1 if there is none. */
  victim(tick: number, spare: number): number {
    return this.#eviction.victim(this.#table, tick, spare);
  }

  clear(): void {
    // The old table is retired before any slot it pointed at is reused.
    for (const cursor of this.#cursors) cursor.cleared();
    this.#replace(new IndexTable(MIN_CAPACITY));
    this.#arena.clear();
    this.#expiring = 0;
  }

  /** A table twice as large: every entry moves to its bucket there. */
  #rebuild(): void {
    for (const cursor of this.#cursors) cursor.replacing();
    const next = new IndexTable(this.#table.capacity * 2);
    for (let bucket = 0; bucket < this.#table.capacity; bucket++) if (this.#table.page(bucket) !== EMPTY) next.copy(this.#table, bucket);
    this.#replace(next);
  }

  /** Whether a pass reads `table` (passes are few, and this runs only while a table waits). */
  readonly #walked = (table: IndexTable): boolean => [...this.#cursors].some((cursor) => cursor.table === table);

  readonly #reuse = (table: IndexTable): void => this.#arena.reuse(table.buffer, BUCKETS_OFFSET);

  #replace(next: IndexTable): void {
    this.#replaced.add(this.#table);
    this.#table.retire();
    this.#table = next;
    this.#newTable = next.buffer;
    this.#eviction.forget();
    this.#sweepAt = 0;
  }
}
