import { ENTRY_OVERHEAD_BYTES } from '../src/core/limits.js';
import { SetMode, type StoreCounts, type StoreStats } from '../src/core/protocol.js';
import { sharedClock, tickOf, type SharedUpdate } from '../src/core/shared-layout.js';
import { Arena, MAX_PAGE_BYTES } from './arena.js';
import { Entries } from './entries.js';

export type SetOutcome = 'stored' | 'exists' | 'absent' | 'too-large';

export interface StoreOptions {
  /** Maximum entries; one more evicts the least recently used. 0 (default) = no count limit. */
  maxEntries?: number;
  /**
   * Maximum accounted bytes (key UTF-8 bytes + the item's arena slot + {@link ENTRY_OVERHEAD_BYTES}
   * per entry); a write that would pass it evicts least recently used entries first. A single entry
   * larger than this is refused (`too-large`). 0 (default) = no byte limit.
   */
  maxBytes?: number;
  /** Clock in milliseconds, for TTLs and recency. Default the clock both threads share; tests pass a fake one. */
  now?: () => number;
  /** Where eviction's samples start; tests pass a seeded one. Default `Math.random`. */
  random?: () => number;
}

/**
 * One node's data. Values come and go as byte strings: one character per byte (0-255), which V8
 * keeps as one-byte strings, so a value clones across threads as a memcpy and its size is its
 * `length`. The entries live in shared memory ({@link Entries}: items in arena pages, found
 * through an index table), so the HTTP thread reads them without a message
 * (src/core/shared-layout.ts); this store is their only writer and decides what they may cost,
 * when they expire and which go. Expiry times are in the buckets. Pure (no threads, no I/O), so
 * it is unit-tested directly.
 *
 * Recency is a tick in each bucket that readers on either thread overwrite; eviction is Redis's
 * sampled LRU over those ticks (workers/eviction.ts), as no reader can reorder a list.
 * Expired entries are never returned; {@link expire} frees them without waiting for a read.
 */
export class Store {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly #entries: Entries;
  readonly #now: () => number;
  #bytes = 0;
  readonly #counts: StoreCounts = { hits: 0, misses: 0, evictions: 0, expired: 0, sets: 0, deletes: 0 };

  constructor(options: StoreOptions = {}) {
    this.maxEntries = wholeNumber('maxEntries', options.maxEntries ?? 0);
    this.maxBytes = wholeNumber('maxBytes', options.maxBytes ?? 0);
    this.#now = options.now ?? sharedClock;
    // Slots are part of every entry's accounted size, so the arena needs the share and room for
    // partly used pages (a write that finds no slot within that evicts, see #store).
    const pageBytes = pageBytesFor(this.maxBytes);
    this.#entries = new Entries({ limit: this.maxBytes > 0 ? this.maxBytes + 2 * pageBytes : 0, pageBytes }, options.random);
  }

  get(key: string): string | undefined {
    const bucket = this.#read(key);
    if (bucket === undefined) return undefined;
    this.#entries.table.touch(bucket, tickOf(this.#now()));
    return this.#entries.value(bucket);
  }

  /** The value's size in bytes if the key is held and not expired; counts as a read but does not touch recency. */
  valueBytes(key: string): number | undefined {
    const bucket = this.#read(key);
    return bucket === undefined ? undefined : this.#entries.table.valueBytes(bucket);
  }

  /** Stores `value` (a byte string); `ttlMs` 0 = no expiry. */
  set(key: string, value: string, ttlMs = 0, mode: SetMode = SetMode.Always): SetOutcome {
    if (mode !== SetMode.Always) {
      const held = this.#live(key) !== undefined;
      if (mode === SetMode.IfAbsent && held) return 'exists';
      if (mode === SetMode.IfPresent && !held) return 'absent';
    }
    if (!this.#store(key, value, ttlMs)) return 'too-large';
    this.#counts.sets++;
    return 'stored';
  }

  /** Stores a copy handed over from another node: like an unconditional set, but not counted as a client's. */
  restore(key: string, value: string, ttlMs: number): boolean {
    return this.#store(key, value, ttlMs);
  }

  /** Returns whether the key existed (and had not expired). */
  delete(key: string): boolean {
    const bucket = this.#live(key);
    if (bucket === undefined) return false;
    this.#remove(bucket);
    this.#counts.deletes++;
    return true;
  }

  /** Milliseconds left before the key expires; `null` for no expiry; `undefined` if absent. */
  ttl(key: string): number | null | undefined {
    const bucket = this.#live(key);
    if (bucket === undefined) return undefined;
    const at = this.#entries.table.expiresAt(bucket);
    return at === 0 ? null : Math.max(0, at - this.#now());
  }

  /**
   * A key's value and milliseconds left (0 = no expiry), without counting a read or touching
   * recency; undefined if absent or expired. What a handoff copies.
   */
  entry(key: string): { value: string; ttlMs: number } | undefined {
    const bucket = this.#live(key);
    if (bucket === undefined) return undefined;
    const at = this.#entries.table.expiresAt(bucket);
    return { value: this.#entries.value(bucket), ttlMs: at === 0 ? 0 : Math.max(1, Math.ceil(at - this.#now())) };
  }

  /**
   * The keys, as a live iterator for a pass over them: it stays valid while keys come and go and
   * yields every key held when it began and still held when its turn comes (workers/key-cursor.ts).
   * End it with `return()` if it is not run to its end.
   */
  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /** Removes a key that has moved to other nodes; not counted as a client's delete. */
  drop(key: string): boolean {
    const bucket = this.#entries.bucket(key);
    if (bucket === undefined) return false;
    this.#remove(bucket);
    return true;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  /**
   * Active expiry: looks at up to `maxBuckets` buckets of the index, going on from where the
   * previous call stopped, and removes the entries whose time has passed without waiting for a
   * read. Returns how many it removed. Called on a timer by the node.
   */
  expire(maxBuckets: number): number {
    const before = this.#counts.expired;
    this.#entries.sweep(maxBuckets, this.#now(), (bucket) => {
      this.#remove(bucket);
      this.#counts.expired++;
    });
    return this.#counts.expired - before;
  }

  /** Shared memory made or let go since the last call (with `all`: all of it), for the HTTP thread. */
  takeUpdate(all = false): SharedUpdate | undefined {
    return this.#entries.takeUpdate(all);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Accounted bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The figures, with the shared memory's bytes: arena pages (in use or kept for reuse) and the index table. */
  stats(): StoreStats & { arenaBytes: number; indexBytes: number } {
    const { arenaBytes, indexBytes } = this.#entries;
    return { keys: this.#entries.size, bytes: this.#bytes, ...this.#counts, arenaBytes, indexBytes };
  }

  /** {@link #live}, counted as a client's read. */
  #read(key: string): number | undefined {
    const bucket = this.#live(key);
    if (bucket === undefined) this.#counts.misses++;
    else this.#counts.hits++;
    return bucket;
  }

  /** The key's bucket if it is held and has not expired; an expired key is removed on the way. */
  #live(key: string): number | undefined {
    const bucket = this.#entries.bucket(key);
    if (bucket === undefined) return bucket;
    const at = this.#entries.table.expiresAt(bucket);
    if (at !== 0 && at <= this.#now()) {
      this.#remove(bucket);
      this.#counts.expired++;
      return undefined;
    }
    return bucket;
  }

  #store(key: string, value: string, ttlMs: number): boolean {
    const keyBytes = Buffer.byteLength(key);
    const size = entrySize(key, value);
    if (this.maxBytes > 0 && size > this.maxBytes) return false;
    const now = this.#now();
    const expiresAt = ttlMs > 0 ? now + ttlMs : 0;
    for (;;) {
      // Measured before each try: an eviction for room may take this key's old entry.
      const held = this.#entries.bucket(key);
      const before = held === undefined ? 0 : this.#sizeOf(held);
      if (this.#entries.write(key, keyBytes, value, expiresAt, tickOf(now), held) >= 0) {
        this.#bytes += size - before;
        break;
      }
      // No slot within the share: pages are held by other sizes' slots. Evict least recently
      // used entries until one frees up (with values of one size, the first eviction does it).
      if (!this.#evictOne(-1)) return false;
    }
    while ((this.maxBytes > 0 && this.#bytes > this.maxBytes) || (this.maxEntries > 0 && this.#entries.size > this.maxEntries)) {
      // Looked up again each time: an eviction's delete may move this entry back a bucket.
      if (!this.#evictOne(this.#entries.bucket(key) ?? -1)) break;
    }
    return true;
  }

  /** Evicts one entry other than the one in bucket `spare`; false if there is none. */
  #evictOne(spare: number): boolean {
    const bucket = this.#entries.victim(tickOf(this.#now()), spare);
    if (bucket < 0) return false;
    this.#remove(bucket);
    this.#counts.evictions++;
    return true;
  }

  /** What an entry held now is accounted at. */
  #sizeOf(bucket: number): number {
    return accountedSize(this.#entries.keyBytes(bucket), this.#entries.table.valueBytes(bucket));
  }

  #remove(bucket: number): void {
    this.#bytes -= this.#sizeOf(bucket);
    this.#entries.remove(bucket);
  }

}

/** Accounted size of one entry: the key in UTF-8 bytes, the value's slot, the overheads. */
export function entrySize(key: string, value: string): number {
  return accountedSize(Buffer.byteLength(key), value.length);
}

/** The key in UTF-8 bytes, the item's slot, the overhead; an expiry time costs nothing more (it is in the bucket). */
function accountedSize(keyBytes: number, valueLength: number): number {
  return keyBytes + Arena.slotBytes(Arena.itemBytes(keyBytes, valueLength)) + ENTRY_OVERHEAD_BYTES;
}

/** Pages of 1 MiB, or smaller for a small share: about a sixteenth of it, at least 4 KiB. */
function pageBytesFor(maxBytes: number): number {
  if (maxBytes === 0 || maxBytes >= 16 * MAX_PAGE_BYTES) return MAX_PAGE_BYTES;
  return Math.max(4096, 2 ** Math.floor(Math.log2(maxBytes / 16)));
}

function wholeNumber(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a whole number >= 0, got ${value}`);
  }
  return value;
}
