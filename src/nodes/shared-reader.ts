import { Buffer } from 'node:buffer';
import { encodedKey } from '../core/byte-strings.js';
import { hash32 } from '../core/hash.js';
import { MAX_KEY_BYTES } from '../core/limits.js';
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
  ITEM_HEADER_BYTES,
  itemKeyIs,
  OFFSET,
  PAGE,
  SEQ,
  sharedClock,
  HEADER_MOVES,
  TABLE_LIVE,
  USED,
  VALUE_BYTES,
  type SharedUpdate,
} from '../core/shared-layout.js';

/** What {@link SharedReader.read} found. */
export const Lookup = {
  Missing: 0,
  /** Held: the reader's `value`, `valueBytes` and `expiresAt` say what it read. */
  Found: 1,
  /** Shared memory cannot answer (not mapped yet, retired, or changing too fast): ask the node. */
  Unknown: 2,
} as const;
export type Lookup = (typeof Lookup)[keyof typeof Lookup];

/** What a read copies out of the item. */
export const Want = {
  /** Nothing (HEAD, TTL): the use is not marked either. */
  Nothing: 0,
  /** The value as a byte string. */
  Bytes: 1,
  /** The value decoded as UTF-8 (the seed's JSON answer). */
  Text: 2,
} as const;
export type Want = (typeof Want)[keyof typeof Want];

/** A bucket seen changing this many times in one read: the node is busy with it, ask it instead. */
const MAX_ATTEMPTS = 16;

/**
 * The HTTP thread's view of one node's shared memory (layout and rules: src/core/shared-layout.ts):
 * a read without a message. It never writes anything but a bucket's last-use tick. A value is
 * copied out (a new string) before the bucket's sequence counter is checked again, so what it
 * returns cannot change afterwards, and the key's bytes are compared, so a reused slot never
 * answers for another key. Owned by the node's {@link NodeClient}; dropped with its thread.
 */
export class SharedReader {
  /** The node whose memory this is. */
  readonly node: string;
  #words: Int32Array | undefined;
  #floats: Float64Array | undefined;
  #capacity = 0;
  readonly #pages: Array<Buffer | undefined> = [];
  readonly #key = Buffer.allocUnsafe(MAX_KEY_BYTES + 4);
  /** What the latest Found read saw. */
  value = '';
  valueBytes = 0;
  /** Expiry time on the shared clock, 0 = none. */
  expiresAt = 0;
  /** Reads answered here, for the node's figures (its own thread counts the reads it answers). */
  hits = 0;
  misses = 0;

  constructor(node: string) {
    this.node = node;
  }

  /** Whether the table in hand has been replaced by the node (reads go by message until the new one is here). */
  get stale(): boolean {
    return this.#words !== undefined && Atomics.load(this.#words, HEADER_STATE) !== TABLE_LIVE;
  }

  apply(update: SharedUpdate): void {
    for (const [id, buffer, offset, bytes] of update.pages ?? []) this.#pages[id] = Buffer.from(buffer, offset, bytes);
    for (const id of update.released ?? []) this.#pages[id] = undefined;
    if (update.table !== undefined) {
      this.#words = new Int32Array(update.table);
      this.#floats = new Float64Array(update.table);
      this.#capacity = this.#words[HEADER_CAPACITY]!;
      // This thread reads one table at a time, and never an older one again: the node may now
      // reuse the older ones' memory.
      Atomics.store(this.#words, HEADER_ADOPTED, 1);
    }
  }

  read(key: string, want: Want): Lookup {
    const words = this.#words;
    const floats = this.#floats;
    if (words === undefined || floats === undefined) return Lookup.Unknown;
    // An ASCII key is compared with the item's bytes as it is, not encoded into #key first.
    const keyBytes = Buffer.byteLength(key, 'utf8');
    if (keyBytes > MAX_KEY_BYTES) return Lookup.Unknown;
    const encoded = encodedKey(key, keyBytes, this.#key);
    const hash = hash32(key) | 0;
    const mask = this.#capacity - 1;
    attempts: for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (Atomics.load(words, HEADER_STATE) !== TABLE_LIVE) return Lookup.Unknown;
      const moves = Atomics.load(words, HEADER_MOVES);
      if ((moves & 1) !== 0) continue;
      for (let bucket = homeBucket(hash, this.#capacity), probes = 0; probes <= mask; probes++, bucket = (bucket + 1) & mask) {
        const at = HEADER_WORDS + bucket * ENTRY_WORDS;
        const seq = Atomics.load(words, at + SEQ);
        if ((seq & 1) !== 0) continue attempts;
        const page = words[at + PAGE]!;
        if (page === EMPTY) {
          // No key here, unless an entry moved back over the path meanwhile.
          if (Atomics.load(words, at + SEQ) !== seq || Atomics.load(words, HEADER_MOVES) !== moves) continue attempts;
          return Lookup.Missing;
        }
        if (words[at + HASH] !== hash) continue;
        const buffer = this.#pages[page];
        // A value larger than a page, or a page whose reply has not come yet.
        if (buffer === undefined) return Lookup.Unknown;
        const offset = words[at + OFFSET]!;
        const valueBytes = words[at + VALUE_BYTES]!;
        const expiresAt = floats[(at + EXPIRES) / 2]!;
        const start = offset + ITEM_HEADER_BYTES + keyBytes;
        if (offset < 0 || valueBytes < 0 || start + valueBytes > buffer.length) continue attempts;
        if (!itemKeyIs(buffer, offset, key, encoded, keyBytes)) {
          if (Atomics.load(words, at + SEQ) !== seq) continue attempts;
          continue;
        }
        const value = want === Want.Nothing ? '' : buffer.toString(want === Want.Bytes ? 'latin1' : 'utf8', start, start + valueBytes);
        if (Atomics.load(words, at + SEQ) !== seq || Atomics.load(words, HEADER_STATE) !== TABLE_LIVE) continue attempts;
        const now = sharedClock();
        if (expiresAt !== 0 && expiresAt <= now) return Lookup.Missing;
        if (want !== Want.Nothing) {
          // A mark, not a change: written only when the millisecond moved, so a hot key's
          // bucket is not rewritten by every read.
          const tick = now >>> 0 | 0;
          if (words[at + USED] !== tick) words[at + USED] = tick;
        }
        this.value = value;
        this.valueBytes = valueBytes;
        this.expiresAt = expiresAt;
        return Lookup.Found;
      }
      if (Atomics.load(words, HEADER_MOVES) === moves) return Lookup.Missing;
    }
    return Lookup.Unknown;
  }
}
