import t from 'tap';
import { textToBytes } from '../src/bytes.js';
import { BroadcastChannel } from 'node:worker_threads';
import { CacheError } from '../src/errors.js';
import { CLUSTER_CHANNEL, Op, Status, type RingAnnouncement, type Result } from '../src/core/protocol.js';
import { NodeClient } from '../src/nodes/node-client.js';
import { Lookup, Want } from '../src/nodes/shared-reader.js';
import { startTransport, TRANSPORTS } from '../src/nodes/start.js';
import { eventually, sleep } from './fixtures/wait.js';
import { batchRequest } from '../src/core/batch.js';

const ring: RingAnnouncement = { type: 'ring', version: 7, nodes: ['node-1'], replicas: 1 };

async function open(kind: (typeof TRANSPORTS)[number], maxEntries = 0) {
  const transport = await startTransport(kind, { id: 'node-1', maxEntries, maxBytes: 0, ring });
  return new NodeClient('node-1', transport, () => ring.version);
}

async function info(client: NodeClient) {
  const result = await client.run([Op.Info]);
  if (result.status !== Status.Ok || result.info === undefined) throw new Error('no info');
  return result.info;
}

// One suite, run against every transport: either can replace the other safely.
for (const kind of TRANSPORTS) {
  t.test(`${kind} transport`, async (t) => {
    t.test('set, get, delete round trip through the thread', async (t) => {
      const client = await open(kind);
      t.teardown(() => client.close());
      t.same(await client.run([Op.Get, 'a']), { status: Status.NotFound });
      // Values cross as byte strings (one character per byte), as the HTTP layer makes them.
      const value = textToBytes('ünïcødé 😀');
      t.same(await client.run([Op.Set, 'a', value, 0]), { status: Status.Ok });
      t.same(await client.run([Op.Get, 'a']), { status: Status.Ok, value });
      t.same(await client.run([Op.Delete, 'a']), { status: Status.Ok });
      t.same(await client.run([Op.Delete, 'a']), { status: Status.NotFound });
      const node = await info(client);
      t.equal(node.id, 'node-1');
      t.equal(node.threadId, client.threadId);
      t.ok(node.threadId > 0, 'runs in its own thread');
    });

    t.test('commands issued in one turn travel in one batch and resolve in order', async (t) => {
      const client = await open(kind);
      t.teardown(() => client.close());
      const writes = Array.from({ length: 500 }, (_, i) => client.run([Op.Set, `k${i}`, `v${i}`, 0]));
      const reads = Array.from({ length: 500 }, (_, i) => client.run([Op.Get, `k${i}`]));
      await Promise.all(writes);
      const values = (await Promise.all(reads)) as Result[];
      t.equal(client.batchesSent, 1, 'one message for 1,000 commands');
      t.equal(client.commandsSent, 1001, 'and the request for the shared memory a new client makes');
      t.ok(values.every((r, i) => r.status === Status.Ok && r.value === `v${i}`), 'each read got its own value');
      await client.run([Op.Get, 'k1']);
      t.equal(client.batchesSent, 2, 'a later turn sends a new batch');
    });

    t.test('batches are applied in the order they were sent, however many wait for the thread', async (t) => {
      // More batches than a thread takes at once (piscina queues the rest): a queue that let
      // one overtake another would apply an earlier write after a later one.
      const transport = await startTransport(kind, { id: 'node-1', maxEntries: 0, maxBytes: 0, ring });
      t.teardown(() => transport.close());
      const sent = Array.from({ length: 300 }, (_, i) =>
        transport.exchange(batchRequest(i + 1, ring.version, [[Op.Update, 'order', ['append', `${i},`, 1 << 20]]])),
      );
      await Promise.all(sent);
      const reply = await transport.exchange(batchRequest(301, ring.version, [[Op.Get, 'order']]));
      t.same(reply.results[0], { status: Status.Ok, value: Array.from({ length: 300 }, (_, i) => `${i},`).join('') }, '300 appends in the order sent');
    });

    t.test('the shared memory of the thread reaches the client: reads without a message, growth included', async (t) => {
      const client = await open(kind);
      t.teardown(() => client.close());
      await client.run([Op.Set, 'a', 'x'.repeat(100), 0]);
      t.equal(client.reader.read('a', Want.Bytes), Lookup.Found);
      t.equal(client.reader.value, 'x'.repeat(100));
      t.equal(client.reader.read('b', Want.Bytes), Lookup.Missing);
      // 20,000 keys: new pages and larger index tables, each reaching the client with a reply.
      const writes = Array.from({ length: 20_000 }, (_, i) => client.run([Op.Set, `k${i}`, `value ${i}`, 0]));
      await Promise.all(writes);
      const wrong = Array.from({ length: 20_000 }, (_, i) => i).filter((i) => client.reader.read(`k${i}`, Want.Bytes) !== Lookup.Found || client.reader.value !== `value ${i}`);
      t.same(wrong, [], 'every acknowledged write is read from shared memory');
      t.equal((await info(client)).hits, 0, 'the thread answered none of those reads');
    });

    t.test('the node learns ring versions from the cluster channel and from batches', async (t) => {
      const client = await open(kind);
      t.teardown(() => client.close());
      t.equal((await info(client)).ringVersion, 7);
      const channel = new BroadcastChannel(CLUSTER_CHANNEL);
      channel.postMessage({ type: 'ring', version: 9, nodes: ['node-1', 'node-2'], replicas: 1 } satisfies RingAnnouncement);
      // Messages from one sender arrive in order: 8 comes after 9, and must not roll it back.
      channel.postMessage({ type: 'ring', version: 8, nodes: ['node-1'], replicas: 1 } satisfies RingAnnouncement);
      channel.close();
      await eventually('the node has seen version 9', async () => (await info(client)).ringVersion === 9);
      await sleep(50);
      t.equal((await info(client)).ringVersion, 9, 'the newest version wins, a late older one does not roll it back');
    });

    t.test('a thread that dies fails its commands with NODE_UNAVAILABLE, never a hang', async (t) => {
      const client = await open(kind);
      t.teardown(() => client.close());
      await client.run([Op.Set, 'a', '1', 0]);
      let died = '';
      client.onDeath((reason) => (died = reason));
      const inFlight = client.run([Op.Get, 'a']);
      client.crash('terminate');
      const outcome = await inFlight.then(
        (result) => result,
        (error: unknown) => error,
      );
      // The read may have been answered before the kill landed; if not, it must fail cleanly.
      if (outcome instanceof CacheError) t.equal(outcome.code, 'NODE_UNAVAILABLE');
      else t.same(outcome, { status: Status.Ok, value: '1' });
      await eventually('the death is noticed', () => !client.alive);
      t.not(died, '', `death listener ran (${died})`);
      await t.rejects(client.run([Op.Get, 'a']), { code: 'NODE_UNAVAILABLE' });
    });

    t.test('maxEntries reaches the store', async (t) => {
      const client = await open(kind, 2);
      t.teardown(() => client.close());
      await client.run([Op.Set, 'a', '1', 0]);
      await client.run([Op.Set, 'b', '2', 0]);
      await client.run([Op.Set, 'c', '3', 0]);
      const node = await info(client);
      t.equal(node.keys, 2);
      t.equal(node.evictions, 1);
    });
  });
}
