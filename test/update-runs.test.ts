import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { Op, Status } from '../src/core/protocol.js';
import { request, startTestServer, type RunningServer } from './fixtures/server.js';

// Read-modify-writes of one hot key from many clients of both front ends: they may be in flight
// to the key's arbiter together, so these check what that must not change.

/** The value each owner of `key` holds, read from each node itself. */
async function copies(server: RunningServer, key: string): Promise<Array<string | undefined>> {
  const { placement, members } = server.cluster.membership;
  return Promise.all(
    placement.ring.owners(key, 2).map(async (id) => {
      const result = await members.get(id)!.client.run([Op.Get, key]);
      return result.status === Status.Ok ? result.value : undefined;
    }),
  );
}

/** A server of 3 nodes, 2 replicas, and `count` RESP clients, all closed at the end of `t`. */
async function serverWithClients(t: Test, count: number): Promise<{ server: RunningServer; clients: Redis[] }> {
  const server = await startTestServer({ nodes: 3, replicas: 2, respPort: 0 });
  const clients = Array.from({ length: count }, () => new Redis({ port: server.resp!.port, host: '127.0.0.1' }));
  t.teardown(async () => {
    clients.forEach((client) => client.disconnect());
    await server.close();
  });
  return { server, clients };
}

t.test('a hot counter from 30 clients of RESP and HTTP: every increment counted, every copy the same', async (t) => {
  const { server, clients } = await serverWithClients(t, 20);
  const seen: number[][] = [];
  await Promise.all([
    ...clients.map(async (client) => {
      // Pipelined: many increments of one connection in flight at once.
      const pipeline = client.pipeline();
      for (let i = 0; i < 100; i++) pipeline.incrby('hot', 3);
      const answers = (await pipeline.exec())!.map(([error, value]) => (error === null ? Number(value) : NaN));
      seen.push(answers);
    }),
    ...Array.from({ length: 10 }, async () => {
      const answers: number[] = [];
      for (let i = 0; i < 20; i++) answers.push(((await request(server.url, 'POST', '/keys/hot/incr?by=3')).json as { value: number }).value);
      seen.push(answers);
    }),
  ]);
  const total = 3 * (20 * 100 + 10 * 20);
  t.equal(await clients[0]!.get('hot'), String(total), 'no increment lost or applied twice');
  const all = seen.flat();
  t.equal(new Set(all).size, all.length, 'each increment answered a value of its own');
  t.ok(
    seen.every((answers) => answers.every((value, i) => i === 0 || value > answers[i - 1]!)),
    "each client's answers increase, in the order it sent them",
  );
  t.same(await copies(server, 'hot'), [String(total), String(total)], 'both copies hold the total');
});

t.test('updates, sets and deletes of one key mixed by 40 clients: the copies never differ', async (t) => {
  const { server, clients } = await serverWithClients(t, 40);
  // In one pipeline a set right behind an update reaches the nodes in the same batch as it: the
  // set must wait for the update's copy, or the other owner applies the copy last.
  const pipeline = clients[0]!.pipeline();
  for (let i = 0; i < 20; i++) pipeline.incr(`pair${i}`).set(`pair${i}`, 'after');
  await pipeline.exec();
  for (let i = 0; i < 20; i++) t.same(await copies(server, `pair${i}`), ['after', 'after'], `pair${i}: the set is last on both owners`);
  for (let round = 0; round < 5; round++) {
    await Promise.all(
      clients.map(async (client, c) => {
        const pipeline = client.pipeline();
        for (let i = 0; i < 50; i++) {
          const pick = (c * 7 + i * 13 + round) % 10;
          if (pick < 5) pipeline.incr('mixed');
          else if (pick < 7) pipeline.append('mixed', '1');
          else if (pick === 7) pipeline.set('mixed', String(c * 1000 + i));
          else if (pick === 8) pipeline.set('mixed', String(i), 'NX');
          else pipeline.del('mixed');
        }
        // Some fail (APPEND makes a number that INCR may refuse to read as one): only the copies matter.
        await pipeline.exec();
      }),
    );
    const [first, second] = await copies(server, 'mixed');
    t.equal(second, first, `round ${round}: both owners hold the same value (${String(first)})`);
    t.equal(await clients[0]!.get('mixed'), first ?? null, 'and a read answers it');
  }
});

t.test('reads beside a stream of updates of their key are answered, never go back, and every update is there at the end', async (t) => {
  const { server, clients: all } = await serverWithClients(t, 11);
  const [reader, ...clients] = all as [Redis, ...Redis[]];
  let stop = false;
  // Each client keeps 10 increments in flight, each answer sending the next, until the reads
  // below are answered: at any moment some are on their way to the key's node.
  const writers = clients.flatMap((client) =>
    Array.from({ length: 10 }, async () => {
      let sent = 0;
      for (; !stop; sent++) await client.incr('busy');
      return sent;
    }),
  );
  const reads: number[] = [];
  for (let i = 0; i < 20; i++) reads.push(Number(await reader.get('busy')));
  stop = true;
  const total = (await Promise.all(writers)).reduce((sum, n) => sum + n, 0);
  t.ok(reads.every((value, i) => i === 0 || value >= reads[i - 1]!), `the reads never go back (${reads[0]} .. ${reads.at(-1)})`);
  t.equal(Number(await reader.get('busy')), total, 'and every increment is there at the end');
  t.same(await copies(server, 'busy'), [String(total), String(total)]);
});
