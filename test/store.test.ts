import t from 'tap';
import { Store } from '../workers/store.js';

t.test('set, get, delete and the counters', async (t) => {
  const store = new Store();
  t.equal(store.get('a'), undefined);
  store.set('a', '1');
  store.set('a', '2');
  t.equal(store.get('a'), '2', 'a second set overwrites');
  t.equal(store.size, 1);
  t.equal(store.delete('a'), true);
  t.equal(store.delete('a'), false);
  t.same(store.stats(), { keys: 0, hits: 1, misses: 1, evictions: 0, sets: 2, deletes: 1 });
});

t.test('empty strings and unusual keys are ordinary values', async (t) => {
  const store = new Store();
  store.set('', '');
  store.set('ключ 😀', 'значение');
  t.equal(store.get(''), '');
  t.equal(store.get('ключ 😀'), 'значение');
});

t.test('with maxEntries the least recently used key is evicted', async (t) => {
  const store = new Store({ maxEntries: 3 });
  store.set('a', '1');
  store.set('b', '2');
  store.set('c', '3');
  t.equal(store.get('a'), '1', 'reading a makes it recent');
  store.set('d', '4');
  t.equal(store.get('b'), undefined, 'b was least recently used');
  t.equal(store.get('a'), '1');
  t.equal(store.get('c'), '3');
  t.equal(store.get('d'), '4');
  store.set('e', '5');
  t.equal(store.get('a'), undefined, 'then a');
  t.equal(store.size, 3);
  t.equal(store.stats().evictions, 2);
});

t.test('overwriting an entry is not an eviction', async (t) => {
  const store = new Store({ maxEntries: 2 });
  store.set('a', '1');
  store.set('a', '2');
  store.set('b', '3');
  t.equal(store.stats().evictions, 0);
  store.clear();
  t.equal(store.size, 0);
});

t.test('a bad limit fails loudly', async (t) => {
  t.throws(() => new Store({ maxEntries: -1 }), /maxEntries/);
  t.throws(() => new Store({ maxEntries: 1.5 }), /maxEntries/);
});
