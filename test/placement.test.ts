import t from 'tap';
import { Placement, type NodeLookup } from '../src/core/placement.js';
import { HashRing } from '../src/core/ring.js';

type State = 'up' | 'joining' | 'down';

/** A lookup over node states, as the main thread's registry answers it. */
function lookup(states: Record<string, State>): NodeLookup<string> {
  return {
    complete: (id) => (states[id] === 'up' ? id : undefined),
    live: (id) => (states[id] !== undefined && states[id] !== 'down' ? id : undefined),
  };
}

const KEYS = Array.from({ length: 2_000 }, (_, i) => `k${i}`);
const ring = new HashRing(['node-1', 'node-2', 'node-3']);

t.test('a read goes to the first complete owner; a write to every live owner', async (t) => {
  const states: Record<string, State> = { 'node-1': 'up', 'node-2': 'up', 'node-3': 'up' };
  const placement = new Placement(ring, 2, lookup(states));
  const off = KEYS.filter((key) => placement.reader(key) !== ring.owners(key, 2)[0] || placement.writers(key).join() !== ring.owners(key, 2).join());
  t.same(off, [], 'every key: read from its first owner, written to both');
  states['node-1'] = 'joining';
  const key = KEYS.find((k) => ring.owners(k, 2)[0] === 'node-1')!;
  t.equal(placement.reader(key), ring.owners(key, 2)[1], 'a node being filled is not read from');
  t.same(placement.writers(key), ring.owners(key, 2), 'but it takes writes');
  states['node-1'] = 'down';
  t.same(placement.writers(key), [ring.owners(key, 2)[1]], 'a dead node takes none');
  states['node-2'] = 'down';
  states['node-3'] = 'down';
  t.equal(placement.reader(key), undefined, 'no complete owner: no reader');
  t.same(placement.writers(key), []);
});

t.test('during a change, reads go to the owners before it and writes reach both', async (t) => {
  const states: Record<string, State> = { 'node-1': 'up', 'node-2': 'up', 'node-3': 'up', 'node-4': 'up' };
  const placement = new Placement(ring, 1, lookup(states));
  t.equal(placement.version, 1);
  placement.begin((next) => next.add('node-4'));
  t.equal(placement.version, 2);
  t.same(placement.previous?.members, ['node-1', 'node-2', 'node-3']);
  const moved = KEYS.filter((k) => placement.ring.owner(k) === 'node-4');
  t.ok(moved.length > 0, `${moved.length} keys move to node-4`);
  t.same(moved.filter((key) => placement.reader(key) !== ring.owner(key)), [], 'each is read from its owner before the change');
  t.same(moved.filter((key) => placement.writers(key).join() !== `node-4,${ring.owner(key)}`), [], 'and written to both');
  placement.finish();
  t.equal(placement.version, 3);
  t.equal(placement.previous, null);
  t.ok(moved.every((key) => placement.reader(key) === 'node-4'), 'after it, read from the new owner');
});

t.test('readable and unreplicated share follow the states', async (t) => {
  const states: Record<string, State> = { 'node-1': 'up', 'node-2': 'up', 'node-3': 'up' };
  const two = new Placement(ring, 2, lookup(states));
  const one = new Placement(ring, 1, lookup(states));
  t.ok(two.readable());
  t.equal(two.unreplicatedShare('node-1'), 0, 'with a live copy elsewhere nothing is lost');
  t.equal(one.unreplicatedShare('node-1'), 1, 'with one copy all of it is');
  states['node-2'] = 'down';
  t.notOk(one.readable(), 'one copy and a dead node: some range has no reader');
  t.ok(two.readable(), 'two copies: every range still has one');
  const share = two.unreplicatedShare('node-1');
  t.ok(share > 0.2 && share < 0.8, `node-1 shares ${(share * 100).toFixed(0)}% of its ranges only with the dead node-2`);
});
