import { mutate, type Held, type Mutation, type Outcome } from '../src/core/mutation.js';
import type { StoreCounts, StoreStats } from '../src/core/protocol.js';
import { sharedClock, tickOf, type SharedUpdate } from '../src/core/shared-layout.js';
import { Budget } from './budget.js';
import { keysInRange, randomKey } from './key-range.js';
import type { Entries } from './entries.js';

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
  /** Told of each key that expires or is evicted (keyspace notifications); the key is decoded only for it. */
  onRemoved?: (key: string, why: 'expired' | 'evicted') => void;
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
  readonly #budget: Budget;
  readonly #entries: Entries;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #onRemoved: StoreOptions['onRemoved'];
  readonly #counts: StoreCounts = { hits: 0, misses: 0, evictions: 0, expired: 0, sets: 0, deletes: 0 };

  constructor(options: StoreOptions = {}) {
    this.#now = options.now ?? sharedClock;
    this.#random = options.random ?? Math.random;
    const maxEntries = wholeNumber('maxEntries', options.maxEntries ?? 0);
    this.#onRemoved = options.onRemoved;
    this.#budget = new Budget(maxEntries, wholeNumber('maxBytes', options.maxBytes ?? 0), options.random, (bucket) => {
      this.#counts.evictions++;
      this.#onRemoved?.(this.#entries.keyOf(bucket), 'evicted');
    });
    this.#entries = this.#budget.entries;
  }

  get maxEntries(): number {
    return this.#budget.maxEntries;
  }

  get maxBytes(): number {
    return this.#budget.maxBytes;
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

  /**
   * Stores `value` (a byte string); `ttlMs` 0 = no expiry. False if the entry is larger than the
   * whole share. Conditional writes are {@link update}s.
   */
  set(key: string, value: string, ttlMs = 0): boolean {
    const now = this.#now();
    if (!this.#budget.store(key, value, expiryIn(now, ttlMs), now)) return false;
    this.#counts.sets++;
    return true;
  }

  /** Stores a copy handed over from another node: like an unconditional set, but not counted as a client's. */
  restore(key: string, value: string, ttlMs: number): boolean {
    const now = this.#now();
    return this.#budget.store(key, value, expiryIn(now, ttlMs), now);
  }

  /**
   * Applies a read-modify-write to the key (src/core/mutation.ts) in one step: what it stores is
   * counted as a set, what it removes as a delete. 'too-large' when the new entry would not fit
   * the node's whole share (nothing changed then).
   */
  update(key: string, mutation: Mutation): Outcome | 'too-large' {
    const bucket = this.#live(key);
    const table = this.#entries.table;
    const held: Held | undefined = bucket === undefined ? undefined : { value: this.#entries.value(bucket), expiresAt: table.expiresAt(bucket) };
    const outcome = mutate(held, mutation, this.#now());
    const next = outcome.next;
    if (next === null && bucket !== undefined) {
      this.#budget.remove(bucket);
      this.#counts.deletes++;
    } else if (next != null) {
      if (!this.#budget.store(key, next.value, next.expiresAt, this.#now())) return 'too-large';
      this.#counts.sets++;
    }
    return outcome;
  }

  /** Returns whether the key existed (and had not expired). */
  delete(key: string): boolean {
    const bucket = this.#live(key);
    if (bucket === undefined) return false;
    this.#budget.remove(bucket);
    this.#counts.deletes++;
    return true;
  }

  /** Milliseconds since `key`'s last read or write (the HTTP thread's too), not marking one; ticks wrap at 2^32 ms (49 days). */
  idleMs(key: string): number | undefined {
    const bucket = this.#live(key);
    return bucket === undefined ? undefined : (tickOf(this.#now()) - this.#entries.table.used(bucket)) >>> 0;
  }

  /** Milliseconds left before the key expires; `null` for no expiry; `undefined` if absent. */
  ttl(key: string): number | null | undefined {
    const bucket = this.#live(key);
    if (bucket === undefined) return undefined;
    const at = this.#entries.table.expiresAt(bucket);
    return at === 0 ? null : Math.max(0, at - this.#now());
  }

  /** A key's value and milliseconds left (0 = no expiry), not counted as a read nor a use; undefined if absent or expired. What a handoff copies. */
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

  /** The keys in [from, to) of the scan order that `match` accepts (KEYS, SCAN). */
  keysIn(from: number, to: number, match: (key: string) => boolean): string[] {
    return keysInRange(this.#entries, from, to, this.#now(), match);
  }

  randomKey(): string | undefined {
    return randomKey(this.#entries, this.#now(), this.#random);
  }

  /** Removes a key that has moved to other nodes; not counted as a client's delete. */
  drop(key: string): boolean {
    const bucket = this.#entries.bucket(key);
    if (bucket === undefined) return false;
    this.#budget.remove(bucket);
    return true;
  }

  clear(): void {
    this.#budget.clear();
  }

  /**
   * Active expiry: looks at up to `maxBuckets` buckets of the index, going on from where the
   * previous call stopped, and removes the entries whose time has passed without waiting for a
   * read. Returns how many it removed. Called on a timer by the node.
   */
  expire(maxBuckets: number): number {
    const before = this.#counts.expired;
    this.#entries.sweep(maxBuckets, this.#now(), (bucket) => this.#expired(bucket));
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
    return this.#budget.bytes;
  }

  /** The figures, with the shared memory's bytes: arena pages (in use or kept for reuse) and the index table. */
  stats(): StoreStats & { arenaBytes: number; indexBytes: number } {
    const { arenaBytes, indexBytes } = this.#entries;
    return { keys: this.#entries.size, expires: this.#entries.expiring, bytes: this.#budget.bytes, ...this.#counts, arenaBytes, indexBytes };
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
      this.#expired(bucket);
      return undefined;
    }
    return bucket;
  }

  #expired(bucket: number): void {
    this.#onRemoved?.(this.#entries.keyOf(bucket), 'expired');
    this.#budget.remove(bucket);
    this.#counts.expired++;
  }
}

/** The expiry time `ttlMs` after `now` (0 = none). */
function expiryIn(now: number, ttlMs: number): number {
  return ttlMs > 0 ? now + ttlMs : 0;
}

function wholeNumber(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a whole number >= 0, got ${value}`);
  }
  return value;
}
