import type { Logger } from 'pino';
import type { Placement } from '../core/placement.js';
import type { NodeConfig } from '../core/protocol.js';
import { NodeClient } from '../nodes/node-client.js';
import { startTransport, type TransportKind } from '../nodes/start.js';
import type { ClusterChannel } from './channel.js';
import type { Members, NodeRecord } from './members.js';

export interface SupervisorOptions {
  transport: TransportKind;
  /** Maximum entries per node (0 = no count limit). */
  maxEntriesPerNode: number;
  /** Maximum accounted bytes per node (0 = no limit). */
  maxBytesPerNode: number;
  /** Where node deaths and restarts are reported. */
  log?: Logger | undefined;
}

/** Restarts back off when a node keeps dying: none for the first death in a minute, then 100 ms doubling to 5 s. */
const BACKOFF_WINDOW_MS = 60_000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5_000;

/**
 * Starts node threads (the only caller of startTransport), sees them die and restarts them under
 * the same id, backing off when one keeps dying. A node that died is `down` until its new thread
 * is up, then `recovering` until migration has refilled it; what it held with no other copy is
 * counted as lost.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #members: Members;
  readonly #placement: Placement<NodeRecord>;
  /** Called once a restarted node is back (it needs a refill). */
  readonly #onRestart: () => void;
  #deaths = 0;
  #closing = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  #restartWaiters: Array<() => void> = [];

  readonly #channel: ClusterChannel;

  constructor(options: SupervisorOptions, members: Members, placement: Placement<NodeRecord>, channel: ClusterChannel, onRestart: () => void) {
    this.#channel = channel;
    this.#options = options;
    this.#members = members;
    this.#placement = placement;
    this.#onRestart = onRestart;
  }

  /** Deaths seen so far: a pass that saw it change since it began must run again. */
  get deaths(): number {
    return this.#deaths;
  }

  /** Starts a thread for node `id`, told the current ring. */
  async launch(id: string): Promise<NodeClient> {
    const config: NodeConfig = {
      id,
      maxEntries: this.#options.maxEntriesPerNode,
      maxBytes: this.#options.maxBytesPerNode,
      ring: this.#channel.announcement(this.#placement),
    };
    const transport = await startTransport(this.#options.transport, config);
    return new NodeClient(id, transport, () => this.#placement.version);
  }

  /** Registers a node whose thread {@link launch} started, and watches it from now on. */
  adopt(id: string, client: NodeClient, state: NodeRecord['state']): NodeRecord {
    const node = this.#members.add(id, client, state);
    this.#watch(node, client);
    return node;
  }

  /** Resolves at the next restart (or at close). */
  nextRestart(): Promise<void> {
    return new Promise((resolve) => this.#restartWaiters.push(resolve));
  }

  close(): void {
    this.#closing = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#wakeRestartWaiters();
  }

  #watch(node: NodeRecord, client: NodeClient): void {
    node.client = client;
    client.onDeath((reason) => this.#onDeath(node, client, reason));
  }

  #onDeath(node: NodeRecord, client: NodeClient, reason: string): void {
    if (this.#closing || node.client !== client || !this.#members.holds(node)) return;
    this.#deaths++;
    const lost = Math.round(client.keysHeld * this.#placement.unreplicatedShare(node.id));
    node.lostKeys += lost;
    node.lastFailure = { at: new Date().toISOString(), reason };
    this.#options.log?.error({ node: node.id, reason, keysLost: lost }, 'cache node died');
    node.state = 'down';
    if (node.leaving) this.#members.forget(node);
    else this.#scheduleRestart(node);
  }

  #scheduleRestart(node: NodeRecord): void {
    const now = Date.now();
    node.deaths = node.deaths.filter((at) => now - at < BACKOFF_WINDOW_MS);
    node.deaths.push(now);
    const delay = node.deaths.length <= 1 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (node.deaths.length - 2));
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#restart(node);
    }, delay);
    this.#timers.add(timer);
  }

  async #restart(node: NodeRecord): Promise<void> {
    if (this.#closing || !this.#members.holds(node)) return;
    let client: NodeClient;
    try {
      client = await this.launch(node.id);
    } catch (error) {
      this.#options.log?.error({ node: node.id, err: (error as Error).message }, 'cache node failed to restart');
      this.#scheduleRestart(node);
      return;
    }
    if (this.#closing || !this.#members.holds(node)) {
      await client.close();
      return;
    }
    this.#members.retire(node.client);
    this.#watch(node, client);
    node.state = 'recovering';
    node.restarts++;
    this.#options.log?.info({ node: node.id, restarts: node.restarts }, 'cache node restarted; refilling');
    this.#wakeRestartWaiters();
    this.#onRestart();
  }

  #wakeRestartWaiters(): void {
    const waiting = this.#restartWaiters;
    this.#restartWaiters = [];
    for (const wake of waiting) wake();
  }
}
