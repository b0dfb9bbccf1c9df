import { LRUCache } from 'lru-cache';
import { SetMode, type StoreStats } from '../src/protocol.js';
import { ExpiryWheel } from './expiry.js';

/**
 * Bytes an entry costs beyond its key and value, as measured on Node 20 (x64) by
 * bench/entry-overhead.ts: heap growth per entry for 1,000,000 entries, minus the key and
 * value bytes (lru-cache's index arrays, its key map, two string headers, the TTL arrays).
 * Accounting it is what lets --max-memory bound the process's real memory, not just its payload.
 */
export const ENTRY_OVERHEAD_BYTES = 200;

export type SetOutcome = 'stored' | 'exists' | 'absent' | 'too-large';

export interface StoreOptions {
  /** Maximum entries; one more evicts the least recently used. 0 (default) = no count limit. */
  maxEntries?: number;
  /**
   * Maximum accounted bytes (key UTF-8 bytes + value bytes + {@link ENTRY_OVERHEAD_BYTES} per
   * entry); a write that would pass it evicts least recently used entries first. A single entry
   * larger than this is refused (`too-large`). 0 (default) = no byte limit.
   */
  maxBytes?: number;
  /** Clock in milliseconds, for TTLs. Default `performance.now`; tests pass a fake one. */
  now?: () => number;
}

/**
 * One node's data. Values are byte strings: one character per byte (0-255), which V8 keeps as
 * one-byte strings, so a value costs its length in bytes, clones across threads as a memcpy, and
 * its size is its `length`. Pure (no threads, no I/O), so it is unit-tested directly.
 * Expired entries are never returned; {@link expire} frees them without waiting for a read.
 */
export class Store {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly #cache: LRUCache<string, string>;
  /**
   * The keys held, in the order they were first stored. A pass over a node's keys during a
   * membership change walks this with a live iterator, a chunk at a time: unlike lru-cache's
   * iterators, a Set's stays valid while entries come and go. Copying lru-cache's keys instead
   * cost 0.4-0.8 us per key (66,000 keys: 25-50 ms in one go, a stall for every request to the
   * node); the index costs about 21 bytes per key.
   */
  readonly #index = new Set<string>();
  readonly #wheel: ExpiryWheel;
  readonly #now: () => number;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expired = 0;
  #sets = 0;
  #deletes = 0;

  constructor(options: StoreOptions = {}) {
    this.maxEntries = wholeNumber('maxEntries', options.maxEntries ?? 0);
    this.maxBytes = wholeNumber('maxBytes', options.maxBytes ?? 0);
    this.#now = options.now ?? (() => performance.now());
    this.#wheel = new ExpiryWheel();
    this.#cache = new LRUCache<string, string>({
      ...(this.maxEntries > 0 ? { max: this.maxEntries } : {}),
      maxSize: this.maxBytes > 0 ? this.maxBytes : Number.MAX_SAFE_INTEGER,
      sizeCalculation: (value, key) => entrySize(key, value),
      // TTL bookkeeping on; per-entry TTLs are passed to set(). ttlResolution 0: read the clock
      // on every check, so expiry is exact to the millisecond.
      ttl: 0,
      ttlResolution: 0,
      perf: { now: this.#now },
      dispose: (_value, key, reason) => {
        if (reason === 'set') return;
        this.#index.delete(key);
        if (reason === 'evict') this.#evictions++;
        else if (reason === 'expire') this.#expired++;
      },
    });
  }

  get(key: string): string | undefined {
    const value = this.#cache.get(key);
    if (value === undefined) this.#misses++;
    else this.#hits++;
    return value;
  }

  /** Whether the key is held and not expired; counts as a read but does not touch recency. */
  has(key: string): boolean {
    const held = this.#cache.has(key);
    if (held) this.#hits++;
    else this.#misses++;
    return held;
  }

  /** The value's size in bytes, without counting a read or touching recency. */
  peekSize(key: string): number | undefined {
    return this.#cache.peek(key)?.length;
  }

  /** Stores `value` (a byte string); `ttlMs` 0 = no expiry. */
  set(key: string, value: string, ttlMs = 0, mode: SetMode = SetMode.Always): SetOutcome {
    if (mode !== SetMode.Always) {
      const held = this.#cache.has(key);
      if (mode === SetMode.IfAbsent && held) return 'exists';
      if (mode === SetMode.IfPresent && !held) return 'absent';
    }
    if (!this.#store(key, value, ttlMs)) return 'too-large';
    this.#sets++;
    return 'stored';
  }

  /** Stores a copy handed over from another node: like an unconditional set, but not counted as a client's. */
  restore(key: string, value: string, ttlMs: number): boolean {
    return this.#store(key, value, ttlMs);
  }

  #store(key: string, value: string, ttlMs: number): boolean {
    if (this.maxBytes > 0 && entrySize(key, value) > this.maxBytes) return false;
    this.#cache.set(key, value, { ttl: ttlMs });
    this.#index.add(key);
    if (ttlMs > 0) this.#wheel.add(key, this.#now() + ttlMs);
    return true;
  }

  /** Returns whether the key existed (and had not expired). */
  delete(key: string): boolean {
    const existed = this.#cache.has(key) && this.#cache.delete(key);
    if (existed) this.#deletes++;
    return existed;
  }

  /** Milliseconds left before the key expires; `null` for no expiry; `undefined` if absent. */
  ttl(key: string): number | null | undefined {
    if (!this.#cache.has(key)) return undefined;
    const left = this.#cache.getRemainingTTL(key);
    return left === Number.POSITIVE_INFINITY ? null : Math.max(0, left);
  }

  /**
   * A key's value and milliseconds left (0 = no expiry), without counting a read or touching
   * recency; undefined if absent or expired. What a handoff copies.
   */
  entry(key: string): { value: string; ttlMs: number } | undefined {
    const value = this.#cache.peek(key);
    if (value === undefined) return undefined;
    const left = this.#cache.getRemainingTTL(key);
    if (left === Number.POSITIVE_INFINITY) return { value, ttlMs: 0 };
    return left > 0 ? { value, ttlMs: Math.ceil(left) } : undefined;
  }

  /**
   * The keys, as a live iterator: it stays valid while keys are added and removed, yields each key
   * held from start to end once (a key removed and stored again comes again, later), and also
   * the keys added meanwhile. Expired keys not yet removed may come too: {@link entry} skips them.
   */
  keys(): IterableIterator<string> {
    return this.#index.values();
  }

  /** Removes a key that has moved to other nodes; not counted as a client's delete. */
  drop(key: string): boolean {
    return this.#cache.delete(key);
  }

  clear(): void {
    this.#cache.clear();
    this.#index.clear();
    this.#wheel.clear();
  }

  /**
   * Active expiry: removes keys whose time has passed without waiting for a read, for at most
   * `budgetMs`. Returns how many were removed. Called on a timer by the shard.
   */
  expire(budgetMs = 5): number {
    const before = this.#expired;
    this.#wheel.due(this.#now(), budgetMs, (key) => {
      // The wheel may hold a key since overwritten with a later expiry, or deleted: has() is
      // false only for a stale or absent key, and get() removes a stale one (dispose() counts it
      // as 'expire') and does nothing for an absent one. A live key is not touched.
      if (!this.#cache.has(key)) this.#cache.get(key);
    });
    return this.#expired - before;
  }

  get size(): number {
    return this.#cache.size;
  }

  /** Accounted bytes held. */
  get bytes(): number {
    return this.#cache.calculatedSize;
  }

  stats(): StoreStats {
    return {
      keys: this.#cache.size,
      bytes: this.#cache.calculatedSize,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expired: this.#expired,
      sets: this.#sets,
      deletes: this.#deletes,
    };
  }
}

/** Accounted size of one entry. Keys are counted in UTF-8 bytes; values are byte strings. */
export function entrySize(key: string, value: string): number {
  return Buffer.byteLength(key) + value.length + ENTRY_OVERHEAD_BYTES;
}

function wholeNumber(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a whole number >= 0, got ${value}`);
  }
  return value;
}
