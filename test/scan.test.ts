import t from 'tap';
import type { Handoff, ScanPlan } from '../src/core/protocol.js';
import { HashRing } from '../src/core/ring.js';
import { Scan } from '../workers/scan.js';
import { Store } from '../workers/store.js';

const KEYS = Array.from({ length: 5_000 }, (_, i) => `key-${i}`);

/** Stores filled as `ring` places `replicas` copies of every key. */
function fill(ring: HashRing, replicas: number): Map<string, Store> {
  const stores = new Map(ring.members.map((id) => [id, new Store()]));
  for (const key of KEYS) for (const id of ring.owners(key, replicas)) stores.get(id)!.set(key, `v:${key}`);
  return stores;
}

function drain(scan: Scan): Handoff[] {
  const handoffs: Handoff[] = [];
  for (let chunk = scan.next(0, 0); !chunk.done; ) {
    chunk = scan.next(100, 1 << 20);
    handoffs.push(...chunk.handoffs);
  }
  return handoffs;
}

t.test('a join: every key the new node owns is sent to it exactly once', async (t) => {
  const before = new HashRing(['node-1', 'node-2', 'node-3']);
  const after = before.clone();
  after.add('node-4');
  const stores = fill(before, 2);
  const plan: ScanPlan = {
    kind: 'export',
    previous: before.layout(),
    next: after.layout(),
    replicas: 2,
    complete: ['node-1', 'node-2', 'node-3'],
    filling: ['node-4'],
  };
  const sent = new Map<string, string[]>();
  for (const [id, store] of stores) {
    for (const [key, value, ttl, targets] of drain(new Scan(store, id, plan))) {
      if (value !== `v:${key}` || ttl !== 0) t.fail(`${key}: ${value}, ttl ${ttl}`);
      if (sent.has(key)) t.fail(`${key} sent twice`);
      sent.set(key, targets);
    }
  }
  const expected = KEYS.filter((key) => after.owners(key, 2).includes('node-4'));
  t.same([...sent.keys()].sort(), expected.sort(), `the ${expected.length} keys node-4 now owns`);
  t.ok([...sent.values()].every((targets) => targets.length === 1 && targets[0] === 'node-4'), 'only to node-4');
});

t.test('a refill: a restarted node gets its keys from the first complete copy; a purge drops what moved', async (t) => {
  const ring = new HashRing(['node-1', 'node-2', 'node-3']);
  const stores = fill(ring, 2);
  stores.set('node-2', new Store());
  const layout = ring.layout();
  const plan: ScanPlan = { kind: 'export', previous: layout, next: layout, replicas: 2, complete: ['node-1', 'node-3'], filling: ['node-2'] };
  const received: string[] = [];
  for (const id of ['node-1', 'node-3']) {
    for (const [key, , , targets] of drain(new Scan(stores.get(id)!, id, plan))) {
      if (targets.join() !== 'node-2') t.fail(`${key} sent to ${targets.join()}`);
      received.push(key);
    }
  }
  const owned = KEYS.filter((key) => ring.owners(key, 2).includes('node-2'));
  t.same(received.sort(), owned.sort(), `each of node-2's ${owned.length} keys, once`);

  const larger = ring.clone();
  larger.add('node-4');
  const store = stores.get('node-1')!;
  const purge = new Scan(store, 'node-1', { ...plan, kind: 'purge', previous: larger.layout(), next: larger.layout() });
  let dropped = 0;
  for (let chunk = purge.next(0, 0); !chunk.done; ) {
    chunk = purge.next(100, 1 << 20);
    dropped += chunk.dropped;
  }
  const kept = KEYS.filter((key) => ring.owners(key, 2).includes('node-1') && larger.owners(key, 2).includes('node-1'));
  t.ok(dropped > 0, `${dropped} dropped`);
  t.equal(store.size, kept.length, 'node-1 keeps exactly the keys it still owns');
  t.ok(kept.every((key) => store.entry(key) !== undefined));
});
