import type { Cluster, Redis } from './ioredis.js';
import { connectNode } from './connect.js';
import type { BackendAddress } from './url.js';

const INVALIDATE = '__redis__:invalidate';
/** Trackers are pinged (and a Cluster's masters compared with them) this often. */
const CHECK_INTERVAL_MS = 500;

export interface TrackingEvents {
  /** Keys that changed in the backend (null: all of them, after FLUSHALL or a lost table). */
  invalidate(keys: string[] | null): void;
  /** Invalidations may have been missed (a connection dropped): every local copy must go. */
  untracked(): void;
  /** Tracking is on again: copies may be kept from now on. */
  tracked(): void;
}

/**
 * Whether Redis is telling this server of every change to the keys it keeps (CLIENT TRACKING),
 * and since when: `epoch` changes at every loss, so that a read begun before one is not kept.
 * The two ways below differ in who is tracked; both report here.
 */
abstract class Tracking {
  readonly #events: TrackingEvents;
  readonly #timer: NodeJS.Timeout;
  #tracked = false;
  epoch = 0;

  protected constructor(events: TrackingEvents) {
    this.#events = events;
    this.#timer = setInterval(() => this.check(), CHECK_INTERVAL_MS).unref();
  }

  get tracked(): boolean {
    return this.#tracked;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /** Runs every {@link CHECK_INTERVAL_MS}: pings, and whatever else keeps the trackers true. */
  protected abstract check(): void;

  protected lost(): void {
    this.epoch++;
    const was = this.#tracked;
    this.#tracked = false;
    if (was) this.#events.untracked();
  }

  /** Tracking became complete, if nothing was lost since `epoch`. */
  protected found(epoch: number): void {
    if (epoch !== this.epoch || this.#tracked) return;
    this.#tracked = true;
    this.#events.tracked();
  }

  /** A tracker connection: subscribed to the invalidations, and their reports passed on. */
  protected listen(tracker: Redis): void {
    tracker.on('messageBuffer', (channel: Buffer, message: unknown) => {
      if (channel.toString() !== INVALIDATE) return;
      this.#events.invalidate(Array.isArray(message) ? message.map((key) => (key as Buffer).toString('utf8')) : null);
    });
  }

  protected ping(tracker: Redis): void {
    if (tracker.status === 'ready') tracker.ping().catch(() => tracker.disconnect(true));
  }
}

/**
 * One server: the data connection has CLIENT TRACKING ON REDIRECT to a tracker subscribed to
 * Redis's invalidation channel (RESP2's form), so every key it reads is reported when anyone
 * changes it. Either connection dropping loses the tracking (Redis forgets a closed connection's
 * keys, and says nothing to the other): it is made anew when both are back.
 */
export class RedirectTracking extends Tracking {
  readonly #data: Redis;
  readonly #tracker: Redis;

  constructor(address: BackendAddress, timeoutMs: number, data: Redis, events: TrackingEvents) {
    super(events);
    this.#data = data;
    // It subscribes anew on every connection: CLIENT ID must come before it is subscribed.
    this.#tracker = connectNode(address, address.nodes[0]!, timeoutMs, 'distributed-cache-tracking');
    this.#tracker.options.autoResubscribe = false;
    this.listen(this.#tracker);
    for (const connection of [data, this.#tracker]) {
      connection.on('ready', () => void this.#track());
      connection.on('close', () => this.lost());
    }
    this.#tracker.on('error', () => undefined);
    this.#tracker.connect().catch(() => undefined);
  }

  override close(): void {
    super.close();
    this.#tracker.disconnect();
  }

  protected check(): void {
    this.ping(this.#tracker);
  }

  async #track(): Promise<void> {
    if (this.#data.status !== 'ready' || this.#tracker.status !== 'ready') return;
    const epoch = this.epoch;
    try {
      const id = await this.#tracker.client('ID');
      await this.#tracker.subscribe(INVALIDATE);
      await this.#data.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id));
    } catch {
      // A connection dropped meanwhile: its 'ready' will come again.
      return;
    }
    this.found(epoch);
  }
}

/**
 * A Cluster: each master has a tracker of its own, with CLIENT TRACKING ON BCAST redirected to
 * itself, so it reports every change of a key on that master whoever reads it (the Cluster
 * client's connections are its to make and remake; tracking does not depend on them). The set of
 * masters is compared with the trackers' twice a second: a failover (a replica promoted) or any
 * tracker dropping loses the tracking until every master has one again.
 */
export class BroadcastTracking extends Tracking {
  readonly #address: BackendAddress;
  readonly #timeoutMs: number;
  readonly #cluster: Cluster;
  readonly #trackers = new Map<string, { tracker: Redis; ready: boolean }>();

  constructor(address: BackendAddress, timeoutMs: number, cluster: Cluster, events: TrackingEvents) {
    super(events);
    this.#address = address;
    this.#timeoutMs = timeoutMs;
    this.#cluster = cluster;
    for (const event of ['ready', '+node', '-node'] as const) cluster.on(event, () => this.check());
  }

  override close(): void {
    super.close();
    for (const { tracker } of this.#trackers.values()) tracker.disconnect();
    this.#trackers.clear();
  }

  protected check(): void {
    if (this.#cluster.status !== 'ready') return;
    const masters = new Map<string, { host?: string | undefined; port?: number | undefined }>(this.#cluster.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node.options]));
    const same = masters.size === this.#trackers.size && [...masters.keys()].every((key) => this.#trackers.has(key));
    if (!same) {
      this.lost();
      for (const [key, { tracker }] of this.#trackers) {
        if (masters.has(key)) continue;
        tracker.disconnect();
        this.#trackers.delete(key);
      }
      for (const [key, options] of masters) if (!this.#trackers.has(key)) this.#add(key, { host: options.host!, port: options.port! });
    }
    for (const { tracker } of this.#trackers.values()) this.ping(tracker);
  }

  #add(key: string, node: { host: string; port: number }): void {
    const tracker = connectNode(this.#address, node, this.#timeoutMs, 'distributed-cache-tracking');
    tracker.options.autoResubscribe = false;
    const entry = { tracker, ready: false };
    this.#trackers.set(key, entry);
    this.listen(tracker);
    tracker.on('error', () => undefined);
    tracker.on('close', () => {
      entry.ready = false;
      this.lost();
    });
    tracker.on('ready', async () => {
      const epoch = this.epoch;
      try {
        const id = await tracker.client('ID');
        await tracker.call('CLIENT', 'TRACKING', 'ON', 'BCAST', 'REDIRECT', String(id));
        await tracker.subscribe(INVALIDATE);
      } catch {
        return;
      }
      entry.ready = true;
      if ([...this.#trackers.values()].every((other) => other.ready)) this.found(epoch);
    });
    tracker.connect().catch(() => undefined);
  }
}
