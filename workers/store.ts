import { LRUCache } from 'lru-cache';
import type { StoreStats } from '../src/protocol.js';

export interface StoreOptions {
  /**
   * Maximum entries held; setting one more evicts the least recently used. 0 (the default) means
   * no count limit and a plain Map (no recency bookkeeping on reads). With a limit, lru-cache
   * pre-allocates its index arrays for this many entries (about 16 bytes each) up front.
   */
  maxEntries?: number;
}


/** The minimal map both backings provide. */
interface Backing {
  get(key: string): string | undefined;
  set(key: string, value: string): unknown;
  delete(key: string): boolean;
  clear(): void;
  readonly size: number;
}

/**
 * One node's data. Pure: no threads, no I/O, so it is unit-tested directly; the shard worker
 * wraps it. Reads and writes of a key bump its recency when a count limit is set.
 */
export class Store {
  readonly maxEntries: number;
  readonly #data: Backing;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #sets = 0;
  #deletes = 0;

  constructor(options: StoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 0;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError(`maxEntries must be a whole number >= 0, got ${maxEntries}`);
    }
    this.maxEntries = maxEntries;
    this.#data =
      maxEntries === 0
        ? new Map<string, string>()
        : new LRUCache<string, string>({
            max: maxEntries,
            dispose: (_value, _key, reason) => {
              if (reason === 'evict') this.#evictions++;
            },
          });
  }

  get(key: string): string | undefined {
    const value = this.#data.get(key);
    if (value === undefined) this.#misses++;
    else this.#hits++;
    return value;
  }

  set(key: string, value: string): void {
    this.#sets++;
    this.#data.set(key, value);
  }

  /** Returns whether the key existed. */
  delete(key: string): boolean {
    const existed = this.#data.delete(key);
    if (existed) this.#deletes++;
    return existed;
  }

  clear(): void {
    this.#data.clear();
  }

  get size(): number {
    return this.#data.size;
  }

  stats(): StoreStats {
    return {
      keys: this.#data.size,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      sets: this.#sets,
      deletes: this.#deletes,
    };
  }
}
