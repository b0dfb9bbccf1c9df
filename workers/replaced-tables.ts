import type { IndexTable } from './index-table.js';

/**
 * Index tables a node has replaced by larger ones, oldest first, until their memory can become
 * arena pages. The HTTP thread reads no table older than the newest it has taken in hand
 * (`adopted`), and a pass over the keys reads the table it began on. Without this, a table that
 * doubles stays in memory until both threads' garbage collectors let go of it, which at rest may
 * be never: 40 bytes a key at 1,000,000 keys. Held weakly: a table the HTTP thread never takes
 * in hand is left to the collectors.
 */
export class ReplacedTables {
  #tables: Array<WeakRef<IndexTable>> = [];

  get pending(): boolean {
    return this.#tables.length > 0;
  }

  add(table: IndexTable): void {
    this.#tables.push(new WeakRef(table));
  }

  /** Hands `reuse` each table nothing reads any more, given the current table and what passes walk. */
  recycle(current: IndexTable, walked: (table: IndexTable) => boolean, reuse: (table: IndexTable) => void): void {
    const tables = this.#tables;
    // How many of the oldest may go: all if the current table is in hand, else those older than
    // the newest replaced one that is.
    let free = current.adopted ? tables.length : 0;
    for (let i = tables.length - 1; free === 0 && i > 0; i--) if (tables[i]!.deref()?.adopted === true) free = i;
    if (free === 0) return;
    const kept: Array<WeakRef<IndexTable>> = [];
    for (const [i, ref] of tables.entries()) {
      const table = ref.deref();
      if (table === undefined) continue;
      if (i >= free || walked(table)) kept.push(ref);
      else reuse(table);
    }
    this.#tables = kept;
  }
}
