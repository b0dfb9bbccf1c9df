import { hash32 } from '../src/core/hash.js';
import type { SharedUpdate } from '../src/core/shared-layout.js';
import { Arena, type ArenaOptions } from './arena.js';
import { SampledLru } from './eviction.js';
import { IndexTable, MIN_CAPACITY } from './index-table.js';

/**
 * A node's entries in shared memory: the items in the {@link Arena}, the {@link IndexTable} that
 * finds them (replaced by a larger one as it fills), which bucket holds each key, and the choice
 * of an entry to evict. A Map keeps each key's bucket: the node finds a key without reading shared
 * memory, and a pass over the keys walks the Map's live iterator. What the entries may cost and
 * when they expire is the {@link Store}'s to decide. Only the node thread uses it.
 */
export class Entries {
  /** Key -> its bucket in {@link table}, in the order the keys were added. */
  readonly #buckets = new Map<string, number>();
  #table = new IndexTable(MIN_CAPACITY);
  /** The table the HTTP thread has not been handed yet. */
  #newTable: SharedArrayBuffer | undefined = this.#table.buffer;
  readonly #eviction: SampledLru;
  /** Where active expiry goes on in the table. */
  #sweepAt = 0;

  readonly #arena: Arena;

  constructor(arena: ArenaOptions, random?: () => number) {
    this.#arena = new Arena(arena);
    this.#eviction = new SampledLru(5, 16, random);
  }

  /** The current table: what a bucket holds is read and changed there. */
  get table(): IndexTable {
    return this.#table;
  }

  get size(): number {
    return this.#buckets.size;
  }

  bucket(key: string): number | undefined {
    return this.#buckets.get(key);
  }

  /** The keys, as the Map's live iterator (see Store.keys). */
  keys(): IterableIterator<string> {
    return this.#buckets.keys();
  }

  /**
   * Stores the key's item (`keyBytes` long in UTF-8) and points its bucket at it (a new key gets
   * a free bucket); false if the arena has no slot for it within its limit. An overwrite changes
   * the bucket in place, and the old slot is freed only once the bucket no longer points at it.
   */
  write(key: string, keyBytes: number, value: string, expiresAt: number, tick: number): boolean {
    const handle = this.#arena.store(key, keyBytes, value);
    if (handle < 0) return false;
    const page = Arena.pageOf(handle);
    const offset = Arena.offsetOf(handle);
    const held = this.#buckets.get(key);
    if (held !== undefined) {
      const previous = this.#handle(held);
      this.#table.put(held, this.#table.hash(held), page, offset, value.length, expiresAt, tick);
      this.#arena.free(previous);
      return true;
    }
    if (this.#table.full) this.#rebuild();
    const hash = hash32(key);
    const bucket = this.#table.freeBucket(hash);
    this.#table.put(bucket, hash, page, offset, value.length, expiresAt, tick);
    this.#buckets.set(key, bucket);
    return true;
  }

  value(bucket: number): string {
    return this.#arena.read(this.#handle(bucket), this.#table.valueBytes(bucket));
  }

  keyOf(bucket: number): string {
    return this.#arena.keyOf(this.#handle(bucket));
  }

  /**
   * Looks at up to `maxBuckets` buckets, going on from where the previous call stopped (a lap
   * ends a call), and calls `expired` for each entry whose time is at or before `now`; `expired`
   * must remove it. Reading a bucket's time costs next to nothing, so no list of the keys that
   * have one is kept (a Map of them cost about 100 bytes per key).
   */
  sweep(maxBuckets: number, now: number, expired: (key: string, bucket: number) => void): void {
    const table = this.#table;
    const end = Math.min(table.capacity, this.#sweepAt + maxBuckets);
    for (let bucket = this.#sweepAt; bucket < end; bucket++) {
      if (table.page(bucket) < 0) continue;
      const at = table.expiresAt(bucket);
      if (at === 0 || at > now) continue;
      expired(this.keyOf(bucket), bucket);
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

  /** An entry moved back after a delete: its key's bucket is the new one. */
  readonly #moved = (_from: number, to: number): void => {
    this.#buckets.set(this.keyOf(to), to);
  };

  /** The arena handle of the item a held bucket points at. */
  #handle(bucket: number): number {
    return Arena.handle(this.#table.page(bucket), this.#table.offset(bucket));
  }

  remove(key: string, bucket: number): void {
    const handle = this.#handle(bucket);
    this.#table.remove(bucket, this.#moved);
    this.#arena.free(handle);
    this.#buckets.delete(key);
  }

  /** The bucket to evict, never `spare`; -1 if there is none. */
  victim(tick: number, spare: number): number {
    return this.#eviction.victim(this.#table, tick, spare);
  }

  clear(): void {
    // The old table is retired before any slot it pointed at is reused.
    this.#replace(new IndexTable(MIN_CAPACITY));
    this.#buckets.clear();
    this.#arena.clear();
  }

  /** A larger table (or the same size without tombstones): every key's bucket moves. */
  #rebuild(): void {
    const next = new IndexTable(IndexTable.capacityFor(this.#buckets.size + 1));
    for (const [key, bucket] of this.#buckets) this.#buckets.set(key, next.copy(this.#table, bucket));
    this.#replace(next);
  }

  #replace(next: IndexTable): void {
    this.#table.retire();
    this.#table = next;
    this.#newTable = next.buffer;
    this.#eviction.forget();
    this.#sweepAt = 0;
  }
}
