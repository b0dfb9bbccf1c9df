import t from 'tap';
import fc from 'fast-check';
import { Lookup, SharedReader, Want } from '../src/nodes/shared-reader.js';
import { sharedClock, type SharedUpdate } from '../src/core/shared-layout.js';
import { Store } from '../workers/store.js';

/** A store and a reader of its shared memory in one thread: what the reader sees after each step. */
function pair(options: ConstructorParameters<typeof Store>[0] = {}) {
  const store = new Store(options);
  const reader = new SharedReader('node-1');
  const sync = (): void => {
    const update = store.takeUpdate();
    if (update !== undefined) reader.apply(update);
  };
  sync();
  const read = (key: string): string | undefined | 'unknown' => {
    const found = reader.read(key, Want.Bytes);
    return found === Lookup.Found ? reader.value : found === Lookup.Missing ? undefined : 'unknown';
  };
  return { store, reader, sync, read };
}

t.test('the reader sees what the store holds, through sets, overwrites, deletes and table growth', async () => {
  const keys = fc.integer({ min: 0, max: 3000 }).map((i) => `k${i}`);
  const step = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: keys, length: fc.integer({ min: 0, max: 300 }) }),
    fc.record({ kind: fc.constant('delete' as const), key: keys }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 3000 }), async (steps) => {
      const { store, sync, read } = pair();
      const model = new Map<string, string>();
      for (const [i, s] of steps.entries()) {
        if (s.kind === 'set') {
          const value = `${s.key}:${i}:${'v'.repeat(s.length)}`;
          store.set(s.key, value);
          model.set(s.key, value);
        } else {
          store.delete(s.key);
          model.delete(s.key);
        }
        sync();
      }
      const touched = new Set(steps.map((s) => s.key));
      for (const key of touched) if (read(key) !== model.get(key)) return false;
      return store.size === model.size;
    }),
    { numRuns: 40 },
  );
});

t.test('every key stays reachable when deletes move entries back over long probe runs', async (t) => {
  const { store, sync, read } = pair();
  // 700 keys in a table of 1,024: long runs of occupied buckets.
  for (let i = 0; i < 700; i++) store.set(`key-${i}`, `value-${i}`);
  sync();
  for (let i = 0; i < 700; i += 3) store.delete(`key-${i}`);
  sync();
  const wrong = Array.from({ length: 700 }, (_, i) => i).filter((i) => read(`key-${i}`) !== (i % 3 === 0 ? undefined : `value-${i}`));
  t.same(wrong, [], 'every held key is found, every deleted one is a miss');
  t.equal(store.size, 700 - Math.ceil(700 / 3));
});

t.test('a retired table is never read: until the new one arrives, reads ask the node', async (t) => {
  const { store, reader, sync, read } = pair();
  store.set('a', '1');
  sync();
  t.equal(read('a'), '1');
  store.clear();
  t.equal(reader.stale, true, 'the table in hand is retired');
  t.equal(read('a'), 'unknown', 'not the old table, whose slots the node may reuse');
  sync();
  t.equal(reader.stale, false);
  t.equal(read('a'), undefined);
  // Growth: a new table for 1,000 keys comes with the update.
  for (let i = 0; i < 1000; i++) store.set(`g${i}`, `${i}`);
  t.equal(read('g0'), 'unknown', 'before the update');
  sync();
  t.equal(read('g999'), '999');
});

t.test('expiry, key bytes and the sizes the reader reports', async (t) => {
  // The store's clock a minute ahead of the real one (the reader's): nothing it sets has expired.
  let now = sharedClock() + 60_000;
  const { store, reader, sync, read } = pair({ now: () => now });
  const key = 'clé 🔑';
  const bytes = Buffer.from([0, 1, 2, 255, 254]).toString('latin1');
  store.set(key, bytes);
  store.set('short', 'x', 50);
  sync();
  t.equal(read(key), bytes, 'a UTF-8 key, binary bytes');
  t.equal(reader.read('clé', Want.Bytes), Lookup.Missing, 'a prefix of the key is another key');
  t.equal(reader.read(key, Want.Nothing), Lookup.Found);
  t.equal(reader.valueBytes, 5);
  t.equal(reader.expiresAt, 0, 'no expiry');
  t.equal(reader.read('short', Want.Nothing), Lookup.Found);
  t.equal(reader.expiresAt, now + 50);
  // The reader's clock is the real one: a time far in the past has expired for it.
  now = 0;
  store.set('past', 'y', 1);
  sync();
  t.equal(read('past'), undefined, 'an expired entry is a miss to the reader');
  store.set('text', Buffer.from('ünï', 'utf8').toString('latin1'));
  sync();
  t.equal(reader.read('text', Want.Text), Lookup.Found);
  t.equal(reader.value, 'ünï', 'decoded as UTF-8 on request');
  t.equal(reader.read('x'.repeat(1100), Want.Bytes), Lookup.Unknown, 'a key longer than any held is left to the node');
});

t.test("a replaced table's memory becomes pages once the reader has a newer table, not before, and not while a pass reads it", async (t) => {
  const store = new Store();
  const reader = new SharedReader('node-1');
  const tables: SharedArrayBuffer[] = [];
  const fromTables = new Set<SharedArrayBuffer>();
  const apply = (update: SharedUpdate | undefined): void => {
    if (update === undefined) return;
    if (update.table !== undefined) tables.push(update.table);
    for (const [, buffer] of update.pages ?? []) if (tables.includes(buffer)) fromTables.add(buffer);
    reader.apply(update);
  };
  // Items of 69 bytes, 72-byte slots: a new 1 MiB page every 14,563 keys.
  const value = (i: number): string => `${String(i).padStart(8, '0')}${'v'.repeat(52)}`;
  let next = 0;
  const fill = (to: number, sync: boolean): void => {
    for (; next < to; next++) {
      store.set(`k${next}`, value(next));
      if (sync && next % 1000 === 0) apply(store.takeUpdate());
    }
  };
  fill(24_000, true);
  const first = tables.at(-1)!;
  t.equal(first.byteLength, 16 + 32_768 * 32, 'the reader has the table of 32,768 buckets (one page of memory)');
  fill(40_000, false); // the table is replaced at 24,577 keys, and a page is made after
  const update = store.takeUpdate()!;
  t.notOk(update.pages?.some(([, buffer]) => buffer === first), 'no page is cut from the table the reader still reads');
  apply(update);
  const pass = store.keys();
  pass.next();
  const second = tables.at(-1)!;
  fill(80_000, true); // the second table is replaced at 49,153 keys, while the pass walks it
  t.ok(tables.length > 2, 'the reader has the third table');
  t.same([...fromTables], [first], "the first table's memory is used once the reader has the second; the second is walked");
  for (const _ of pass);
  fill(110_000, true);
  t.ok(fromTables.has(second), "once the pass is over the second table's memory is used too");
  const wrong: number[] = [];
  for (let i = 0; i < next; i++) if (reader.read(`k${i}`, Want.Bytes) !== Lookup.Found || reader.value !== value(i)) wrong.push(i);
  t.same(wrong, [], 'every key reads back from shared memory, on pages cut from old tables too');
});

t.test('keys and values of every byte, short and long, read back the same through the store and the reader', async (t) => {
  const { store, sync, read } = pair();
  // Short byte strings are copied byte by byte, longer ones by buffer.write, ASCII keys compared
  // as they are and others by their UTF-8 bytes: each way must keep every byte.
  const keys = ['k', 'plain-key', 'a'.repeat(200), 'clé', 'ключ', '🔑', 'mixed-é-' + 'x'.repeat(70), '\u0000\u007f'];
  const lengths = [0, 1, 63, 64, 65, 300];
  const wrong: string[] = [];
  for (const key of keys) {
    for (const length of lengths) {
      const value = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + length) & 0xff)).toString('latin1');
      store.set(key, value);
      sync();
      if (read(key) !== value || store.get(key) !== value) wrong.push(`${key.slice(0, 12)} / ${length}`);
    }
  }
  t.same(wrong, [], 'every value read back as written, by the reader and by the store');
  // The same characters spelled in one byte each and in UTF-8 are two keys.
  store.set('Ã©', 'latin1 spelling');
  store.set('é', 'utf-8');
  sync();
  t.equal(read('Ã©'), 'latin1 spelling');
  t.equal(read('é'), 'utf-8');
});
