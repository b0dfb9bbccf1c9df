import { setTimeout as sleep } from 'node:timers/promises';
import { BroadcastChannel } from 'node:worker_threads';
import type { Logger } from 'pino';
import { CacheError, ErrorCode } from './errors.js';
import { CLUSTER_CHANNEL, Op, type ClusterEvent, type RingAnnouncement, type ScanPlan, type ShardConfig } from './protocol.js';
import { runPass, type MigrationProgress } from './rebalance.js';
import { HashRing } from './ring.js';
import { ShardClient } from './shard-client.js';
import { startTransport, type ShardTransport, type TransportKind } from './transport.js';

export interface MembershipOptions {
  /** Number of shard nodes at start, named node-1 .. node-N. */
  nodes: number;
  /** Copies of each key (1 = no copy). */
  replicas: number;
  /** Maximum entries per node (0 = no count limit). */
  maxEntriesPerNode: number;
  /** Maximum accounted bytes per node (0 = no limit). */
  maxBytesPerNode: number;
  transport: TransportKind;
  /** Where node deaths and restarts are reported. */
  log?: Logger | undefined;
}

/**
 * up: holds every key it owns. joining / recovering: being filled (a new node, or one restarted
 * after dying); it takes writes but no reads. leaving: handing its keys over before it stops.
 * down: dead, about to be restarted.
 */
export type NodeState = 'up' | 'joining' | 'leaving' | 'recovering' | 'down';

export interface Health {
  /** Every key has a live copy that holds all its keys. */
  ok: boolean;
  nodes: Record<string, NodeState>;
  /** Keys lost with nodes that died without another copy (estimated from their key counts). */
  lostKeys: number;
}

export interface Member {
  readonly id: string;
  /** The handle on the node's current thread (a restart replaces it). */
  client: ShardClient;
  state: Exclude<NodeState, 'leaving'>;
  /** Taken off the ring: its keys are moving to their new owners, then it stops. */
  leaving: boolean;
  restarts: number;
  lostKeys: number;
  lastFailure: { at: string; reason: string } | null;
  /** When it died lately, for the restart back-off. */
  deaths: number[];
}

/** Restarts back off when a node keeps dying: none for the first death in a minute, then 100 ms doubling to 5 s. */
const BACKOFF_WINDOW_MS = 60_000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** Most nodes at once, as --nodes allows. */
export const MAX_NODES = 64;
/** Pause before a pass that failed for another reason than a node's death runs again. */
const RETRY_PASS_MS = 100;

/**
 * Who is in the cluster and in what state, and every change to it: join, leave, a node's death and
 * restart, and the key movement each one needs. Changes run one at a time, in the order asked.
 * After a join or a leave, reads still go to the owners before the change (they hold every key)
 * and writes reach the owners before and after it, while each key is handed to its new owners in
 * bounded chunks; then the old copies are dropped. A node that dies is restarted under its id and
 * refilled from the copies on other nodes.
 */
export class Membership {
  readonly ring: HashRing;
  readonly replicas: number;
  #version = 1;
  /** The ring before the change in progress, while keys move; null otherwise. */
  #previous: HashRing | null = null;
  readonly #members = new Map<string, Member>();
  readonly #options: MembershipOptions;
  readonly #channel = new BroadcastChannel(CLUSTER_CHANNEL);
  /** Keys written since the current pass began (null when no pass runs). */
  #dirty: Set<string> | null = null;
  #flushEpoch = 0;
  #progress: MigrationProgress | null = null;
  #lastProgress: MigrationProgress | null = null;
  /** Membership changes and key movement, one after another. */
  #queue: Promise<void> = Promise.resolve();
  #reconcileQueued = false;
  #deaths = 0;
  /** Keys lost by nodes that have since left. */
  #lostByGone = 0;
  #lastId: number;
  #closing = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  #restarted: Array<() => void> = [];

  private constructor(options: MembershipOptions) {
    this.#options = options;
    this.replicas = options.replicas;
    this.#lastId = options.nodes;
    this.ring = new HashRing(Array.from({ length: options.nodes }, (_, i) => `node-${i + 1}`));
  }

  static async start(options: MembershipOptions): Promise<Membership> {
    const membership = new Membership(options);
    const ids = [...membership.ring.members];
    const started = await Promise.allSettled(ids.map((id) => startTransport(options.transport, membership.#config(id))));
    started.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') membership.#add(ids[i]!, outcome.value, 'up');
    });
    const failure = started.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) {
      await membership.close();
      throw (failure as PromiseRejectedResult).reason;
    }
    membership.#announce();
    return membership;
  }

  get version(): number {
    return this.#version;
  }

  get progress(): MigrationProgress | null {
    return this.#progress;
  }

  /** The figures of the last movement that ran to its end. */
  get lastProgress(): MigrationProgress | null {
    return this.#lastProgress;
  }

  get(id: string): Member | undefined {
    return this.#members.get(id);
  }

  all(): Member[] {
    return [...this.#members.values()];
  }

  /** Nodes that take writes. */
  live(): Member[] {
    return this.all().filter((member) => member.state !== 'down');
  }

  #addLive(targets: Member[], owners: readonly string[]): void {
    for (const id of owners) {
      const member = this.#liveMember(id);
      if (member !== undefined && !targets.includes(member)) targets.push(member);
    }
  }

  /** The node `id` if it takes writes now. */
  #liveMember(id: string): Member | undefined {
    const member = this.#members.get(id);
    return member === undefined || member.state === 'down' ? undefined : member;
  }

  /** What a node is, as GET /nodes and /health show it. */
  static stateOf(member: Member): NodeState {
    return member.leaving && member.state === 'up' ? 'leaving' : member.state;
  }

  /** Where a read of `key` goes: the first owner that holds all its keys, the owners before a change first. */
  reader(key: string): Member | undefined {
    if (this.#previous !== null) {
      const before = this.#firstComplete(this.#previous.owners(key, this.replicas));
      if (before !== undefined) return before;
    }
    return this.#firstComplete(this.ring.owners(key, this.replicas));
  }

  /** Where a write of `key` goes: every live owner, and during a change every live owner before it. */
  writers(key: string): Member[] {
    const targets: Member[] = [];
    this.#addLive(targets, this.ring.owners(key, this.replicas));
    if (this.#previous !== null) this.#addLive(targets, this.#previous.owners(key, this.replicas));
    return targets;
  }

  /** Records a write while keys move: its new owners got it directly, so the older copy must not follow. */
  touched(key: string): void {
    this.#dirty?.add(key);
  }

  /** Posts a flush on the cluster channel; a pass drops what it read before it. */
  flushed(): number {
    const epoch = ++this.#flushEpoch;
    this.#channel.postMessage({ type: 'flush', epoch } satisfies ClusterEvent);
    return epoch;
  }

  /** Every key range has a live copy that holds all its keys (during a change: before the change). */
  health(): Health {
    const ring = this.#previous ?? this.ring;
    const ok = ring.ownerLists(this.replicas).every((owners) => this.#firstComplete(owners) !== undefined);
    const nodes = Object.fromEntries(this.all().map((member) => [member.id, Membership.stateOf(member)]));
    const lostKeys = this.all().reduce((sum, member) => sum + member.lostKeys, this.#lostByGone);
    return { ok, nodes, lostKeys };
  }

  join(): Promise<string> {
    this.#checkJoin();
    return this.#enqueue(async () => {
      await this.#reconcile();
      this.#checkJoin();
      const id = `node-${++this.#lastId}`;
      const transport = await startTransport(this.#options.transport, this.#config(id));
      if (this.#closing) {
        await transport.close();
        throw new CacheError(ErrorCode.ShuttingDown, 'The server is shutting down');
      }
      this.#add(id, transport, 'joining');
      this.#change(() => this.ring.add(id));
      return id;
    });
  }

  leave(id: string): Promise<void> {
    this.#checkLeave(id);
    return this.#enqueue(async () => {
      await this.#reconcile();
      this.#checkLeave(id);
      const member = this.#members.get(id)!;
      this.#change(() => this.ring.remove(id));
      member.leaving = true;
      if (member.state === 'down') this.#forget(member);
    });
  }

  /** Resolves once no change, refill or purge is left and no node is down. */
  async settled(): Promise<void> {
    for (;;) {
      const queue = this.#queue;
      await queue;
      if (this.#closing) return;
      if (queue !== this.#queue) continue;
      if (this.all().some((member) => member.state === 'down')) await this.#nextRestart();
      else if (this.#previous === null && !this.all().some((m) => m.state !== 'up')) return;
      else this.#scheduleReconcile();
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#wakeRestartWaiters();
    this.#channel.close();
    await Promise.all(this.all().map((member) => member.client.close()));
  }

  #config(id: string): ShardConfig {
    return {
      id,
      maxEntries: this.#options.maxEntriesPerNode,
      maxBytes: this.#options.maxBytesPerNode,
      ring: this.#announcement(),
    };
  }

  #announcement(): RingAnnouncement {
    const ring: RingAnnouncement = { type: 'ring', version: this.#version, nodes: [...this.ring.members], replicas: this.replicas };
    if (this.#previous !== null) ring.previous = [...this.#previous.members];
    return ring;
  }

  #announce(): void {
    const event = this.#announcement();
    this.#channel.postMessage(event satisfies ClusterEvent);
    for (const member of this.live()) member.client.transport.announce(event);
  }

  #add(id: string, transport: ShardTransport, state: Member['state']): Member {
    const member: Member = { id, client: undefined!, state, leaving: false, restarts: 0, lostKeys: 0, lastFailure: null, deaths: [] };
    this.#attach(member, transport);
    this.#members.set(id, member);
    return member;
  }

  #attach(member: Member, transport: ShardTransport): void {
    const client = new ShardClient(member.id, transport, () => this.#version);
    member.client = client;
    transport.onDeath((reason) => this.#onDeath(member, client, reason));
  }

  /** A new ring version: `apply` changes the ring; the old one stays as `previous` until keys have moved. */
  #change(apply: () => void): void {
    this.#previous = this.ring.clone();
    apply();
    this.#version++;
    this.#announce();
    this.#progress = this.#newProgress('handoff');
    this.#scheduleReconcile();
  }

  #checkJoin(): void {
    if (this.#members.size >= MAX_NODES) throw new CacheError(ErrorCode.Conflict, `The cluster already has ${MAX_NODES} nodes, the most it may have`);
  }

  #checkLeave(id: string): void {
    if (!this.ring.has(id)) throw new CacheError(ErrorCode.NotFound, `No node ${id} on the ring`);
    if (this.ring.size <= 1) throw new CacheError(ErrorCode.Conflict, `${id} is the last node: it cannot leave`);
  }

  #firstComplete(ids: readonly string[]): Member | undefined {
    for (const id of ids) {
      const member = this.#members.get(id);
      if (member !== undefined && member.state === 'up') return member;
    }
    return undefined;
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
      await this.#reconcile();
    });
  }

  /**
   * Runs passes until every node holds all its keys: an export pass hands keys to the nodes
   * that lack them; a node dying during a pass makes it run again once that node is back. After a
   * join or leave, the old ring is then dropped and a purge pass removes the copies that moved.
   */
  async #reconcile(): Promise<void> {
    while (!this.#closing) {
      if (this.all().some((member) => member.state === 'down')) {
        await this.#nextRestart();
        continue;
      }
      const filling = this.all().filter((member) => member.state !== 'up');
      if (this.#previous === null && filling.length === 0) break;
      this.#progress ??= this.#newProgress('refill');
      const deaths = this.#deaths;
      const clients = new Map(filling.map((member) => [member, member.client]));
      const senders = this.all().filter((member) => member.state === 'up');
      const plan: ScanPlan = {
        kind: 'export',
        previous: (this.#previous ?? this.ring).layout(),
        next: this.ring.layout(),
        replicas: this.replicas,
        complete: senders.map((member) => member.id),
        filling: filling.map((member) => member.id),
      };
      const completed = await this.#pass(senders, plan);
      if (this.#deaths !== deaths) continue;
      if (!completed) {
        await sleep(RETRY_PASS_MS);
        continue;
      }
      for (const [member, client] of clients) if (member.client === client) member.state = 'up';
      if (this.#previous !== null) await this.#finishChange();
    }
    if (this.#progress !== null) this.#lastProgress = { ...this.#progress, finishedAt: new Date().toISOString() };
    this.#progress = null;
  }

  /** The new ring is complete: the old one goes, leavers stop, and old copies are dropped. */
  async #finishChange(): Promise<void> {
    this.#previous = null;
    this.#version++;
    this.#announce();
    for (const member of this.all().filter((m) => m.leaving)) {
      this.#forget(member);
      // Commands already sent to it are answered first: the port is in order.
      await member.client.run([Op.Info]).catch(() => undefined);
      await member.client.close();
    }
    this.#progress = { ...this.#newProgress('purge'), keysMoved: this.#progress?.keysMoved ?? 0 };
    const layout = this.ring.layout();
    const plan: ScanPlan = { kind: 'purge', previous: layout, next: layout, replicas: this.replicas, complete: [], filling: [] };
    await this.#pass(this.live(), plan);
  }

  /** Whether the pass ran to its end (a node dying under it ends it early). */
  async #pass(scanners: Member[], plan: ScanPlan): Promise<boolean> {
    this.#dirty = new Set();
    try {
      await runPass(
        scanners.map((member) => member.client),
        plan,
        {
          liveClient: (id) => this.#liveMember(id)?.client,
          dirty: this.#dirty,
          flushEpoch: () => this.#flushEpoch,
          progress: this.#progress!,
        },
      );
      return true;
    } catch (error) {
      // A node died under the pass; the caller sees the death and runs the pass again.
      this.#options.log?.warn({ err: (error as Error).message }, 'key movement interrupted');
      return false;
    } finally {
      this.#dirty = null;
    }
  }

  #newProgress(phase: MigrationProgress['phase']): MigrationProgress {
    return { phase, ringVersion: this.#version, startedAt: new Date().toISOString(), passes: 0, keysTotal: 0, keysScanned: 0, keysMoved: 0, keysDropped: 0 };
  }

  #onDeath(member: Member, client: ShardClient, reason: string): void {
    if (this.#closing || member.client !== client || this.#members.get(member.id) !== member) return;
    this.#deaths++;
    const lost = Math.round(client.keys * this.#unreplicatedShare(member));
    member.lostKeys += lost;
    member.lastFailure = { at: new Date().toISOString(), reason };
    this.#options.log?.error({ node: member.id, reason, keysLost: lost }, 'cache node died');
    member.state = 'down';
    if (member.leaving) this.#forget(member);
    else this.#scheduleRestart(member);
  }

  /** The share of a dead node's key ranges that no other node holds complete: those keys are gone. */
  #unreplicatedShare(dead: Member): number {
    const ranges = (this.#previous ?? this.ring).ownerLists(this.replicas).filter((owners) => owners.includes(dead.id));
    if (ranges.length === 0) return 0;
    const lost = ranges.filter((owners) => owners.every((id) => id === dead.id || this.#members.get(id)?.state !== 'up'));
    return lost.length / ranges.length;
  }

  #forget(member: Member): void {
    this.#members.delete(member.id);
    this.#lostByGone += member.lostKeys;
  }

  #scheduleRestart(member: Member): void {
    const now = Date.now();
    member.deaths = member.deaths.filter((at) => now - at < BACKOFF_WINDOW_MS);
    member.deaths.push(now);
    const delay = member.deaths.length <= 1 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (member.deaths.length - 2));
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#restart(member);
    }, delay);
    this.#timers.add(timer);
  }

  async #restart(member: Member): Promise<void> {
    if (this.#closing || this.#members.get(member.id) !== member) return;
    let transport: ShardTransport;
    try {
      transport = await startTransport(this.#options.transport, this.#config(member.id));
    } catch (error) {
      this.#options.log?.error({ node: member.id, err: (error as Error).message }, 'cache node failed to restart');
      this.#scheduleRestart(member);
      return;
    }
    if (this.#closing || this.#members.get(member.id) !== member) {
      await transport.close();
      return;
    }
    this.#attach(member, transport);
    member.state = 'recovering';
    member.restarts++;
    this.#options.log?.info({ node: member.id, restarts: member.restarts }, 'cache node restarted; refilling');
    this.#wakeRestartWaiters();
    this.#scheduleReconcile();
  }

  #nextRestart(): Promise<void> {
    return new Promise((resolve) => this.#restarted.push(resolve));
  }

  #wakeRestartWaiters(): void {
    const waiting = this.#restarted;
    this.#restarted = [];
    for (const wake of waiting) wake();
  }
}
