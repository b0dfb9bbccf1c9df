import { BroadcastChannel, threadId } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import {
  CLUSTER_CHANNEL,
  Op,
  Status,
  type BatchReply,
  type BatchRequest,
  type ClusterEvent,
  type Command,
  type NodeInfo,
  type Result,
  type ShardConfig,
} from '../src/protocol.js';
import { Store } from './store.js';

const OK: Result = { status: Status.Ok };
const NOT_FOUND: Result = { status: Status.NotFound };

/**
 * What runs inside a shard thread, whichever way the thread is driven (a plain Worker or a
 * one-thread piscina pool): the node's store, its view of the ring, and the cluster channel.
 */
export class Shard {
  readonly id: string;
  readonly store: Store;
  #ringVersion: number;
  readonly #channel: BroadcastChannel;

  constructor(config: ShardConfig) {
    this.id = config.id;
    this.store = new Store({ maxEntries: config.maxEntries });
    this.#ringVersion = config.ring.version;
    this.#channel = new BroadcastChannel(CLUSTER_CHANNEL);
    this.#channel.onmessage = (event) => {
      this.onClusterEvent(event.data as ClusterEvent);
    };
  }

  get ringVersion(): number {
    return this.#ringVersion;
  }

  /** Versions only move forward: a late announcement must not roll the node back. */
  seeRingVersion(version: number): void {
    if (version > this.#ringVersion) this.#ringVersion = version;
  }

  onClusterEvent(event: ClusterEvent): void {
    if (event.type === 'ring') this.seeRingVersion(event.version);
  }

  handle(request: BatchRequest): BatchReply {
    this.seeRingVersion(request.ringVersion);
    const results = new Array<Result>(request.commands.length);
    for (let i = 0; i < request.commands.length; i++) {
      results[i] = this.#apply(request.commands[i]!);
    }
    return { type: 'batch', id: request.id, results };
  }

  info(): NodeInfo {
    return {
      id: this.id,
      threadId,
      ringVersion: this.#ringVersion,
      ...this.store.stats(),
      heapUsedBytes: getHeapStatistics().used_heap_size,
    };
  }

  close(): void {
    this.#channel.close();
  }

  #apply(command: Command): Result {
    switch (command[0]) {
      case Op.Get: {
        const value = this.store.get(command[1]);
        return value === undefined ? NOT_FOUND : { status: Status.Ok, value };
      }
      case Op.Set:
        this.store.set(command[1], command[2]);
        return OK;
      case Op.Delete:
        return this.store.delete(command[1]) ? OK : NOT_FOUND;
      case Op.Info:
        return { status: Status.Ok, info: this.info() };
      default:
        return { status: Status.Failed, message: `unknown command ${String((command as Command)[0])}` };
    }
  }
}
