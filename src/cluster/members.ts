import type { NodeLookup } from '../core/placement.js';
import { COUNT_NAMES, NO_COUNTS, type StoreCounts } from '../core/protocol.js';
import type { NodeClient } from '../nodes/node-client.js';

/**
 * up: holds every key it owns. joining / recovering: being filled (a new node, or one restarted
 * after dying); it takes writes but no reads. leaving: handing its keys over before it stops.
 * down: dead, about to be restarted.
 */
export type NodeState = 'up' | 'joining' | 'leaving' | 'recovering' | 'down';

/** The main thread's record of one node. Its state is written by Membership and the Supervisor only. */
export interface NodeRecord {
  readonly id: string;
  /** The handle on the node's current thread (a restart replaces it). */
  client: NodeClient;
  state: Exclude<NodeState, 'leaving'>;
  /** Taken off the ring: its keys are moving to their new owners, then it stops. */
  leaving: boolean;
  restarts: number;
  /** Keys lost when it died with no other live copy (estimated from its last key count). */
  lostKeys: number;
  lastFailure: { at: string; reason: string } | null;
  /** When it died lately, for the restart back-off. */
  deaths: number[];
}

/**
 * The registry of the nodes in the cluster, by id, and the figures that outlive a node (keys lost
 * with nodes that have since left). As a {@link NodeLookup} it tells placement which nodes are
 * complete and which take writes.
 */
export class Members implements NodeLookup<NodeRecord> {
  readonly #nodes = new Map<string, NodeRecord>();
  /** Keys lost by nodes that have since left. */
  #lostByGone = 0;
  /** What threads that left or were replaced after a death had counted, all together. */
  readonly #retiredCounts: StoreCounts = { ...NO_COUNTS };

  get size(): number {
    return this.#nodes.size;
  }

  get(id: string): NodeRecord | undefined {
    return this.#nodes.get(id);
  }

  /** Whether `node` is still the record under its id (not forgotten or replaced). */
  holds(node: NodeRecord): boolean {
    return this.#nodes.get(node.id) === node;
  }

  all(): NodeRecord[] {
    return [...this.#nodes.values()];
  }

  /** Nodes that take writes. */
  live(id: string): NodeRecord | undefined;
  live(): NodeRecord[];
  live(id?: string): NodeRecord | NodeRecord[] | undefined {
    if (id === undefined) return this.all().filter((node) => node.state !== 'down');
    const node = this.#nodes.get(id);
    return node === undefined || node.state === 'down' ? undefined : node;
  }

  /** The node if it holds every key it owns. */
  complete(id: string): NodeRecord | undefined {
    const node = this.#nodes.get(id);
    return node !== undefined && node.state === 'up' ? node : undefined;
  }

  /** Nodes in a given state. */
  inState(state: NodeRecord['state']): NodeRecord[] {
    return this.all().filter((node) => node.state === state);
  }

  add(id: string, client: NodeClient, state: NodeRecord['state']): NodeRecord {
    const node: NodeRecord = { id, client, state, leaving: false, restarts: 0, lostKeys: 0, lastFailure: null, deaths: [] };
    this.#nodes.set(id, node);
    return node;
  }

  /** Takes a node out for good (it left); what it lost and what it counted stay counted. */
  forget(node: NodeRecord): void {
    if (!this.holds(node)) return;
    this.#nodes.delete(node.id);
    this.#lostByGone += node.lostKeys;
    this.retire(node.client);
  }

  /**
   * A node thread that is done (it left, or died and is replaced): what its last Info counted
   * stays in the totals, so they never go down when a node leaves or restarts.
   */
  retire(client: NodeClient): void {
    addCounts(this.#retiredCounts, client.counts);
  }

  /**
   * The counters over the server's life: the retired threads' and, for each node here, what
   * its latest Info reported (a node that is down: its last one).
   */
  counts(): StoreCounts {
    const sum = { ...this.#retiredCounts };
    for (const node of this.#nodes.values()) addCounts(sum, node.client.counts);
    return sum;
  }

  /** Keys lost over the server's life, with the nodes here and those gone. */
  lostKeys(): number {
    return this.all().reduce((sum, node) => sum + node.lostKeys, this.#lostByGone);
  }

  /** What a node is, as GET /nodes and /health show it. */
  static stateOf(node: NodeRecord): NodeState {
    return node.leaving && node.state === 'up' ? 'leaving' : node.state;
  }
}

function addCounts(into: StoreCounts, counts: Readonly<StoreCounts>): void {
  for (const name of COUNT_NAMES) into[name] += counts[name];
}
