import {
  EMPTY,
  ENTRY_WORDS,
  EXPIRES,
  HASH,
  HEADER_ADOPTED,
  HEADER_CAPACITY,
  HEADER_STATE,
  HEADER_WORDS,
  homeBucket,
  OFFSET,
  PAGE,
  SEQ,
  HEADER_MOVES,
  TABLE_RETIRED,
  USED,
  VALUE_BYTES,
} from '../src/core/shared-layout.js';
import type { UseTicks } from './eviction.js';

/** A table is replaced by one twice as large once its entries pass this share of it. */
const MAX_LOAD = 0.75;
export const MIN_CAPACITY = 1024;

/**
 * The writer's side of a node's index table (layout and reading rules: src/core/shared-layout.ts).
 * Only the node thread calls these; every change to a bucket is bracketed by its sequence
 * counter, so the HTTP thread never keeps what it read while a bucket changed under it. Which
 * bucket holds which key is the store's to remember; this knows buckets, not keys.
 */
export class IndexTable implements UseTicks {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  readonly #words: Int32Array;
  readonly #floats: Float64Array;
  #live = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(Math.log2(capacity)) || capacity < MIN_CAPACITY) throw new RangeError(`capacity must be a power of two >= ${MIN_CAPACITY}`);
    this.capacity = capacity;
    this.buffer = new SharedArrayBuffer((HEADER_WORDS + capacity * ENTRY_WORDS) * 4);
    this.#words = new Int32Array(this.buffer);
    this.#floats = new Float64Array(this.buffer);
    this.#words[HEADER_CAPACITY] = capacity;
    for (let bucket = 0; bucket < capacity; bucket++) this.#words[base(bucket) + PAGE] = EMPTY;
  }

  get live(): number {
    return this.#live;
  }

  /** Whether one more entry would pass the load limit: time for a larger table. */
  get full(): boolean {
    return this.#live + 1 > this.capacity * MAX_LOAD;
  }

  /** The empty bucket on the probe path of `hash` where a key not held goes. */
  freeBucket(hash: number): number {
    const mask = this.capacity - 1;
    for (let bucket = homeBucket(hash, this.capacity); ; bucket = (bucket + 1) & mask) {
      if (this.#words[base(bucket) + PAGE] === EMPTY) return bucket;
    }
  }

  /** Fills `bucket` (from {@link freeBucket}, or a bucket the key holds) with an entry. */
  put(bucket: number, hash: number, page: number, offset: number, valueBytes: number, expiresAt: number, used: number): void {
    const at = base(bucket);
    const words = this.#words;
    const before = words[at + PAGE]!;
    Atomics.add(words, at + SEQ, 1);
    words[at + HASH] = hash;
    words[at + PAGE] = page;
    words[at + OFFSET] = offset;
    words[at + VALUE_BYTES] = valueBytes;
    this.#floats[(at + EXPIRES) / 2] = expiresAt;
    words[at + USED] = used;
    Atomics.add(words, at + SEQ, 1);
    if (before === EMPTY) this.#live++;
  }

  /**
   * Empties a bucket, and moves back the entries after it that a probe could no longer reach
   * past the hole; `moved` hears of each (from, to), for the caller's map of keys to buckets.
   * About half an entry moves per delete at the tables' usual load.
   */
  remove(bucket: number, moved: (from: number, to: number) => void): void {
    const words = this.#words;
    const mask = this.capacity - 1;
    Atomics.add(words, HEADER_MOVES, 1);
    this.#empty(bucket);
    for (let hole = bucket, next = (bucket + 1) & mask; words[base(next) + PAGE] !== EMPTY; next = (next + 1) & mask) {
      // An entry whose home lies cyclically in (hole, next] is still reachable; any other moves.
      const home = homeBucket(words[base(next) + HASH]!, this.capacity);
      const reachable = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (reachable) continue;
      this.#move(next, hole);
      moved(next, hole);
      hole = next;
    }
    Atomics.add(words, HEADER_MOVES, 1);
    this.#live--;
  }

  #empty(bucket: number): void {
    const at = base(bucket);
    Atomics.add(this.#words, at + SEQ, 1);
    this.#words[at + PAGE] = EMPTY;
    Atomics.add(this.#words, at + SEQ, 1);
  }

  /** Copies an entry to an empty bucket of this table, then empties its old bucket. */
  #move(from: number, to: number): void {
    const at = base(from);
    const words = this.#words;
    const into = base(to);
    Atomics.add(words, into + SEQ, 1);
    for (let word = HASH; word < ENTRY_WORDS; word++) words[into + word] = words[at + word]!;
    Atomics.add(words, into + SEQ, 1);
    this.#empty(from);
  }

  /** Copies a held entry of `from` into a free bucket here; returns the bucket. */
  copy(from: IndexTable, bucket: number): number {
    const at = base(bucket);
    const hash = from.#words[at + HASH]!;
    const into = this.freeBucket(hash);
    const words = from.#words;
    this.put(into, hash, words[at + PAGE]!, words[at + OFFSET]!, words[at + VALUE_BYTES]!, from.#floats[(at + EXPIRES) / 2]!, words[at + USED]!);
    return into;
  }

  /** Whether the HTTP thread has taken this table in hand, and so reads no older one. */
  get adopted(): boolean {
    return Atomics.load(this.#words, HEADER_ADOPTED) === 1;
  }

  /** Marks the table as no longer written: readers that find it so ask the node instead. */
  retire(): void {
    Atomics.store(this.#words, HEADER_STATE, TABLE_RETIRED);
  }

  hash(bucket: number): number {
    return this.#words[base(bucket) + HASH]!;
  }

  page(bucket: number): number {
    return this.#words[base(bucket) + PAGE]!;
  }

  offset(bucket: number): number {
    return this.#words[base(bucket) + OFFSET]!;
  }

  valueBytes(bucket: number): number {
    return this.#words[base(bucket) + VALUE_BYTES]!;
  }

  expiresAt(bucket: number): number {
    return this.#floats[(base(bucket) + EXPIRES) / 2]!;
  }

  /** The last use as a tick (see src/core/shared-layout.ts), readers' marks included. */
  used(bucket: number): number {
    return this.#words[base(bucket) + USED]! >>> 0;
  }

  /** As eviction reads it ({@link UseTicks}): the last use, or -1 for a bucket that holds nothing. */
  lastUsed(bucket: number): number {
    return this.#words[base(bucket) + PAGE]! < 0 ? -1 : this.used(bucket);
  }

  touch(bucket: number, tick: number): void {
    this.#words[base(bucket) + USED] = tick;
  }
}

/** Where the buckets start: the header before them stays as it is for as long as the buffer lives. */
export const BUCKETS_OFFSET = HEADER_WORDS * 4;

function base(bucket: number): number {
  return HEADER_WORDS + bucket * ENTRY_WORDS;
}
