import { Op, Status, type Command } from '../core/protocol.js';
import { SCAN_SPACE } from '../core/scan-order.js';
import type { Membership } from './membership.js';

/** A SCAN step: the next cursor (0 when the scan is over) and the keys of this step. */
export interface ScanStep {
  cursor: number;
  keys: string[];
}

/** What the front ends use of the keyspace commands (with --backend, src/backend/backend-keys.ts). */
export type KeyspaceOps = Pick<Keyspace, 'keys' | 'scan' | 'randomKey'>;

/**
 * The commands over the whole keyspace rather than one key (KEYS, SCAN, RANDOMKEY): each asks
 * every live node and merges the answers, each key once (it is on several nodes). SCAN walks the
 * scan order of src/core/scan-order.ts, so its cursor means the same on every node and across
 * joins, leaves and table growth; a node that is down is not asked (its keys' other copies are).
 */
export class Keyspace {
  readonly #membership: Membership;

  constructor(membership: Membership) {
    this.#membership = membership;
  }

  /** Every key matching the glob `pattern` (null: all). */
  keys(pattern: string | null): Promise<string[]> {
    return this.#collect([Op.Keys, 0, SCAN_SPACE, pattern]);
  }

  /**
   * One SCAN step from `cursor`, covering a share of the scan order sized for about `count` keys
   * (COUNT is a hint, as in Redis) from what the nodes last said they hold.
   */
  async scan(cursor: number, count: number, pattern: string | null): Promise<ScanStep> {
    if (cursor >= SCAN_SPACE) return { cursor: 0, keys: [] };
    const { members, placement } = this.#membership;
    const held = members.live().reduce((sum, node) => sum + node.client.keysHeld, 0) / Math.max(1, placement.replicas);
    const span = held <= count ? SCAN_SPACE : Math.max(1, Math.floor((SCAN_SPACE * count) / held));
    const end = Math.min(SCAN_SPACE, cursor + span);
    const keys = await this.#collect([Op.Keys, cursor, end, pattern]);
    return { cursor: end >= SCAN_SPACE ? 0 : end, keys };
  }

  /** A random key, from a node chosen in proportion to the keys it holds; null if none holds any. */
  async randomKey(): Promise<string | null> {
    const nodes = this.#membership.members.live();
    while (nodes.length > 0) {
      const total = nodes.reduce((sum, node) => sum + node.client.keysHeld, 0);
      let pick = Math.random() * total;
      const index = Math.max(0, nodes.findIndex((node) => (pick -= node.client.keysHeld) < 0));
      const [node] = nodes.splice(index, 1);
      const result = await node!.client.run([Op.RandomKey]).catch(() => undefined);
      if (result?.status === Status.Ok) return result.keys![0]!;
    }
    return null;
  }

  /** The union of every live node's answer to `command` (keys), each key once. */
  async #collect(command: Command): Promise<string[]> {
    const answers = await Promise.all(this.#membership.members.live().map((node) => node.client.run(command).catch(() => undefined)));
    const keys = new Set<string>();
    for (const answer of answers) if (answer?.status === Status.Ok) for (const key of answer.keys!) keys.add(key);
    return [...keys];
  }
}
