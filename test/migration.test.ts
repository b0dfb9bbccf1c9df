import t from 'tap';
import { ClusterChannel } from '../src/cluster/channel.js';
import { Members } from '../src/cluster/members.js';
import { Migration } from '../src/cluster/migration.js';
import { copiesByTarget } from '../src/cluster/pass.js';
import { Supervisor } from '../src/cluster/supervisor.js';
import { Placement } from '../src/core/placement.js';
import { Op, Status, type BatchReply, type BatchRequest, type Handoff, type NodeConfig } from '../src/core/protocol.js';
import { HashRing } from '../src/core/ring.js';
import { NodeClient } from '../src/nodes/node-client.js';
import { TransportLifecycle, type NodeTransport } from '../src/nodes/transport.js';
import { NodeCore } from '../workers/node-core.js';

/** A node's code run in this thread: the key movement is tested without worker threads. */
class InProcessTransport extends TransportLifecycle implements NodeTransport {
  readonly threadId = 0;
  readonly core: NodeCore;

  constructor(config: NodeConfig) {
    super();
    this.core = new NodeCore(config);
  }

  exchange(request: BatchRequest): Promise<BatchReply> {
    return Promise.resolve(this.core.handle(request));
  }

  announce(): void {}

  kill(): void {
    this.die('killed');
  }

  protected async stop(): Promise<void> {
    this.core.close();
  }

  protected released(): void {}
}

t.test('copies are grouped per target, and keys written meanwhile are left out', async (t) => {
  const handoffs: Handoff[] = [
    ['a', '1', 0, ['node-2', 'node-3']],
    ['b', '2', 500, ['node-3']],
    ['c', '3', 0, ['node-2']],
  ];
  const copies = copiesByTarget(handoffs, new Set(['c']));
  t.same([...copies], [['node-2', [['a', '1', 0]]], ['node-3', [['a', '1', 0], ['b', '2', 500]]]]);
});

t.test('a join moves exactly the keys the new node owns, then drops the old copies', async (t) => {
  const members = new Members();
  const placement = new Placement(new HashRing(['node-1', 'node-2', 'node-3']), 2, members);
  const channel = new ClusterChannel();
  const supervisor = new Supervisor({ transport: 'worker', maxEntriesPerNode: 0, maxBytesPerNode: 0 }, members, placement, channel, () => undefined);
  const migration = new Migration({ members, placement, supervisor, channel, announce: () => undefined });
  const cores = new Map<string, NodeCore>();
  const add = (id: string, state: 'up' | 'joining'): void => {
    const transport = new InProcessTransport({ id, maxEntries: 0, maxBytes: 0, ring: channel.announcement(placement) });
    cores.set(id, transport.core);
    members.add(id, new NodeClient(id, transport, () => placement.version), state);
  };
  for (const id of placement.ring.members) add(id, 'up');
  t.teardown(async () => {
    channel.close();
    await Promise.all(members.all().map((node) => node.client.close()));
  });
  const keys = Array.from({ length: 3_000 }, (_, i) => `key-${i}`);
  for (const key of keys) {
    for (const id of placement.ring.owners(key, 2)) await members.get(id)!.client.run([Op.Set, key, `v-${key}`, 0]);
  }

  add('node-4', 'joining');
  placement.begin((ring) => ring.add('node-4'));
  migration.changed();
  await migration.reconcile();

  t.equal(placement.previous, null, 'the old ring is dropped');
  t.same(members.all().map((node) => node.state), ['up', 'up', 'up', 'up']);
  for (const [id, core] of cores) {
    const owned = keys.filter((key) => placement.ring.owners(key, 2).includes(id));
    t.equal(core.store.size, owned.length, `${id} holds exactly the ${owned.length} keys it owns`);
  }
  const sample = keys.filter((key) => placement.ring.owners(key, 2).includes('node-4')).slice(0, 50);
  const read = await Promise.all(sample.map((key) => members.get('node-4')!.client.run([Op.Get, key])));
  t.same(read, sample.map((key) => ({ status: Status.Ok, value: `v-${key}` })), 'node-4 holds their values');
  const last = migration.lastProgress!;
  const moved = keys.filter((key) => placement.ring.owners(key, 2).includes('node-4')).length;
  t.equal(last.keysMoved, moved, `${moved} copies moved, each once`);
  t.ok(last.keysDropped > 0, `${last.keysDropped} old copies dropped`);
});
