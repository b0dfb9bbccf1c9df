/**
 * A node's values, outside the V8 heap: fixed-size slots in 1 MiB pages, one size class per
 * slot size (memcached's slab design). A value held as a JS string lives in the old generation,
 * and every overwrite or eviction leaves it there as garbage until the next full collection: at
 * --max-memory 64mb with 3 nodes, 1,000,000 writes of 100-byte values kept each node's heap at
 * 32-36 MB for 21 MB of data. In the arena a freed slot is reused at once, and what stays on the
 * heap per entry is the key and the index.
 *
 * Slot sizes grow by 1.25 from 32 bytes to 1 MiB (so a value wastes at most a fifth of its slot);
 * a value whose slot is larger than a page gets a page of its own. Pages come from one pool of at
 * most `limit` bytes; a page whose slots are all free goes back to it. Pure (no threads, no I/O).
 *
 * Like memcached's items, the slots in use form a list in order of use, linked through per-page
 * typed arrays, each slot knowing its key: a use moves a slot to the head in a few array writes,
 * and eviction takes the tail. Keeping that order in the key Map instead (delete and re-insert on
 * a read) churned it enough that V8 doubled its table: with 1,000,000 keys on 3 nodes, node heaps
 * went from 29 to 58-67 MB and RSS from 299 to 377-415 MB over 1,000,000 mixed requests.
 */
import { SLOT_GROWTH, SMALLEST_SLOT_BYTES } from '../src/core/limits.js';

export const MAX_PAGE_BYTES = 1024 * 1024;
/**
 * Slots per page are at most 2^15 (1 MiB / 32 bytes), so a handle is page * 2^15 + slot; with at
 * most 2^17 pages (128 GiB) it fits the list's Uint32 links, NONE marking an end.
 */
const SLOT_BITS = 15;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const NONE = 0xffffffff;

/** Slot sizes of the size classes. */
const CLASS_SLOTS: number[] = [];
for (let size = SMALLEST_SLOT_BYTES; size < MAX_PAGE_BYTES; size = Math.ceil((size * SLOT_GROWTH) / 8) * 8) CLASS_SLOTS.push(size);
CLASS_SLOTS.push(MAX_PAGE_BYTES);

export interface ArenaOptions {
  /** Most bytes of pages at once; 0 (default) = no limit. */
  limit?: number;
  /** Bytes per page, a power of two from 4 KiB to 1 MiB (default); small caches want small pages. */
  pageBytes?: number;
}

interface Page {
  readonly id: number;
  readonly buffer: Buffer;
  readonly slotBytes: number;
  /** The size class, or -1 for a value larger than a page. */
  readonly sizeClass: number;
  /** Each slot's value length, its neighbours in the use list (towards the head, the tail), its key. */
  readonly lengths: Uint32Array;
  readonly newer: Uint32Array;
  readonly older: Uint32Array;
  readonly keys: Array<string | undefined>;
  /** Slots never handed out start at `fresh`; freed ones are stacked in `free`. */
  fresh: number;
  readonly free: number[];
  used: number;
}

export class Arena {
  readonly limit: number;
  readonly pageBytes: number;
  readonly #pages: Array<Page | undefined> = [];
  readonly #freeIds: number[] = [];
  /** Per size class, its pages that have a free slot. */
  readonly #partial: Array<Set<Page>> = CLASS_SLOTS.map(() => new Set());
  /** Whole pages no longer in use, kept for reuse rather than handed back to the allocator. */
  readonly #spare: Buffer[] = [];
  #bytes = 0;
  /** The most and the least recently used slots. */
  #head = NONE;
  #tail = NONE;

  constructor(options: ArenaOptions = {}) {
    this.limit = options.limit ?? 0;
    this.pageBytes = options.pageBytes ?? MAX_PAGE_BYTES;
    if (!Number.isInteger(Math.log2(this.pageBytes)) || this.pageBytes < 4096 || this.pageBytes > MAX_PAGE_BYTES) {
      throw new RangeError(`pageBytes must be a power of two from 4096 to ${MAX_PAGE_BYTES}, got ${this.pageBytes}`);
    }
  }

  /** Bytes of pages in use or kept spare: what the arena adds to the process's memory. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The bytes a value of `length` bytes takes: its slot. */
  static slotBytes(length: number): number {
    return length > MAX_PAGE_BYTES ? length : CLASS_SLOTS[classOf(length)]!;
  }

  /**
   * Stores a byte string for `key` as the most recently used; returns its handle, or -1 if no
   * slot can be had within the limit.
   */
  store(value: string, key: string): number {
    const length = value.length;
    const slotBytes = Arena.slotBytes(length);
    const page = slotBytes > this.pageBytes ? this.#newPage(slotBytes, -1) : this.#pageWithRoom(classOf(length));
    if (page === undefined) return -1;
    const slot = page.free.length > 0 ? page.free.pop()! : page.fresh++;
    page.used++;
    if (page.sizeClass >= 0 && page.free.length === 0 && page.fresh >= page.lengths.length) {
      this.#partial[page.sizeClass]!.delete(page);
    }
    page.lengths[slot] = length;
    page.keys[slot] = key;
    page.buffer.write(value, slot * page.slotBytes, length, 'latin1');
    const handle = page.id * (SLOT_MASK + 1) + slot;
    this.#linkAtHead(handle);
    return handle;
  }

  read(handle: number): string {
    const page = this.#pageOf(handle);
    const slot = handle & SLOT_MASK;
    const start = slot * page.slotBytes;
    return page.buffer.toString('latin1', start, start + page.lengths[slot]!);
  }

  length(handle: number): number {
    const page = this.#pageOf(handle);
    return page.lengths[handle & SLOT_MASK]!;
  }

  keyOf(handle: number): string {
    return this.#pageOf(handle).keys[handle & SLOT_MASK]!;
  }

  /** The least recently used slot's handle, or -1 when none is in use. */
  oldest(): number {
    return this.#tail === NONE ? -1 : this.#tail;
  }

  /** Makes the slot the most recently used. */
  touch(handle: number): void {
    if (handle === this.#head) return;
    this.#unlink(handle);
    this.#linkAtHead(handle);
  }

  free(handle: number): void {
    this.#unlink(handle);
    const page = this.#pageOf(handle);
    page.keys[handle & SLOT_MASK] = undefined;
    page.free.push(handle & SLOT_MASK);
    page.used--;
    if (page.used === 0) this.#release(page);
    else if (page.sizeClass >= 0) this.#partial[page.sizeClass]!.add(page);
  }

  clear(): void {
    for (const page of this.#pages) if (page !== undefined) this.#release(page);
    this.#head = NONE;
    this.#tail = NONE;
  }

  #pageOf(handle: number): Page {
    return this.#pages[Math.floor(handle / (SLOT_MASK + 1))]!;
  }

  #linkAtHead(handle: number): void {
    const page = this.#pageOf(handle);
    const slot = handle & SLOT_MASK;
    page.newer[slot] = NONE;
    page.older[slot] = this.#head;
    if (this.#head !== NONE) this.#pageOf(this.#head).newer[this.#head & SLOT_MASK] = handle;
    else this.#tail = handle;
    this.#head = handle;
  }

  #unlink(handle: number): void {
    const page = this.#pageOf(handle);
    const slot = handle & SLOT_MASK;
    const newer = page.newer[slot]!;
    const older = page.older[slot]!;
    if (newer !== NONE) this.#pageOf(newer).older[newer & SLOT_MASK] = older;
    else this.#head = older;
    if (older !== NONE) this.#pageOf(older).newer[older & SLOT_MASK] = newer;
    else this.#tail = newer;
  }

  #pageWithRoom(sizeClass: number): Page | undefined {
    for (const page of this.#partial[sizeClass]!) return page;
    const page = this.#newPage(this.pageBytes, sizeClass);
    if (page !== undefined) this.#partial[sizeClass]!.add(page);
    return page;
  }

  #newPage(bytes: number, sizeClass: number): Page | undefined {
    const whole = sizeClass >= 0;
    const spare = whole ? this.#spare.pop() : undefined;
    if (spare === undefined) {
      // Spare pages make room for a page of another size before the limit refuses it.
      while (this.limit > 0 && this.#bytes + bytes > this.limit && this.#spare.pop() !== undefined) this.#bytes -= this.pageBytes;
      if (this.limit > 0 && this.#bytes + bytes > this.limit) return undefined;
      this.#bytes += bytes;
    }
    const slotBytes = sizeClass >= 0 ? CLASS_SLOTS[sizeClass]! : bytes;
    const slots = Math.floor(bytes / slotBytes);
    const id = this.#freeIds.pop() ?? this.#pages.length;
    const page: Page = {
      id,
      buffer: spare ?? Buffer.allocUnsafeSlow(bytes),
      slotBytes,
      sizeClass,
      lengths: new Uint32Array(slots),
      newer: new Uint32Array(slots),
      older: new Uint32Array(slots),
      keys: new Array<string | undefined>(slots),
      fresh: 0,
      free: [],
      used: 0,
    };
    this.#pages[id] = page;
    return page;
  }

  #release(page: Page): void {
    this.#pages[page.id] = undefined;
    this.#freeIds.push(page.id);
    if (page.sizeClass >= 0) this.#partial[page.sizeClass]!.delete(page);
    if (page.sizeClass >= 0) this.#spare.push(page.buffer);
    else this.#bytes -= page.buffer.length;
  }
}

/** The smallest size class whose slots hold `length` bytes (binary search over 50-odd sizes). */
function classOf(length: number): number {
  let low = 0;
  let high = CLASS_SLOTS.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (CLASS_SLOTS[mid]! < length) low = mid + 1;
    else high = mid;
  }
  return low;
}
