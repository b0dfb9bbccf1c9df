import type { IndexTable } from './index-table.js';

/** What a cursor reads of the entries it walks, and how it lets go of them. */
export interface Walked {
  readonly table: IndexTable;
  /** The key of `table`'s bucket, if its item is still that key's (see {@link KeyCursor}). */
  keyIn(table: IndexTable, bucket: number): string | undefined;
  release(cursor: KeyCursor): void;
}

/**
 * A pass over a node's keys that stays valid while keys come and go: it yields every key held
 * when it began and still held when its turn comes (a key may come twice; keys added meanwhile
 * may or may not come). It walks the index table's buckets in order and is told of a delete
 * moving an entry back from ahead of it to behind it (the key is kept to come later). When the
 * table is replaced by a larger one, it goes on over the old one, which no longer changes: a key
 * held since is still in its old bucket with its item; a bucket whose item has since been freed
 * or reused for another key is skipped (that key was deleted or written since, and a write
 * during a pass reaches the new owners directly). Walking costs nothing up front and holds no key
 * list on the heap, where copying a million keys cost 0.4-0.8 s.
 */
export class KeyCursor implements IterableIterator<string> {
  readonly #entries: Walked;
  readonly #table: IndexTable;
  #at = 0;
  /** Whether buckets are still walked (not once every entry is gone). */
  #walking = true;
  /** Whether {@link #table} has been replaced: it is only read from then on. */
  #replaced = false;
  readonly #later: string[] = [];

  constructor(entries: Walked) {
    this.#entries = entries;
    this.#table = entries.table;
  }

  /** The table it walks (the current one, or one replaced since it began). */
  get table(): IndexTable {
    return this.#table;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<string, undefined> {
    const later = this.#later.pop();
    if (later !== undefined) return { value: later, done: false };
    const table = this.#table;
    while (this.#walking && this.#at < table.capacity) {
      const bucket = this.#at++;
      if (table.page(bucket) < 0) continue;
      const key = this.#entries.keyIn(table, bucket);
      if (key !== undefined) return { value: key, done: false };
    }
    return this.return();
  }

  /** Ends the pass: the entries stop telling it of their changes. */
  return(): IteratorResult<string, undefined> {
    this.#walking = false;
    this.#later.length = 0;
    this.#entries.release(this);
    return { value: undefined, done: true };
  }

  /** An entry of the current table moved back after a delete, now in bucket `to`. */
  moved(from: number, to: number): void {
    if (this.#replaced || !this.#walking || from < this.#at || to >= this.#at) return;
    const key = this.#entries.keyIn(this.#table, to);
    if (key !== undefined) this.#later.push(key);
  }

  /** The table is being replaced by a larger one: the rest of the pass reads the old one. */
  replacing(): void {
    this.#replaced = true;
  }

  /** Every entry is gone. */
  cleared(): void {
    this.#walking = false;
    this.#later.length = 0;
  }
}
