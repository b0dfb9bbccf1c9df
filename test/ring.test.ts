import t from 'tap';
import { fmix32, hash32 } from '../src/core/hash.js';
import { HashRing } from '../src/core/ring.js';

const nodes = (n: number): string[] => Array.from({ length: n }, (_, i) => `node-${i + 1}`);
const keys = (n: number, prefix = 'key-'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function counts(ring: HashRing, list: string[]): Map<string, number> {
  const result = new Map<string, number>(ring.members.map((m) => [m, 0]));
  for (const key of list) result.set(ring.owner(key), result.get(ring.owner(key))! + 1);
  return result;
}

/** FNV-1a + fmix32 over explicit UTF-8 bytes: the reference hash32 must agree with. */
function referenceHash(input: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(input, 'utf8')) h = Math.imul(h ^ byte, 0x01000193);
  return fmix32(h);
}

t.test('hash32 hashes the UTF-8 bytes of a string', async (t) => {
  for (const input of ['', 'a', 'foo', 'ключ', '鍵', 'emoji 😀 key', 'mixed é😀z', '\u0000\u007f\u0080\u07ff\u0800\uffff']) {
    t.equal(hash32(input), referenceHash(input), JSON.stringify(input));
  }
  t.equal(hash32('lone \ud800 surrogate'), referenceHash('lone \ufffd surrogate'), 'lone surrogate hashes as U+FFFD');
  t.not(hash32('node-1#10'), hash32('node-11#0'), 'separator keeps virtual node names apart');
});

t.test('5 nodes spread 10,000 keys with max/mean <= 1.10', async (t) => {
  const ring = new HashRing(nodes(5));
  for (const prefix of ['key-', 'user:', 'session/']) {
    const c = counts(ring, keys(10_000, prefix));
    const max = Math.max(...c.values());
    t.ok(max / 2000 <= 1.1, `${prefix}: max/mean = ${(max / 2000).toFixed(3)}`);
  }
});

t.test('balance holds from 2 to 16 nodes over 100,000 keys', async (t) => {
  const list = keys(100_000);
  for (const n of [2, 3, 4, 8, 16]) {
    const ring = new HashRing(nodes(n));
    const c = counts(ring, list);
    const ratio = Math.max(...c.values()) / (list.length / n);
    t.ok(ratio <= 1.1, `${n} nodes: max/mean = ${ratio.toFixed(3)}`);
  }
});

t.test('adding a 4th node moves 20-30% of keys, all of them to the new node', async (t) => {
  const list = keys(100_000);
  const ring = new HashRing(nodes(3));
  const before = list.map((k) => ring.owner(k));
  ring.add('node-4');
  let moved = 0;
  let movedElsewhere = 0;
  list.forEach((key, i) => {
    const owner = ring.owner(key);
    if (owner !== before[i]) {
      moved++;
      if (owner !== 'node-4') movedElsewhere++;
    }
  });
  t.ok(moved >= 20_000 && moved <= 30_000, `moved ${moved} of 100,000`);
  t.equal(movedElsewhere, 0, 'no key moved between old nodes');
});

t.test('removing a node moves only the keys it owned', async (t) => {
  const list = keys(50_000);
  const ring = new HashRing(nodes(4));
  const before = list.map((k) => ring.owner(k));
  t.equal(ring.remove('node-2'), true);
  t.equal(ring.remove('node-2'), false, 'second remove reports absence');
  list.forEach((key, i) => {
    if (before[i] !== 'node-2' && ring.owner(key) !== before[i]) t.fail(`${key} moved from ${before[i]}`);
  });
  t.notOk(list.some((k) => ring.owner(k) === 'node-2'), 'the removed node owns nothing');
});

t.test('owners are distinct, start with the owner, and cap at the member count', async (t) => {
  const ring = new HashRing(nodes(5));
  for (const key of keys(2_000)) {
    const owners = ring.owners(key, 3);
    if (owners.length !== 3 || new Set(owners).size !== 3 || owners[0] !== ring.owner(key)) {
      t.fail(`bad owners for ${key}: ${owners.join(',')}`);
    }
  }
  t.same([...ring.owners('x', 9)].sort(), nodes(5).sort(), 'asking for more than exist returns all');
  t.same(ring.owners('x', 0), []);
});

t.test('ownership does not depend on the order members joined', async (t) => {
  const a = new HashRing(['node-1', 'node-2', 'node-3']);
  const b = new HashRing(['node-3', 'node-1']);
  b.add('node-2');
  for (const key of keys(5_000)) if (a.owner(key) !== b.owner(key)) t.fail(key);
  t.pass('same owners');
});

t.test('misuse fails loudly', async (t) => {
  t.throws(() => new HashRing([]).owner('k'), /no members/);
  t.throws(() => new HashRing(['a', 'a']), /already on the ring/);
  t.throws(() => new HashRing(['']), /must not be empty/);
  t.throws(() => new HashRing(['a'], { pointsPerNode: 0 }), /pointsPerNode/);
  const custom = new HashRing(['a', 'b'], { pointsPerNode: 1, hash: (s) => (s.startsWith('a') ? 10 : 20) });
  t.equal(custom.pointsPerNode, 1);
  t.ok(custom.has('a'));
  t.equal(custom.size, 2);
});

t.test('with replicas, a join only adds the new node to owner lists and a leave only removes the node', async (t) => {
  const list = keys(20_000);
  const ring = new HashRing(nodes(3));
  const before = list.map((k) => [...ring.owners(k, 2)]);
  const old = ring.clone();
  ring.add('node-4');
  let gained = 0;
  list.forEach((key, i) => {
    const after = ring.owners(key, 2);
    // The new owners, without node-4, are the old owners in order, cut to length.
    const kept = after.filter((id) => id !== 'node-4');
    if (!kept.every((id, j) => id === before[i]![j])) t.fail(`${key}: ${before[i]} -> ${after}`);
    if (after.includes('node-4')) gained++;
  });
  t.ok(Math.abs(gained / list.length - 2 / 4) < 0.05, `node-4 holds a copy of ${gained} of ${list.length} keys (2/4 expected)`);
  t.same(list.map((k) => [...old.owners(k, 2)]), before, 'the clone kept the old ring');
  ring.remove('node-4');
  t.same(list.map((k) => [...ring.owners(k, 2)]), before, 'removing it restores every owner list');
});

t.test('a ring rebuilt from its layout has the same owners', async (t) => {
  const ring = new HashRing(nodes(5));
  const copy = HashRing.fromLayout(structuredClone(ring.layout()));
  t.same(copy.members, ring.members);
  for (const key of keys(5_000)) if (copy.owners(key, 3).join() !== ring.owners(key, 3).join()) t.fail(key);
  t.equal(ring.ownerLists(2).length, 5 * 1024, 'one owner list per point');
  t.ok(ring.ownerLists(2).every((owners) => owners.length === 2 && owners[0] !== owners[1]));
  t.equal(ring.owners('x', 2), ring.owners('x', 2), 'a lookup allocates nothing: the list of a point is made once and shared');
  t.not(ring.owners('x', 2), ring.owners('x', 3), 'one list per point and count');
});

t.test("a key's owner is the member of the first point at or after its position, wherever it falls", async (t) => {
  /** The owner by a walk over every point: what the search within the key's arc must agree with. */
  const reference = (ring: HashRing, position: number): string => {
    const { members, points, pointOwners } = ring.layout();
    for (let i = 0; i < points.length; i++) if (points[i]! >= position) return members[pointOwners[i]!]!;
    return members[pointOwners[0]!]!;
  };
  const arc = 2 ** 20;
  // Keys are their own positions here, so that they can sit on arc edges and past the last point.
  const edges = [0, 1, arc - 1, arc, arc + 1, 2 * arc, 2 ** 31, 2 ** 32 - arc, 2 ** 32 - 2, 2 ** 32 - 1];
  const byPosition = (name: string): number => (/^\d+$/.test(name) ? Number(name) : hash32(name));
  const spread = new HashRing(nodes(3), { hash: byPosition });
  const crowded = new HashRing(nodes(3), { pointsPerNode: 50, hash: (name) => (/^\d+$/.test(name) ? Number(name) : 5 * arc + (hash32(name) % 1000)) });
  const positions = [...edges, ...Array.from({ length: 20_000 }, () => Math.floor(Math.random() * 2 ** 32))];
  for (const [name, ring] of [['spread', spread], ['all points in one arc', crowded]] as const) {
    const wrong = positions.filter((p) => ring.owner(String(p)) !== reference(ring, p));
    t.same(wrong, [], `${name}: every position's owner as the walk finds it`);
    const around = [5 * arc - 1, 5 * arc, 5 * arc + 500, 5 * arc + 999, 5 * arc + 1000, 6 * arc];
    t.same(around.filter((p) => ring.owner(String(p)) !== reference(ring, p)), [], `${name}: around the crowded arc`);
  }
});
