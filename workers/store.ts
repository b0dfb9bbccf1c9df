import { ENTRY_OVERHEAD_BYTES, TTL_OVERHEAD_BYTES } from '../src/core/limits.js';
import { SetMode, type StoreCounts, type StoreStats } from '../src/core/protocol.js';
import { Arena, MAX_PAGE_BYTES } from './arena.js';
import { ExpiryIndex } from './expiry.js';

export type SetOutcome = 'stored' | 'exists' | 'absent' | 'too-large';

export interface StoreOptions {
  /** Maximum entries; one more evicts the least recently used. 0 (default) = no count limit. */
  maxEntries?: number;
  /**
   * Maximum accounted bytes (key UTF-8 bytes + the value's arena slot + {@link ENTRY_OVERHEAD_BYTES}
   * per entry, + {@link TTL_OVERHEAD_BYTES} with an expiry time); a write that would pass it evicts least recently used entries first. A single entry
   * larger than this is refused (`too-large`). 0 (default) = no byte limit.
   */
  maxBytes?: number;
  /** Clock in milliseconds, for TTLs. Default `performance.now`; tests pass a fake one. */
  now?: () => number;
}

/**
 * One node's data. Values come and go as byte strings: one character per byte (0-255), which V8
 * keeps as one-byte strings, so a value clones across threads as a memcpy and its size is its
 * `length`. They are held in an {@link Arena} outside the V8 heap, which also keeps them in LRU
 * order; one Map keeps the keys (a read leaves it alone), a second the expiry times of the keys
 * that have one. Pure (no threads, no I/O), so it is unit-tested directly.
 *
 * This replaced lru-cache, for two measured reasons. Memory: lru-cache's index came to 266 bytes
 * per entry on the heap after eviction churn (with the key index a pass needs), against 105 here;
 * at --max-memory 64mb the node heaps went from 32-36 MB to 17 MB for the same data. Passes:
 * lru-cache's iterators end early when the entry they stand on moves, and copying its keys cost
 * 0.4-0.8 us a key in one go; a Map's iterator stays valid while entries come and go.
 * Expired entries are never returned; {@link expire} frees them without waiting for a read.
 */
export class Store {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Key -> the value's handle in {@link #arena}, in the order the keys were added. */
  readonly #map = new Map<string, number>();
  /** Expiry times (on {@link #now}'s clock) of the keys that have one. */
  readonly #expiresAt = new ExpiryIndex();
  readonly #arena: Arena;
  readonly #now: () => number;
  #bytes = 0;
  readonly #counts: StoreCounts = { hits: 0, misses: 0, evictions: 0, expired: 0, sets: 0, deletes: 0 };

  constructor(options: StoreOptions = {}) {
    this.maxEntries = wholeNumber('maxEntries', options.maxEntries ?? 0);
    this.maxBytes = wholeNumber('maxBytes', options.maxBytes ?? 0);
    this.#now = options.now ?? (() => performance.now());
    // Slots are part of every entry's accounted size, so the arena needs the share and room for
    // partly used pages (a write that finds no slot within that evicts, see #store).
    const pageBytes = pageBytesFor(this.maxBytes);
    this.#arena = new Arena({ limit: this.maxBytes > 0 ? this.maxBytes + 2 * pageBytes : 0, pageBytes });
  }

  get(key: string): string | undefined {
    const handle = this.#live(key);
    if (handle === undefined) {
      this.#counts.misses++;
      return undefined;
    }
    this.#counts.hits++;
    this.#arena.touch(handle);
    return this.#arena.read(handle);
  }

  /** The value's size in bytes if the key is held and not expired; counts as a read but does not touch recency. */
  valueBytes(key: string): number | undefined {
    const handle = this.#live(key);
    if (handle === undefined) this.#counts.misses++;
    else this.#counts.hits++;
    return handle === undefined ? undefined : this.#arena.length(handle);
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
    const handle = this.#live(key);
    if (handle === undefined) return false;
    this.#remove(key, handle);
    this.#counts.deletes++;
    return true;
  }

  /** Milliseconds left before the key expires; `null` for no expiry; `undefined` if absent. */
  ttl(key: string): number | null | undefined {
    if (this.#live(key) === undefined) return undefined;
    const at = this.#expiresAt.get(key);
    return at === undefined ? null : Math.max(0, at - this.#now());
  }

  /**
   * A key's value and milliseconds left (0 = no expiry), without counting a read or touching
   * recency; undefined if absent or expired. What a handoff copies.
   */
  entry(key: string): { value: string; ttlMs: number } | undefined {
    const handle = this.#live(key);
    if (handle === undefined) return undefined;
    const at = this.#expiresAt.get(key);
    return { value: this.#arena.read(handle), ttlMs: at === undefined ? 0 : Math.max(1, Math.ceil(at - this.#now())) };
  }

  /**
   * The keys, as a live iterator for a pass over them: it stays valid while keys are added and
   * removed and yields every key held when it began, and the keys added meanwhile (reads and
   * overwrites leave a key where it is; one deleted and added again comes again, later).
   */
  keys(): IterableIterator<string> {
    return this.#map.keys();
  }

  /** Removes a key that has moved to other nodes; not counted as a client's delete. */
  drop(key: string): boolean {
    const handle = this.#map.get(key);
    if (handle === undefined) return false;
    this.#remove(key, handle);
    return true;
  }

  clear(): void {
    this.#map.clear();
    this.#expiresAt.clear();
    this.#arena.clear();
    this.#bytes = 0;
  }

  /**
   * Active expiry: looks at up to `maxKeys` of the keys that have an expiry time, going on from
   * where the previous call stopped, and removes those whose time has passed without waiting for
   * a read. Returns how many it removed. Called on a timer by the node.
   */
  expire(maxKeys: number): number {
    const before = this.#counts.expired;
    this.#expiresAt.sweep(maxKeys, this.#now(), (key) => {
      this.#remove(key, this.#map.get(key)!);
      this.#counts.expired++;
    });
    return this.#counts.expired - before;
  }

  get size(): number {
    return this.#map.size;
  }

  /** Accounted bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes of arena pages, in use or kept for reuse: the values' memory outside the V8 heap. */
  get arenaBytes(): number {
    return this.#arena.bytes;
  }

  stats(): StoreStats {
    return { keys: this.#map.size, bytes: this.#bytes, ...this.#counts };
  }

  /** The key's handle if it is held and has not expired; an expired key is removed on the way. */
  #live(key: string): number | undefined {
    const handle = this.#map.get(key);
    if (handle === undefined || this.#expiresAt.size === 0) return handle;
    const at = this.#expiresAt.get(key);
    if (at !== undefined && at <= this.#now()) {
      this.#remove(key, handle);
      this.#counts.expired++;
      return undefined;
    }
    return handle;
  }

  #store(key: string, value: string, ttlMs: number): boolean {
    const size = entrySize(key, value, ttlMs);
    if (this.maxBytes > 0 && size > this.maxBytes) return false;
    let handle = this.#arena.store(value, key);
    // No slot within the share: pages are held by other sizes' slots. Evict least recently used
    // entries until one frees up (with values of one size, the first eviction does it).
    while (handle < 0 && this.#evictOldest()) handle = this.#arena.store(value, key);
    if (handle < 0) return false;
    // An overwrite replaces the handle in place: the key keeps its place in the Map.
    const old = this.#map.get(key);
    if (old !== undefined) {
      this.#bytes -= this.#sizeOf(key, old);
      this.#arena.free(old);
    }
    this.#map.set(key, handle);
    this.#bytes += size;
    if (ttlMs > 0) this.#expiresAt.set(key, this.#now() + ttlMs);
    else if (old !== undefined) this.#expiresAt.delete(key);
    while ((this.maxBytes > 0 && this.#bytes > this.maxBytes) || (this.maxEntries > 0 && this.#map.size > this.maxEntries)) {
      if (!this.#evictOldest()) break;
    }
    return true;
  }

  #evictOldest(): boolean {
    const handle = this.#arena.oldest();
    if (handle < 0) return false;
    this.#remove(this.#arena.keyOf(handle), handle);
    this.#counts.evictions++;
    return true;
  }

  /** What an entry held now is accounted at (before its expiry time is changed or removed). */
  #sizeOf(key: string, handle: number): number {
    const ttl = this.#expiresAt.has(key) ? TTL_OVERHEAD_BYTES : 0;
    return Buffer.byteLength(key) + Arena.slotBytes(this.#arena.length(handle)) + ENTRY_OVERHEAD_BYTES + ttl;
  }

  #remove(key: string, handle: number): void {
    this.#bytes -= this.#sizeOf(key, handle);
    this.#arena.free(handle);
    this.#map.delete(key);
    this.#expiresAt.delete(key);
  }
}

/** Accounted size of one entry: the key in UTF-8 bytes, the value's slot, the overheads. */
export function entrySize(key: string, value: string, ttlMs = 0): number {
  return Buffer.byteLength(key) + Arena.slotBytes(value.length) + ENTRY_OVERHEAD_BYTES + (ttlMs > 0 ? TTL_OVERHEAD_BYTES : 0);
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
