import type { Logger } from 'pino';
import { Op, type CrashKind, type NodeInfo, type StoreCounts } from '../core/protocol.js';
import { Members, type NodeState } from './members.js';
import type { Membership } from './membership.js';

export interface NodeStatus extends Partial<NodeInfo> {
  id: string;
  state: NodeState;
  threadId: number;
  /** Times the node was restarted after dying. */
  restarts: number;
  /** Keys lost when it died with no other live copy (estimated from its last key count). */
  lostKeys: number;
  lastFailure: { at: string; reason: string } | null;
  /** Messages sent to the node and the commands they carried (commands per batch: the batching factor). */
  batches: number;
  batchedCommands: number;
}

/** The server's figures: what the nodes hold now, and what they have counted over its life. */
export interface Totals extends StoreCounts {
  /** Entries held, every copy counted. */
  keys: number;
  /** Distinct keys, and those with an expiry (DBSIZE and INFO keyspace show these). */
  keyspace: { keys: number; expires: number };
  bytes: number;
  /** Reads and writes: hits + misses + sets + deletes. */
  ops: number;
  nodesUp: number;
}

export interface Health {
  /** Every key has a live copy that holds all its keys. */
  ok: boolean;
  nodes: Record<string, NodeState>;
  /** Keys lost with nodes that died without another copy (estimated from their key counts). */
  lostKeys: number;
}

/**
 * The admin side of the cluster: what the nodes report, health, flush, and fault injection.
 * Changes to membership itself (join, leave) are {@link Membership}'s.
 */
export class Admin {
  readonly #membership: Membership;
  readonly #log: Logger | undefined;

  constructor(membership: Membership, log: Logger | undefined) {
    this.#membership = membership;
    this.#log = log;
  }

  /**
   * Empties every node: the epoch goes out on the cluster channel, and also in each node's next
   * batch, so that the call returns only once every node has applied it (the channel gives no
   * acknowledgement and no ordering with the batches).
   */
  async flush(): Promise<void> {
    await this.flushBackend?.();
    await this.flushLocal();
  }

  /** With --backend: empties the backend's database first (FLUSHDB), so that FLUSHALL means the data. */
  flushBackend: (() => Promise<void>) | undefined;

  /** Empties the nodes alone. */
  async flushLocal(): Promise<void> {
    const epoch = this.#membership.channel.flush();
    this.#log?.debug({ op: 'flush', epoch }, 'flush');
    await Promise.all(this.#membership.members.live().map((node) => node.client.run([Op.Flush, epoch]).catch(() => undefined)));
  }

  /** Every node's figures, gathered with one Info command per node (it rides that node's batch). */
  async nodes(): Promise<NodeStatus[]> {
    return Promise.all(
      this.#membership.members.all().map(async (node): Promise<NodeStatus> => {
        const base = {
          id: node.id,
          threadId: node.client.threadId,
          restarts: node.restarts,
          lostKeys: node.lostKeys,
          lastFailure: node.lastFailure,
          batches: node.client.batchesSent,
          batchedCommands: node.client.commandsSent,
        };
        if (node.state === 'down') return { ...base, state: 'down' };
        try {
          return { ...(await node.client.info()), ...base, state: Members.stateOf(node) };
        } catch {
          return { ...base, state: 'down' };
        }
      }),
    );
  }

  /**
   * Totals over `nodes` (from {@link nodes}, whose Info replies are the nodes' latest counts):
   * keys and bytes as held now; the counters include what nodes that left or restarted had
   * counted, so they never go down.
   */
  totals(nodes: readonly NodeStatus[]): Totals {
    const counts = this.#membership.members.counts();
    const held = (field: 'keys' | 'bytes' | 'expires'): number => nodes.reduce((sum, node) => sum + (node[field] ?? 0), 0);
    // Each key is on `copies` nodes: exact while every key has all its copies, an estimate while
    // a node is missing or being refilled.
    const { placement } = this.#membership;
    const copies = Math.max(1, Math.min(placement.replicas, placement.ring.size));
    const keyspace = { keys: Math.round(held('keys') / copies), expires: Math.round(held('expires') / copies) };
    return { keys: held('keys'), keyspace, bytes: held('bytes'), ...counts, ops: opsOf(counts), nodesUp: nodes.filter((node) => node.state === 'up').length };
  }

  /** Every key range has a live copy that holds all its keys (during a change: before the change). */
  health(): Health {
    const { members, placement } = this.#membership;
    const nodes = Object.fromEntries(members.all().map((node) => [node.id, Members.stateOf(node)]));
    // With --backend a node holds copies only: a key whose node is down is read from the backend,
    // and a copy lost with its node is fetched again, not lost (the backend's state is the HTTP layer's to add).
    if (this.flushBackend !== undefined) return { ok: true, nodes, lostKeys: 0 };
    return { ok: placement.readable(), nodes, lostKeys: members.lostKeys() };
  }

  /**
   * Makes a node die the way `how` says (POST /debug/crash); resolves once its death has been
   * seen, with false for an unknown or already dead node.
   */
  async crash(id: string, how: CrashKind = 'terminate'): Promise<boolean> {
    const node = this.#membership.members.get(id);
    if (node === undefined || node.state === 'down') return false;
    const client = node.client;
    const died = new Promise<void>((resolve) => client.onDeath(() => resolve()));
    client.crash(how);
    await died;
    return true;
  }
}

/** Reads and writes a node's counters add up to: hits + misses + sets + deletes. */
export function opsOf(counts: Partial<StoreCounts>): number {
  return (counts.hits ?? 0) + (counts.misses ?? 0) + (counts.sets ?? 0) + (counts.deletes ?? 0);
}
