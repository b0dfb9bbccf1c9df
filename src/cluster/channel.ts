import { BroadcastChannel } from 'node:worker_threads';
import { CLUSTER_CHANNEL, type ClusterEvent, type RingAnnouncement } from '../core/protocol.js';
import type { Placement } from '../core/placement.js';
import type { NodeRecord } from './members.js';

/**
 * The main thread's end of the `cluster` BroadcastChannel, and the owner of what it carries:
 * ring announcements and flush epochs. The channel gives no ordering with a node's own port, so
 * every batch also carries the ring version it was routed with, and a flush is sent in each
 * node's batches as well (src/cluster/admin.ts).
 */
export class ClusterChannel {
  readonly #channel = new BroadcastChannel(CLUSTER_CHANNEL);
  #flushEpoch = 0;
  /** Whether the nodes report key changes (told them with the ring). */
  keyEvents = false;

  /** Changes at every flush: a chunk of keys read before a flush is stale. */
  get flushEpoch(): number {
    return this.#flushEpoch;
  }

  /** The ring as a node is told it: at start, on the channel, and to each live node directly. */
  announcement(placement: Placement<NodeRecord>): RingAnnouncement {
    const ring: RingAnnouncement = { type: 'ring', version: placement.version, nodes: [...placement.ring.members], replicas: placement.replicas, keyEvents: this.keyEvents };
    if (placement.previous !== null) ring.previous = [...placement.previous.members];
    return ring;
  }

  /**
   * Posts the current ring on the channel and to each live node's own port: a thread started
   * late has missed the broadcasts before it.
   */
  announce(placement: Placement<NodeRecord>, live: readonly NodeRecord[]): void {
    const event = this.announcement(placement);
    this.#channel.postMessage(event satisfies ClusterEvent);
    for (const node of live) node.client.announce(event);
  }

  /**
   * A new flush epoch, for the {@link Op.Flush} each live node gets in its next batch. Not posted
   * here: a node that emptied itself on the channel's word could then apply writes sent before
   * the flush (the channel is not ordered with the batches), and FLUSHALL would not empty it.
   */
  flush(): number {
    return ++this.#flushEpoch;
  }

  /** A BroadcastChannel keeps the thread alive until it is closed. */
  close(): void {
    this.#channel.close();
  }
}
