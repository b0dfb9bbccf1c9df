import { BroadcastChannel } from 'node:worker_threads';
import type { Logger } from 'pino';
import { CacheError, ErrorCode, nodeUnavailable } from './errors.js';
import {
  CLUSTER_CHANNEL,
  codeNames,
  Op,
  Status,
  type ClusterEvent,
  type Command,
  type NodeInfo,
  type Result,
  type RingAnnouncement,
} from './protocol.js';
import { HashRing } from './ring.js';
import { ShardClient, type ResultCallback } from './shard-client.js';
import { startTransport, type TransportKind } from './transport.js';

export interface ClusterOptions {
  /** Number of shard nodes, named node-1 .. node-N. */
  nodes: number;
  /** Maximum entries per node (0 = no count limit). */
  maxEntriesPerNode: number;
  /** Maximum accounted bytes per node (0 = no limit). */
  maxBytesPerNode: number;
  transport: TransportKind;
  /** Where node deaths are reported. */
  log?: Logger | undefined;
  /** Log every data operation at debug level (the --debug flag). */
  debug?: boolean;
}

export type NodeState = 'up' | 'down';

export interface NodeStatus extends Partial<NodeInfo> {
  id: string;
  state: NodeState;
  threadId: number;
}

const OP_NAMES = codeNames(Op);
const STATUS_NAMES = codeNames(Status);

/**
 * Membership and routing: the only place that knows both the ring and the shards. It announces
 * every membership version on the `cluster` BroadcastChannel and sends each key's operation to
 * the shard that owns it.
 */
export class Cluster {
  readonly ring: HashRing;
  readonly #shards = new Map<string, ShardClient>();
  readonly #channel = new BroadcastChannel(CLUSTER_CHANNEL);
  /** Set only with --debug: the per-operation log. */
  readonly #log: Logger | undefined;
  #version = 0;
  #flushEpoch = 0;

  private constructor(ring: HashRing, log: Logger | undefined) {
    this.ring = ring;
    this.#log = log;
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const ids = Array.from({ length: options.nodes }, (_, i) => `node-${i + 1}`);
    const cluster = new Cluster(new HashRing(ids), options.debug ? options.log : undefined);
    cluster.#version = 1;
    const ring = cluster.announcement();
    const started = await Promise.allSettled(
      ids.map((id) => startTransport(options.transport, { id, maxEntries: options.maxEntriesPerNode, maxBytes: options.maxBytesPerNode, ring })),
    );
    const failure = started.find((outcome) => outcome.status === 'rejected');
    for (const [i, outcome] of started.entries()) {
      if (outcome.status === 'fulfilled') {
        cluster.#shards.set(ids[i]!, new ShardClient(ids[i]!, outcome.value, () => cluster.#version));
      }
    }
    if (failure !== undefined) {
      await cluster.close();
      throw (failure as PromiseRejectedResult).reason;
    }
    for (const shard of cluster.#shards.values()) {
      shard.transport.onDeath((reason) => options.log?.error({ node: shard.id, reason }, 'cache node died'));
    }
    cluster.#announce();
    return cluster;
  }

  get version(): number {
    return this.#version;
  }

  announcement(): RingAnnouncement {
    return { type: 'ring', version: this.#version, nodes: [...this.ring.members] };
  }

  ownerOf(key: string): string {
    return this.ring.owner(key);
  }

  /**
   * Sends one key's command to the key's owner; `callback` gets the outcome and the owner's id.
   * This is the hot path: no promise, no allocation beyond the command itself.
   */
  dispatch(key: string, command: Command, callback: ResultCallback): void {
    const node = this.ring.owner(key);
    const shard = this.#shards.get(node);
    if (shard === undefined) {
      callback(nodeUnavailable(), undefined, node);
    } else if (this.#log === undefined) {
      shard.send(command, callback);
    } else {
      const log = this.#log;
      shard.send(command, (error, result, owner) => {
        log.debug({ op: OP_NAMES[command[0]], key, node: owner, status: error?.code ?? STATUS_NAMES[result!.status] });
        callback(error, result, owner);
      });
    }
  }

  /** {@link dispatch} as a promise; a command the node could not apply is an INTERNAL error. */
  run(key: string, command: Command): Promise<{ result: Result; node: string }> {
    return new Promise((resolve, reject) => {
      this.dispatch(key, command, (error, result, node) => {
        if (error !== null) reject(error);
        else if (result!.status === Status.Failed) reject(new CacheError(ErrorCode.Internal, 'Internal server error'));
        else resolve({ result: result!, node });
      });
    });
  }

  /**
   * Empties every node: the epoch goes out on the cluster channel, and also in each node's next
   * batch, so that the call returns only once every node has applied it (the channel gives no
   * acknowledgement and no ordering with the batches).
   */
  async flush(): Promise<void> {
    const epoch = ++this.#flushEpoch;
    this.#channel.postMessage({ type: 'flush', epoch } satisfies ClusterEvent);
    this.#log?.debug({ op: 'flush', epoch }, 'flush');
    await Promise.all([...this.#shards.values()].filter((s) => s.alive).map((shard) => shard.run([Op.Flush, epoch])));
  }

  /** Every node's figures, gathered with one Info command per node (it rides that node's batch). */
  async nodes(): Promise<NodeStatus[]> {
    return Promise.all(
      [...this.#shards.values()].map(async (shard): Promise<NodeStatus> => {
        const base = { id: shard.id, threadId: shard.transport.threadId };
        if (!shard.alive) return { ...base, state: 'down' };
        try {
          const result = await shard.run([Op.Info]);
          const info = result.status === Status.Ok ? result.info : undefined;
          return { ...base, ...info, state: 'up' };
        } catch {
          return { ...base, state: 'down' };
        }
      }),
    );
  }

  /** True when every member of the ring has a live shard, so every key has a live owner. */
  healthy(): boolean {
    return this.ring.members.every((id) => this.#shards.get(id)?.alive === true);
  }

  /** Batching figures per node: batches sent and commands they carried. */
  batching(): Array<{ id: string; batches: number; commands: number }> {
    return [...this.#shards.values()].map((s) => ({ id: s.id, batches: s.batchesSent, commands: s.commandsSent }));
  }

  /** Ends a node's thread abruptly, as a crash would. Returns false for an unknown id. */
  killNode(id: string): boolean {
    const shard = this.#shards.get(id);
    shard?.transport.kill();
    return shard !== undefined;
  }

  async close(): Promise<void> {
    this.#channel.close();
    await Promise.all([...this.#shards.values()].map((shard) => shard.close()));
  }

  #announce(): void {
    const event: ClusterEvent = this.announcement();
    this.#channel.postMessage(event);
    for (const shard of this.#shards.values()) shard.transport.announce(event);
  }

}
