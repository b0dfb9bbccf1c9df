import { Buffer } from 'node:buffer';
import { tickOf } from '../src/core/shared-layout.js';
import { entryBytes, MAX_PAGE_BYTES } from '../src/core/slots.js';
import { Entries } from './entries.js';

/**
 * A node's share of memory and of entries, and the only writer of its {@link Entries}: what an
 * entry is accounted at, and which entries go (Redis's sampled LRU, workers/eviction.ts) when a
 * write would pass either limit. The store decides what is written; the budget, whether it fits.
 */
export class Budget {
  /** Maximum entries (0 = no limit) and accounted bytes (0 = no limit). */
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly entries: Entries;
  /** Accounted bytes held. */
  bytes = 0;
  /** Told of each eviction, with the bucket, before the entry goes. */
  readonly #onEvicted: (bucket: number) => void;

  constructor(maxEntries: number, maxBytes: number, random: (() => number) | undefined, onEvicted: (bucket: number) => void) {
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.#onEvicted = onEvicted;
    // Slots are part of every entry's accounted size, so the arena needs the share and room for
    // partly used pages (a write that finds no slot within that evicts, see store()).
    const pageBytes = pageBytesFor(maxBytes);
    this.entries = new Entries({ limit: maxBytes > 0 ? maxBytes + 2 * pageBytes : 0, pageBytes }, random);
  }

  /** Writes the entry, `expiresAt` on the shared clock (0 = none), evicting for room; false if it cannot fit the share. */
  store(key: string, value: string, expiresAt: number, now: number): boolean {
    const entries = this.entries;
    const keyBytes = Buffer.byteLength(key);
    const size = entryBytes(keyBytes, value.length);
    if (this.maxBytes > 0 && size > this.maxBytes) return false;
    for (;;) {
      // Measured before each try: an eviction for room may take this key's old entry.
      const held = entries.bucket(key);
      const before = held === undefined ? 0 : this.#sizeOf(held);
      if (entries.write(key, keyBytes, value, expiresAt, tickOf(now), held) >= 0) {
        this.bytes += size - before;
        break;
      }
      // No slot within the share: pages are held by other sizes' slots. Evict least recently
      // used entries until one frees up (with values of one size, the first eviction does it).
      if (!this.#evictOne(-1, now)) return false;
    }
    while ((this.maxBytes > 0 && this.bytes > this.maxBytes) || (this.maxEntries > 0 && entries.size > this.maxEntries)) {
      // Looked up again each time: an eviction's delete may move this entry back a bucket.
      if (!this.#evictOne(entries.bucket(key) ?? -1, now)) break;
    }
    return true;
  }

  remove(bucket: number): void {
    this.bytes -= this.#sizeOf(bucket);
    this.entries.remove(bucket);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  /** Evicts one entry other than the one in bucket `spare`; false if there is none. */
  #evictOne(spare: number, now: number): boolean {
    const bucket = this.entries.victim(tickOf(now), spare);
    if (bucket < 0) return false;
    this.#onEvicted(bucket);
    this.remove(bucket);
    return true;
  }

  /** What an entry held now is accounted at. */
  #sizeOf(bucket: number): number {
    return entryBytes(this.entries.keyBytes(bucket), this.entries.table.valueBytes(bucket));
  }
}

/** Pages of 1 MiB, or smaller for a small share: about a sixteenth of it, at least 4 KiB. */
function pageBytesFor(maxBytes: number): number {
  if (maxBytes === 0 || maxBytes >= 16 * MAX_PAGE_BYTES) return MAX_PAGE_BYTES;
  return Math.max(4096, 2 ** Math.floor(Math.log2(maxBytes / 16)));
}
