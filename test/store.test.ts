import t from 'tap';
import { KEEP_EXPIRY, SetIf } from '../src/core/mutation.js';
import { ENTRY_OVERHEAD_BYTES } from '../src/core/limits.js';
import { Store } from '../workers/store.js';
import { entryBytes, itemBytes, slotBytes } from '../src/core/slots.js';

/** What the store accounts `key` and its byte-string `value` at (src/core/slots.ts). */
const entrySize = (key: string, value: string): number => entryBytes(Buffer.byteLength(key), value.length);

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/**
 * Options for a store whose clock moves a millisecond on every reading, so that every use has its
 * own recency tick, and whose eviction samples from a seeded generator: the outcome of a test is
 * the same every run.
 */
function ordered(limits: { maxEntries?: number; maxBytes?: number }) {
  let now = 1_000_000;
  let seed = 42;
  const random = (): number => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
  return { ...limits, now: () => ++now, random };
}

t.test('set, get, delete and the counters', async (t) => {
  const store = new Store();
  t.equal(store.get('a'), undefined);
  t.equal(store.set('a', '1'), true);
  t.equal(store.set('a', '22'), true);
  t.equal(store.get('a'), '22', 'a second set overwrites');
  t.equal(store.size, 1);
  t.equal(store.bytes, 1 + slotBytes(itemBytes(1, 2)) + ENTRY_OVERHEAD_BYTES, "bytes are key + the item's slot + overhead");
  t.equal(store.delete('a'), true);
  t.equal(store.delete('a'), false);
  t.match(store.stats(), { keys: 0, bytes: 0, hits: 1, misses: 1, evictions: 0, expired: 0, sets: 2, deletes: 1 });
});

t.test('byte strings of any content, and unusual keys, are ordinary values', async (t) => {
  const store = new Store();
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');
  store.set('bin', allBytes);
  store.set('ключ 😀', 'x');
  t.equal(store.get('bin'), allBytes);
  t.equal(store.valueBytes('bin'), 256);
  t.equal(store.get('ключ 😀'), 'x');
  t.equal(entrySize('ключ 😀', 'x'), Buffer.byteLength('ключ 😀') + slotBytes(itemBytes(Buffer.byteLength('ключ 😀'), 1)) + ENTRY_OVERHEAD_BYTES, 'keys count in UTF-8 bytes');
});

t.test('with maxEntries the least recently used key is evicted', async (t) => {
  const store = new Store(ordered({ maxEntries: 3 }));
  store.set('a', '1');
  store.set('b', '2');
  store.set('c', '3');
  t.equal(store.get('a'), '1', 'reading a makes it recent');
  store.set('d', '4');
  t.equal(store.get('b'), undefined, 'b was least recently used');
  t.same(['a', 'c', 'd'].map((k) => store.get(k)), ['1', '3', '4']);
  store.set('e', '5');
  t.equal(store.get('a'), undefined, 'then a');
  t.equal(store.size, 3);
  t.equal(store.stats().evictions, 2);
});

t.test('with maxBytes writes evict least recently used entries to stay within it', async (t) => {
  const entry = entrySize('k0', 'x'.repeat(100));
  const store = new Store(ordered({ maxBytes: entry * 4 }));
  for (let i = 0; i < 4; i++) store.set(`k${i}`, 'x'.repeat(100));
  store.get('k0');
  store.set('k4', 'x'.repeat(100));
  t.equal(store.get('k1'), undefined, 'the least recently used went first');
  t.equal(store.get('k0'), 'x'.repeat(100));
  t.ok(store.bytes <= entry * 4, `bytes ${store.bytes} within ${entry * 4}`);
  store.set('big', 'y'.repeat(250));
  t.ok(store.bytes <= entry * 4, 'a larger value evicts as many as it needs');
  t.equal(store.get('big'), 'y'.repeat(250));
  t.equal(store.set('huge', 'z'.repeat(entry * 4)), false, 'an entry larger than the whole limit is refused');
  t.equal(store.get('big'), 'y'.repeat(250), 'and evicts nothing');
  t.ok(store.stats().evictions >= 3);
});

t.test('NX and XX, as updates: the condition and the write in one step', async (t) => {
  const store = new Store();
  t.match(store.update('a', ['set', '1', 0, SetIf.Present]), { count: 0, value: null });
  t.equal(store.get('a'), undefined);
  t.match(store.update('a', ['set', '1', 0, SetIf.Absent]), { count: 1 });
  t.match(store.update('a', ['set', '2', 0, SetIf.Absent]), { count: 0, value: '1' });
  t.match(store.update('a', ['set', '3', KEEP_EXPIRY, SetIf.Present]), { count: 1, value: '1' });
  t.equal(store.get('a'), '3');
  t.equal(store.stats().sets, 2, 'only the writes that stored count as sets');
});

t.test('updates keep the accounting and the expiry count right', async (t) => {
  const clock = fakeClock();
  const store = new Store({ now: clock.now });
  store.set('n', '41', 1_000);
  t.match(store.update('n', ['incr', '1']), { value: '42' });
  t.equal(store.ttl('n'), 1_000, 'INCR keeps the expiry');
  t.equal(store.stats().expires, 1);
  t.match(store.update('n', ['expire', 0, 0]), { count: 1 });
  t.equal(store.ttl('n'), null);
  t.equal(store.stats().expires, 0);
  t.match(store.update('n', ['append', 'x'.repeat(100), 1_000]), { count: 102 });
  const bytes = store.bytes;
  t.match(store.update('n', ['getdel']), { value: '42' + 'x'.repeat(100) });
  t.ok(bytes > 0 && store.bytes === 0 && store.size === 0, 'a removal gives its bytes back');
  t.match(store.update('gone', ['expire', clock.now() - 1, 0]), { count: 0 }, 'no key: nothing to expire');
  store.set('soon', 'v');
  t.match(store.update('soon', ['expire', clock.now() - 1, 0]), { count: 1 });
  t.equal(store.get('soon'), undefined, 'an expiry in the past removes the key');
});

t.test('TTL: an expired key is never returned, to the millisecond', async (t) => {
  const clock = fakeClock();
  const store = new Store({ now: clock.now });
  store.set('a', '1', 1000);
  store.set('b', '2');
  t.equal(store.ttl('a'), 1000);
  t.equal(store.ttl('b'), null, 'no expiry');
  t.equal(store.ttl('zz'), undefined, 'absent');
  clock.advance(999);
  t.equal(store.get('a'), '1', 'alive at 999 ms');
  t.equal(store.ttl('a'), 1);
  clock.advance(2);
  t.equal(store.get('a'), undefined, 'gone 1 ms after its TTL');
  t.equal(store.valueBytes('a'), undefined);
  t.equal(store.ttl('a'), undefined);
  t.equal(store.stats().expired, 1);
  store.set('b', '3', 500);
  t.equal(store.ttl('b'), 500, 'a set with a TTL replaces no-expiry');
  store.set('b', '4');
  t.equal(store.ttl('b'), null, 'and a set without one removes it');
});

t.test('active expiry frees expired keys that are never read', async (t) => {
  const clock = fakeClock();
  const store = new Store({ now: clock.now, maxBytes: 10_000_000 });
  for (let i = 0; i < 10_000; i++) store.set(`t${i}`, 'v'.repeat(100), 1000);
  store.set('kept', 'v', 60_000);
  store.set('t0', 'again', 5000);
  t.equal(store.expire(20_000), 0, 'nothing is due yet');
  clock.advance(1100);
  // 10,001 keys in 16,384 buckets: a call looks at a quarter of them.
  const first = store.expire(4_096);
  t.ok(first > 1_000 && first < 4_096, `a call looks at no more buckets than asked: ${first} removed`);
  let removed = first;
  for (let i = 0; i < 3; i++) removed += store.expire(4_096);
  t.equal(removed, 9_999, 'every expired key removed in one lap, the next calls going on where the last stopped');
  t.equal(store.size, 2, 'the overwritten key and the long-lived one stay');
  t.equal(store.bytes, entrySize('kept', 'v') + entrySize('t0', 'again'), 'their bytes are released');
  t.equal(store.stats().arenaBytes > 0, true);
  t.equal(store.stats().expired, 9_999);
  t.equal(store.get('t0'), 'again');
  clock.advance(5000);
  t.equal(store.expire(20_000), 1);
  t.equal(store.get('t0'), undefined);
});

t.test('a key removed before its time leaves nothing behind for expiry', async (t) => {
  const clock = fakeClock();
  const store = new Store({ now: clock.now, maxEntries: 100 });
  for (let i = 0; i < 10_000; i++) store.set(`k${i}`, 'v', 3_600_000);
  t.equal(store.size, 100);
  clock.advance(3_600_001);
  t.equal(store.expire(1_000_000), 100, 'only the 100 held keys were left to expire');
});

t.test('clear empties everything', async (t) => {
  const store = new Store();
  store.set('a', '1', 1000);
  store.clear();
  t.equal(store.size, 0);
  t.equal(store.bytes, 0);
});

t.test('a bad limit fails loudly', async (t) => {
  t.throws(() => new Store({ maxEntries: -1 }), /maxEntries/);
  t.throws(() => new Store({ maxBytes: 1.5 }), /maxBytes/);
});

t.test('the live key iterator sees every key held from its start to its turn, whatever happens meanwhile', async (t) => {
  const store = new Store(ordered({}));
  for (let i = 0; i < 1_000; i++) store.set(`k${i}`, 'v');
  const keys = store.keys();
  const seen = new Set<string>();
  const deleted = new Set<string>();
  for (let step = 0; ; step++) {
    const next = keys.next();
    if (next.done === true) break;
    seen.add(next.value);
    // Meanwhile: reads, overwrites, deletes (moving entries back) and new keys.
    store.get(`k${(step * 7) % 1_000}`);
    store.set(`k${(step * 13) % 1_000}`, 'w');
    if (step % 10 === 0 && store.delete(`k${(step * 17) % 1_000}`)) deleted.add(`k${(step * 17) % 1_000}`);
    if (step < 200) store.set(`new${step}`, 'n');
  }
  const missed = Array.from({ length: 1_000 }, (_, i) => `k${i}`).filter((k) => !seen.has(k) && !deleted.has(k));
  t.same(missed, [], 'every key never deleted was seen');
  t.ok(deleted.size > 50, `${deleted.size} deletes meanwhile`);
  t.ok(seen.size > 1_000 - deleted.size, `and some of the keys added meanwhile: ${seen.size} keys in all`);
});

t.test('a pass misses no key when deletes move entries back over it or the table grows under it', async (t) => {
  for (const grow of [false, true]) {
    const store = new Store();
    // 700 keys in 1,024 buckets: long runs, so deletes move many entries back.
    for (let i = 0; i < 700; i++) store.set(`k${i}`, 'v');
    const keys = store.keys();
    const seen = new Set<string>();
    for (let step = 0; ; step++) {
      const next = keys.next();
      if (next.done === true) break;
      seen.add(next.value);
      // Each key seen is deleted (as a purge drops it), and so is another one now and then.
      store.delete(next.value);
      if (step % 5 === 0) store.delete(`k${(step * 37) % 700}`);
      if (grow && step === 100) for (let i = 0; i < 5_000; i++) store.set(`g${i}`, 'v');
      // After the growth, the slots the deletes free are reused under the old table's walk.
      if (grow && step > 100) store.set(`n${step}`, 'v');
    }
    t.same([...seen].filter((k) => !/^[kgn]\d+$/.test(k)), [], 'only keys that were written come');
    const missed = Array.from({ length: 700 }, (_, i) => `k${i}`).filter((k) => !seen.has(k) && store.entry(k) !== undefined);
    t.same(missed, [], grow ? 'with a larger table from the 100th key on' : 'with moves only');
    t.ok([...seen].filter((k) => k.startsWith('k')).length > 500, 'the keys were walked, not dropped');
  }
});

t.test('restore stores a handed-over copy with its ttl, not counted as a set', async (t) => {
  const clock = fakeClock();
  const store = new Store({ now: clock.now });
  t.equal(store.restore('a', 'x', 5_000), true);
  t.equal(store.restore('b', 'y', 0), true);
  t.same(store.entry('a'), { value: 'x', ttlMs: 5_000 });
  t.same(store.entry('b'), { value: 'y', ttlMs: 0 });
  clock.advance(5_001);
  t.equal(store.entry('a'), undefined, 'expired copies are not handed on');
  t.equal(store.stats().sets, 0);
  t.equal(new Store({ maxBytes: 300 }).restore('big', 'v'.repeat(200), 0), false, 'larger than the share');
  t.equal(store.drop('b'), true);
  t.equal(store.stats().deletes, 0, 'a drop is not a client delete');
});

t.test('eviction takes about the least recently used keys', async (t) => {
  const store = new Store(ordered({ maxEntries: 1_000 }));
  for (let i = 0; i < 1_000; i++) store.set(`k${i}`, 'v');
  // Read the first half again: the second half is now the least recently used.
  for (let i = 0; i < 500; i++) store.get(`k${i}`);
  for (let i = 0; i < 400; i++) store.set(`new${i}`, 'v');
  const readAgain = Array.from({ length: 500 }, (_, i) => `k${i}`).filter((k) => store.entry(k) !== undefined).length;
  const notRead = Array.from({ length: 500 }, (_, i) => `k${500 + i}`).filter((k) => store.entry(k) !== undefined).length;
  const added = Array.from({ length: 400 }, (_, i) => `new${i}`).filter((k) => store.entry(k) !== undefined).length;
  t.equal(store.stats().evictions, 400);
  t.equal(added, 400, 'no new key was evicted');
  // Sampled LRU (workers/eviction.ts) is Redis's approximation: random eviction among the old
  // keys would keep about 300 of the 500 read again.
  t.ok(readAgain >= 450, `the keys read again are kept: ${readAgain} of 500`);
  t.equal(readAgain + notRead, 600, 'what went were old keys');
});
