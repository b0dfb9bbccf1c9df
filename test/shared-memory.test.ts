import t from 'tap';
import { createHash } from 'node:crypto';
import { Op, Status, type Command, type RingAnnouncement } from '../src/core/protocol.js';
import { sharedClock } from '../src/core/shared-layout.js';
import { NodeClient } from '../src/nodes/node-client.js';
import { Lookup, Want } from '../src/nodes/shared-reader.js';
import { startTransport, TRANSPORTS } from '../src/nodes/start.js';
import { batchesSent, request, startTestServer } from './fixtures/server.js';

/**
 * The HTTP thread reads a few hot keys in tight loops while their node, in its own thread,
 * overwrites them with values of random lengths, deletes them, evicts them (a small memory share
 * and filler keys) and lets them expire (some values live 1-5 ms). Every value carries its key,
 * its write's sequence number, its TTL and a checksum, so a torn, mixed or foreign value shows,
 * and so does a stale one: older than a write (or a delete) acknowledged before the read began.
 */
const ring: RingAnnouncement = { type: 'ring', version: 1, nodes: ['node-1'], replicas: 1 };
const HOT = 8;
const RUN_MS = 2_000;

interface Acked {
  /** The latest acknowledged write's sequence number (a delete's too). */
  seq: number;
  /** When each acknowledged set with a TTL was acknowledged, and its TTL. */
  expiring: Map<number, { at: number; ttl: number }>;
}

function value(key: string, seq: number, ttl: number, length: number): string {
  const body = `${key}|${seq}|${ttl}|${'x'.repeat(length)}`;
  return `${body}|${createHash('sha1').update(body).digest('hex').slice(0, 12)}`;
}

/** The value's sequence number and TTL, or why it is not one this test wrote for `key`. */
function parse(key: string, text: string): { seq: number; ttl: number } | string {
  const cut = text.lastIndexOf('|');
  const body = text.slice(0, cut);
  if (cut < 0 || createHash('sha1').update(body).digest('hex').slice(0, 12) !== text.slice(cut + 1)) return 'torn';
  const [owner, seq, ttl] = body.split('|');
  if (owner !== key) return 'foreign';
  return { seq: Number(seq), ttl: Number(ttl) };
}

for (const kind of TRANSPORTS) {
  t.test(`${kind}: reads in shared memory under a writer in another thread`, async (t) => {
    const transport = await startTransport(kind, { id: 'node-1', maxEntries: 0, maxBytes: 256 * 1024, ring });
    const client = new NodeClient('node-1', transport, () => ring.version);
    t.teardown(() => client.close());
    const keys = Array.from({ length: HOT }, (_, i) => `hot-${i}`);
    const acked = new Map<string, Acked>(keys.map((key) => [key, { seq: 0, expiring: new Map() }]));
    const problems = new Map<string, number>();
    const problem = (kind: string): void => void problems.set(kind, (problems.get(kind) ?? 0) + 1);
    let seq = 0;
    let reads = 0;
    let found = 0;
    let unknown = 0;
    let filler = 0;
    const issue = (): void => {
      for (let i = 0; i < 64; i++) {
        const key = keys[Math.floor(Math.random() * HOT)]!;
        const mine = ++seq;
        const roll = Math.random();
        const ttl = roll < 0.15 ? 1 + Math.floor(Math.random() * 5) : 0;
        const command: Command = roll > 0.9 ? [Op.Delete, key] : [Op.Set, key, value(key, mine, ttl, Math.floor(Math.random() * 3000)), ttl];
        client.send(command, (error, result) => {
          if (error !== null || result === undefined || result.status === Status.Failed) return problem('write failed');
          const entry = acked.get(key)!;
          entry.seq = Math.max(entry.seq, mine);
          if (ttl > 0) entry.expiring.set(mine, { at: sharedClock(), ttl });
        });
        // Filler keys of other sizes: the memory share fills and evicts the hot keys too.
        client.send([Op.Set, `filler-${filler++ % 5000}`, 'f'.repeat(50 + (filler % 900)), 0], () => undefined);
      }
    };
    const end = performance.now() + RUN_MS;
    while (performance.now() < end) {
      issue();
      // A burst of reads while the node applies the batch in its thread, then a turn for replies.
      const burstEnd = performance.now() + 2;
      while (performance.now() < burstEnd) {
        const key = keys[reads++ % HOT]!;
        const floor = acked.get(key)!;
        const began = sharedClock();
        const wanted = floor.seq;
        const lookup = client.reader.read(key, Want.Bytes);
        if (lookup === Lookup.Unknown) unknown++;
        if (lookup !== Lookup.Found) continue;
        found++;
        const seen = parse(key, client.reader.value);
        if (typeof seen === 'string') {
          problem(seen);
          continue;
        }
        if (seen.seq < wanted) problem('stale');
        const expiring = floor.expiring.get(seen.seq);
        // Acknowledged after it was applied: its expiry time is at the latest `at + ttl`.
        if (expiring !== undefined && began > expiring.at + expiring.ttl + 1) problem('expired');
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await client.run([Op.Info]);
    t.same(Object.fromEntries(problems), {}, `0 torn, foreign, stale or expired values in ${reads.toLocaleString('en-US')} reads`);
    t.ok(found > 1000, `${found.toLocaleString('en-US')} reads found a value`);
    // Most reads are answered from shared memory; how many must ask depends on how often the
    // writer's thread gets the core while a read looks (4-6% alone, past 10% beside other tests).
    t.ok(unknown < reads / 2, `${unknown.toLocaleString('en-US')} reads had to ask the node`);
    const info = await client.info();
    t.ok(info !== undefined && info.evictions > 0 && info.expired >= 0, `the node evicted ${info?.evictions} entries meanwhile`);
  });
}

t.test('reads answered from shared memory count in /stats, /nodes and /metrics alike', async (t) => {
  const server = await startTestServer({ nodes: 3, replicas: 2 });
  t.teardown(() => server.close());
  const base = server.url;
  for (let i = 0; i < 50; i++) await request(base, 'POST', `/set?key=k${i}&value=v${i}`);
  t.equal((await request(base, 'PUT', '/keys/brief?ttl=0.05', 'x')).status, 201);
  await new Promise((resolve) => setTimeout(resolve, 120));
  const batches = batchesSent(server);
  for (let i = 0; i < 50; i++) t.equal((await request(base, 'GET', `/get?key=k${i}`)).status, 200);
  for (let i = 0; i < 20; i++) t.equal((await request(base, 'HEAD', `/keys/k${i}`)).status, 200);
  for (let i = 0; i < 30; i++) t.equal((await request(base, 'GET', `/get?key=absent${i}`)).status, 404);
  t.equal((await request(base, 'GET', '/keys/brief')).status, 404, 'an expired entry is a miss to the reader');
  t.equal(batchesSent(server), batches, 'not one message to a node for those reads');
  const stats = (await request(base, 'GET', '/stats')).json as { totals: { hits: number; misses: number }; nodes: Array<{ hits: number; misses: number }> };
  t.equal(stats.totals.hits, 70, '/stats: 50 GET and 20 HEAD hits');
  t.equal(stats.totals.misses, 31, '/stats: 30 absent keys and one expired');
  const nodes = (await request(base, 'GET', '/nodes')).json as { nodes: Array<{ hits: number; misses: number }> };
  t.equal(nodes.nodes.reduce((sum, node) => sum + node.hits, 0), 70, '/nodes');
  t.same(nodes.nodes.map((node) => node.hits), stats.nodes.map((node) => node.hits), 'per node, as /stats has them');
  const metrics = (await request(base, 'GET', '/metrics')).text;
  const total = (name: string): number => [...metrics.matchAll(new RegExp(`^${name}\\{node="[^"]+"\\} (\\d+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
  t.equal(total('cache_hits_total'), 70, '/metrics hits');
  t.equal(total('cache_misses_total'), 31, '/metrics misses');
});
