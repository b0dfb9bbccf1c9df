/**
 * A node's items (a key's bytes, then its value's), outside the V8 heap: fixed-size slots in
 * pages of shared memory, one size class per slot size (memcached's slab design). A value held as
 * a JS string lives in the old generation, and every overwrite or eviction leaves it there as
 * garbage until the next full collection: at --max-memory 64mb with 3 nodes, 1,000,000 writes of
 * 100-byte values kept each node's heap at 32-36 MB for 21 MB of data. In the arena a freed slot
 * is reused at once. Pages are SharedArrayBuffers so that the HTTP thread reads items in place
 * (src/nodes/shared-reader.ts); a page keeps its id for as long as it exists, whatever size class
 * it serves, so the reader's map of pages never points an id at other memory.
 *
 * Slot sizes grow by 1.25 from 32 bytes to 1 MiB (so an item wastes at most a fifth of its slot);
 * an item larger than a page gets private memory of its own, which the HTTP thread never maps
 * (it reads such values by message). Pages come from one pool of at most `limit` bytes; a page
 * whose slots are all free is kept for any size class. A page may also be cut from memory handed
 * over by {@link reuse} (a replaced index table) rather than made. Pure (no threads, no I/O).
 */
import { Buffer } from 'node:buffer';
import { isAscii, writeBytes } from '../src/core/byte-strings.js';
import { ITEM_HEADER_BYTES, itemKeyIs, PRIVATE_PAGE_BASE, type SharedPage, type SharedUpdate } from '../src/core/shared-layout.js';
import { CLASS_SLOTS, classOf, itemBytes, MAX_PAGE_BYTES, slotBytes } from '../src/core/slots.js';

/** A handle is page id * 2^20 + the item's byte offset in its page (offsets are below 1 MiB). */
const OFFSET_SPAN = MAX_PAGE_BYTES;

export interface ArenaOptions {
  /** Most bytes of pages at once; 0 (default) = no limit. */
  limit?: number;
  /** Bytes per page, a power of two from 4 KiB to 1 MiB (default); small caches want small pages. */
  pageBytes?: number;
}

interface Page {
  readonly id: number;
  readonly buffer: Buffer;
  /** The shared memory under `buffer`; undefined for private memory. */
  readonly shared: SharedArrayBuffer | undefined;
  slotBytes: number;
  /** The size class, or -1 for an item larger than a page (private memory, one item). */
  sizeClass: number;
  /** Slots never handed out start at `fresh`; freed ones are stacked in `free`. */
  fresh: number;
  readonly free: number[];
  used: number;
}

export class Arena {
  readonly limit: number;
  readonly pageBytes: number;
  /** Shared pages by id (ids are never reused), and private ones by id - PRIVATE_PAGE_BASE. */
  readonly #pages: Array<Page | undefined> = [];
  readonly #private: Array<Page | undefined> = [];
  readonly #freePrivateIds: number[] = [];
  /** Per size class, its pages that have a free slot. */
  readonly #partial: Array<Set<Page>> = CLASS_SLOTS.map(() => new Set());
  /** Shared pages with no slot in use, kept for any size class. */
  readonly #spare: Page[] = [];
  #bytes = 0;
  /** Pages made and let go since {@link takeUpdate}. */
  #made: SharedPage[] = [];
  #released: number[] = [];
  /** Page-sized pieces of memory handed over by {@link reuse}, used before any is made. */
  readonly #reusable: Array<[shared: SharedArrayBuffer, offset: number]> = [];

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

  /**
   * Stores `key` (`keyBytes` long in UTF-8) and `value` (a byte string) as one item; returns its
   * handle, or -1 if no slot can be had within the limit.
   */
  store(key: string, keyBytes: number, value: string): number {
    const length = itemBytes(keyBytes, value.length);
    const bytes = slotBytes(length);
    const page = bytes > this.pageBytes ? this.#privatePage(bytes) : this.#pageWithRoom(classOf(length));
    if (page === undefined) return -1;
    const slot = page.free.length > 0 ? page.free.pop()! : page.fresh++;
    page.used++;
    if (page.sizeClass >= 0 && page.free.length === 0 && page.fresh * page.slotBytes + page.slotBytes > page.buffer.length) {
      this.#partial[page.sizeClass]!.delete(page);
    }
    const offset = slot * page.slotBytes;
    const buffer = page.buffer;
    buffer.writeUInt16LE(keyBytes, offset);
    if (isAscii(key, keyBytes)) writeBytes(buffer, key, offset + ITEM_HEADER_BYTES);
    else buffer.write(key, offset + ITEM_HEADER_BYTES, keyBytes, 'utf8');
    writeBytes(buffer, value, offset + ITEM_HEADER_BYTES + keyBytes);
    return page.id * OFFSET_SPAN + offset;
  }

  /** Takes shared memory nothing else uses any more (from `offset` on) to cut future pages from; counted as they are. */
  reuse(shared: SharedArrayBuffer, offset: number): void {
    for (let at = offset; at + this.pageBytes <= shared.byteLength; at += this.pageBytes) this.#reusable.push([shared, at]);
  }

  /** The value of an item `length` bytes long. */
  read(handle: number, length: number): string {
    const buffer = this.#pageOf(handle).buffer;
    const start = offsetOf(handle) + ITEM_HEADER_BYTES + buffer.readUInt16LE(offsetOf(handle));
    return buffer.toString('latin1', start, start + length);
  }

  /** The key of whatever item a handle points at now, if its page still exists (the handle may be stale). */
  keyAt(handle: number): string | undefined {
    const page = this.#page(pageOf(handle));
    const offset = offsetOf(handle);
    if (page === undefined || offset + ITEM_HEADER_BYTES > page.buffer.length) return undefined;
    return page.buffer.toString('utf8', offset + ITEM_HEADER_BYTES, Math.min(page.buffer.length, offset + ITEM_HEADER_BYTES + page.buffer.readUInt16LE(offset)));
  }

  /** The key's length in bytes of an item in use. */
  keyBytes(handle: number): number {
    return this.#pageOf(handle).buffer.readUInt16LE(offsetOf(handle));
  }

  /** Whether the item's key is `key`, `keyBytes` long (src/core/shared-layout.ts, itemKeyIs). */
  keyIs(handle: number, key: string, encoded: Buffer | undefined, keyBytes: number): boolean {
    return itemKeyIs(this.#pageOf(handle).buffer, offsetOf(handle), key, encoded, keyBytes);
  }

  free(handle: number): void {
    const page = this.#pageOf(handle);
    page.free.push(offsetOf(handle) / page.slotBytes);
    page.used--;
    if (page.used === 0) this.#empty(page);
    else if (page.sizeClass >= 0) this.#partial[page.sizeClass]!.add(page);
  }

  clear(): void {
    for (const page of this.#pages) if (page !== undefined && page.used > 0) this.#empty(page);
    for (const page of this.#private) if (page !== undefined) this.#empty(page);
  }

  /**
   * The pages made and let go since the last call, for the HTTP thread; undefined if none. With
   * `all`, every shared page instead (for a reader that starts from nothing).
   */
  takeUpdate(all = false): SharedUpdate | undefined {
    if (all) {
      this.#made = [];
      this.#released = [];
      const pages: SharedPage[] = [];
      for (const page of this.#pages) if (page?.shared !== undefined) pages.push(sharedPart(page.id, page.shared, page.buffer));
      return { pages };
    }
    if (this.#made.length === 0 && this.#released.length === 0) return undefined;
    const update: SharedUpdate = {};
    if (this.#made.length > 0) update.pages = this.#made;
    if (this.#released.length > 0) update.released = this.#released;
    this.#made = [];
    this.#released = [];
    return update;
  }

  #pageOf(handle: number): Page {
    return this.#page(pageOf(handle))!;
  }

  #page(id: number): Page | undefined {
    return id >= PRIVATE_PAGE_BASE ? this.#private[id - PRIVATE_PAGE_BASE] : this.#pages[id];
  }

  #pageWithRoom(sizeClass: number): Page | undefined {
    for (const page of this.#partial[sizeClass]!) return page;
    const page = this.#spare.pop() ?? this.#newPage();
    if (page === undefined) return undefined;
    page.sizeClass = sizeClass;
    page.slotBytes = CLASS_SLOTS[sizeClass]!;
    page.fresh = 0;
    page.free.length = 0;
    this.#partial[sizeClass]!.add(page);
    return page;
  }

  #newPage(): Page | undefined {
    if (!this.#room(this.pageBytes)) return undefined;
    this.#bytes += this.pageBytes;
    const [shared, offset] = this.#reusable.pop() ?? [new SharedArrayBuffer(this.pageBytes), 0];
    const buffer = Buffer.from(shared, offset, this.pageBytes);
    const page: Page = { id: this.#pages.length, buffer, shared, slotBytes: 0, sizeClass: 0, fresh: 0, free: [], used: 0 };
    this.#pages.push(page);
    this.#made.push(sharedPart(page.id, shared, buffer));
    return page;
  }

  /** One item larger than a page, in memory of its own. */
  #privatePage(bytes: number): Page | undefined {
    // Spare pages make room for it before the limit refuses it; the HTTP thread lets them go too.
    while (!this.#room(bytes) && this.#spare.length > 0) {
      const spare = this.#spare.pop()!;
      this.#pages[spare.id] = undefined;
      this.#released.push(spare.id);
      this.#bytes -= this.pageBytes;
    }
    if (!this.#room(bytes)) return undefined;
    this.#bytes += bytes;
    const index = this.#freePrivateIds.pop() ?? this.#private.length;
    const page: Page = { id: PRIVATE_PAGE_BASE + index, buffer: Buffer.allocUnsafeSlow(bytes), shared: undefined, slotBytes: bytes, sizeClass: -1, fresh: 0, free: [], used: 0 };
    this.#private[index] = page;
    return page;
  }

  #room(bytes: number): boolean {
    return this.limit === 0 || this.#bytes + bytes <= this.limit;
  }

  /** A page none of whose slots is in use: a shared one is kept for any size class, a private one goes. */
  #empty(page: Page): void {
    page.used = 0;
    if (page.sizeClass < 0) {
      this.#private[page.id - PRIVATE_PAGE_BASE] = undefined;
      this.#freePrivateIds.push(page.id - PRIVATE_PAGE_BASE);
      this.#bytes -= page.buffer.length;
      return;
    }
    this.#partial[page.sizeClass]!.delete(page);
    this.#spare.push(page);
  }
}

function sharedPart(id: number, shared: SharedArrayBuffer, buffer: Buffer): SharedPage {
  return [id, shared, buffer.byteOffset, buffer.length];
}

/** The page id of a handle (what an index bucket records, with {@link offsetOf}). */
export function pageOf(handle: number): number {
  return Math.floor(handle / OFFSET_SPAN);
}

export function offsetOf(handle: number): number {
  return handle % OFFSET_SPAN;
}

export function handleOf(page: number, offset: number): number {
  return page * OFFSET_SPAN + offset;
}
