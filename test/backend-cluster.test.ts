import t, { type Test } from 'tap';
import { Cluster, Redis } from 'ioredis';
import type { Options } from '../src/options.js';
import { RedisCluster, redisMissing } from './fixtures/redis.js';
import { request, startTestServer, type RunningServer } from './fixtures/server.js';
import { eventually } from './fixtures/wait.js';

/**
 * --backend redis-cluster://: two cache servers on one Redis Cluster of 3 masters and 3 replicas
 * (real redis-server processes), keys on every master, changes seen across servers, and a master
 * killed under load with --backend-wait 1.
 */
const missing = redisMissing();
if (missing !== undefined) t.comment(`skipping the Redis Cluster tests: ${missing}`);

async function servers(t: Test, cluster: RedisCluster, extra: Partial<Options> = {}): Promise<[RunningServer, RunningServer]> {
  const pair = await Promise.all([0, 1].map(() => startTestServer({ backend: cluster.url, backendTimeout: 500, respPort: 0, ...extra })));
  t.teardown(() => Promise.all(pair.map((server) => server.close())));
  await eventually('both near caches serve', () => pair.every((server) => server.cluster.near!.serving));
  return pair as [RunningServer, RunningServer];
}

t.test('two cache servers on one Cluster: keys on every master, changes seen by both', { skip: missing, timeout: 120_000 }, async (t) => {
  const cluster = await RedisCluster.start();
  t.teardown(() => cluster.close());
  const [a, b] = await servers(t, cluster);
  const direct = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }], { redisOptions: { protocol: 2 } });
  const onA = new Redis({ port: a.resp!.port, host: '127.0.0.1' });
  const onB = new Redis({ port: b.resp!.port, host: '127.0.0.1' });
  t.teardown(() => [direct, onA, onB].forEach((client) => client.disconnect()));
  const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
  for (const key of keys) t.equal(await onA.set(key, `a-${key}`), 'OK');
  t.same(await Promise.all(keys.map((key) => onB.get(key))), keys.map((key) => `a-${key}`), 'written through A, read through B');
  t.same(await Promise.all(keys.map((key) => direct.get(key))), keys.map((key) => `a-${key}`), 'in the Cluster');
  const masters = new Set(keys.map((key) => cluster.masterOf(key).port));
  t.equal(masters.size, 3, 'the keys are on all 3 masters');
  await direct.set('k1', 'changed');
  await onB.set('k2', 'by-b');
  await eventually('A sees a change made in the Cluster', async () => (await onA.get('k1')) === 'changed');
  await eventually('and one made through B', async () => (await onA.get('k2')) === 'by-b');
  t.same((await onA.keys('k*')).sort(), [...keys].sort(), 'KEYS asks every master');
  t.equal(await onA.dbsize(), 30, 'so does DBSIZE');
  const scanned: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await onA.scan(cursor, 'COUNT', 7);
    scanned.push(...found);
    cursor = next;
  } while (cursor !== '0');
  t.same([...new Set(scanned)].sort(), [...keys].sort(), 'SCAN covers every master');
  await t.rejects(onA.mset('k1', 'x', 'k2', 'y'), /CROSSSLOT/, "keys of different slots in one command: the Cluster's own limit, in its words");
  t.equal(await onA.mset('{t}a', '1', '{t}b', '2'), 'OK', 'keys of one slot (a hash tag) go together');
  t.equal(await onB.get('{t}b'), '2');
  // Pub/sub through the Cluster: a subscriber on B hears what is published through A.
  const subscriber = new Redis({ port: b.resp!.port, host: '127.0.0.1' });
  t.teardown(() => subscriber.disconnect());
  const heard: string[] = [];
  subscriber.on('message', (channel: string, message: string) => heard.push(`${channel}:${message}`));
  await subscriber.subscribe('events');
  await eventually('the relay is subscribed', async () => Number((await direct.pubsub('NUMSUB', 'events'))[1]) >= 1);
  await onA.publish('events', 'hello');
  await eventually('heard on the other server', () => heard.length === 1);
  t.same(heard, ['events:hello']);
  t.equal(await onA.flushall(), 'OK');
  t.equal(await direct.dbsize(), 0);
  t.same(await Promise.all(['k0', '{t}a'].map((key) => onB.get(key))), [null, null], 'FLUSHALL empties every master, and the near caches');
});

t.test('a master killed under load with --backend-wait 1: nothing acknowledged lost, no stale read past 50 ms', { skip: missing, timeout: 120_000 }, async (t) => {
  const cluster = await RedisCluster.start();
  t.teardown(() => cluster.close());
  const [a, b] = await servers(t, cluster, { backendWait: 1 });
  const counts = { written: 0, read: 0, unavailable: 0, other: 0, stale: 0 };
  const others = new Map<string, number>();
  const other = (answer: { status: number; text: string }): void => {
    counts.other++;
    const what = `${answer.status} ${answer.text.slice(0, 120)}`;
    others.set(what, (others.get(what) ?? 0) + 1);
  };
  /** Per key: the newest sequence number acknowledged, and when. */
  const acked = new Map<string, { seq: number; at: number }>();
  let running = true;
  const client = async (id: number): Promise<void> => {
    const [writer, reader] = id % 2 === 0 ? [a, b] : [b, a];
    for (let seq = 1; running; seq++) {
      const key = `load-${id}`;
      const wrote = await request(writer.url, 'POST', `/set?key=${key}&value=${seq}`);
      if (wrote.status === 201) {
        counts.written++;
        acked.set(key, { seq, at: performance.now() });
      } else if (wrote.status === 503) counts.unavailable++;
      else other(wrote);
      const floor = acked.get(key);
      const began = performance.now();
      const read = await request(reader.url, 'GET', `/get?key=${key}`);
      if (read.status === 200) {
        counts.read++;
        const seen = Number((read.json as { value: string }).value);
        // Older than a write acknowledged more than 50 ms before this read began: stale past the bound.
        if (floor !== undefined && seen < floor.seq && began - floor.at > 50) counts.stale++;
      } else if (read.status === 503) counts.unavailable++;
      else if (read.status !== 404) other(read);
    }
  };
  const clients = Array.from({ length: 50 }, (_, id) => client(id));
  await eventually('load under way', () => counts.written > 500);
  const victim = cluster.masterOf('load-0');
  await victim.stop();
  // The Cluster is whole again once a replica serves the dead master's slots.
  await eventually('a replica has taken over', () => {
    try {
      return cluster.masterOf('load-0') !== victim;
    } catch {
      return false;
    }
  }, { timeoutMs: 60_000 });
  // Its replica is the master now, with no replica of its own: WAIT 1 cannot be met, so writes of
  // its slots are not acknowledged (503) until the old master comes back as its replica.
  await victim.start();
  await cluster.settled();
  const after = acked.get('load-0')?.seq ?? 0;
  await eventually('writes of a key of the failed master are acknowledged again', () => (acked.get('load-0')?.seq ?? 0) > after + 20, { timeoutMs: 60_000 });
  running = false;
  await Promise.all(clients);
  t.equal(counts.other, 0, `${counts.written} writes and ${counts.read} reads answered, ${counts.unavailable} BACKEND_UNAVAILABLE during the failover, nothing else`, { others: Object.fromEntries(others) });
  t.equal(counts.stale, 0, 'no read older than a write acknowledged 50 ms before it');
  // Each key read from the master that holds its slot now (asked of the nodes themselves).
  await cluster.settled();
  let lost = 0;
  for (const [key, { seq }] of acked) {
    const holder = cluster.masterOf(key).client();
    if (Number(await holder.get(key)) < seq) lost++;
    holder.disconnect();
  }
  t.equal(lost, 0, `every acknowledged write of ${acked.size} keys survived the failover`);
});
