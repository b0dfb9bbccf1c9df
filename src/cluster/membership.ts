import type { Logger } from 'pino';
import { CacheError, ErrorCode } from '../errors.js';
import { MAX_NODES } from '../core/limits.js';
import { Placement } from '../core/placement.js';
import { HashRing } from '../core/ring.js';
import type { TransportKind } from '../nodes/start.js';
import { ClusterChannel } from './channel.js';
import { Members, type NodeRecord } from './members.js';
import { Migration } from './migration.js';
import { Supervisor } from './supervisor.js';

export interface MembershipOptions {
  /** Number of nodes at start, named node-1 .. node-N. */
  nodes: number;
  /** Copies of each key (1 = no copy). */
  replicas: number;
  /** Maximum entries per node (0 = no count limit). */
  maxEntriesPerNode: number;
  /** Maximum accounted bytes per node (0 = no limit). */
  maxBytesPerNode: number;
  transport: TransportKind;
  /** Where node deaths, restarts and interrupted passes are reported. */
  log?: Logger | undefined;
}

/**
 * Who is in the cluster, and every change to it, one at a time in the order asked: a join, a
 * leave, and the key movement each one needs (and a restarted node's refill). It assembles the
 * parts, each the only writer of its own state: the registry ({@link Members}), the rings
 * ({@link Placement}), the threads ({@link Supervisor}), the passes ({@link Migration}) and the
 * cluster channel ({@link ClusterChannel}).
 */
export class Membership {
  readonly members = new Members();
  readonly placement: Placement<NodeRecord>;
  readonly channel = new ClusterChannel();
  readonly migration: Migration;
  readonly #supervisor: Supervisor;
  /** Membership changes and key movement, one after another. */
  #queue: Promise<void> = Promise.resolve();
  #reconcileQueued = false;
  #lastId: number;
  #closing = false;

  private constructor(options: MembershipOptions) {
    this.#lastId = options.nodes;
    const ring = new HashRing(Array.from({ length: options.nodes }, (_, i) => `node-${i + 1}`));
    this.placement = new Placement(ring, options.replicas, this.members);
    this.#supervisor = new Supervisor(options, this.members, this.placement, this.channel, () => this.#scheduleReconcile());
    this.migration = new Migration({
      members: this.members,
      placement: this.placement,
      supervisor: this.#supervisor,
      channel: this.channel,
      announce: () => this.#announce(),
      log: options.log,
    });
  }

  static async start(options: MembershipOptions): Promise<Membership> {
    const membership = new Membership(options);
    const ids = [...membership.placement.ring.members];
    const started = await Promise.allSettled(ids.map((id) => membership.#supervisor.launch(id)));
    started.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') membership.#supervisor.adopt(ids[i]!, outcome.value, 'up');
    });
    const failure = started.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) {
      await membership.close();
      throw (failure as PromiseRejectedResult).reason;
    }
    membership.#announce();
    return membership;
  }

  /** Adds a node; its keys move to it in the background. Resolves with its id once it is on the ring. */
  join(): Promise<string> {
    this.#checkJoin();
    return this.#enqueue(async () => {
      await this.migration.reconcile();
      this.#checkJoin();
      const id = `node-${++this.#lastId}`;
      const client = await this.#supervisor.launch(id);
      if (this.#closing) {
        await client.close();
        throw new CacheError(ErrorCode.ShuttingDown, 'The server is shutting down');
      }
      this.#supervisor.adopt(id, client, 'joining');
      this.#change((ring) => ring.add(id));
      return id;
    });
  }

  /** Takes a node off the ring; it hands its keys to their new owners, then stops. */
  leave(id: string): Promise<void> {
    this.#checkLeave(id);
    return this.#enqueue(async () => {
      await this.migration.reconcile();
      this.#checkLeave(id);
      const node = this.members.get(id)!;
      this.#change((ring) => ring.remove(id));
      node.leaving = true;
      if (node.state === 'down') this.members.forget(node);
    });
  }

  /** Resolves once no change, refill or purge is left and no node is down. */
  async settled(): Promise<void> {
    for (;;) {
      const queue = this.#queue;
      await queue;
      if (this.#closing) return;
      if (queue !== this.#queue) continue;
      if (this.members.inState('down').length > 0) await this.#supervisor.nextRestart();
      else if (this.placement.previous === null && this.members.all().every((node) => node.state === 'up')) return;
      else this.#scheduleReconcile();
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.migration.stop();
    this.#supervisor.close();
    this.channel.close();
    await Promise.all(this.members.all().map((node) => node.client.close()));
  }

  /** Turns the nodes' reports of key changes on or off (keyspace notifications), with the ring. */
  reportKeyEvents(on: boolean): void {
    if (this.channel.keyEvents === on) return;
    this.channel.keyEvents = on;
    this.#announce();
  }

  #announce(): void {
    this.channel.announce(this.placement, this.members.live());
  }

  /** A new ring version: `apply` changes the ring; the old one stays as `previous` until keys have moved. */
  #change(apply: (ring: HashRing) => void): void {
    this.placement.begin(apply);
    this.#announce();
    this.migration.changed();
    this.#scheduleReconcile();
  }

  #checkJoin(): void {
    if (this.members.size >= MAX_NODES) throw new CacheError(ErrorCode.Conflict, `The cluster already has ${MAX_NODES} nodes, the most it may have`);
  }

  #checkLeave(id: string): void {
    if (!this.placement.ring.has(id)) throw new CacheError(ErrorCode.NotFound, `No node ${id} on the ring`);
    if (this.placement.ring.size <= 1) throw new CacheError(ErrorCode.Conflict, `${id} is the last node: it cannot leave`);
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #scheduleReconcile(): void {
    if (this.#reconcileQueued || this.#closing) return;
    this.#reconcileQueued = true;
    void this.#enqueue(async () => {
      this.#reconcileQueued = false;
      await this.migration.reconcile();
    });
  }
}
