import { BackendKeyspace, BackendMultiKey } from '../backend/backend-keys.js';
import { NearCache, type NearCacheOptions } from '../backend/near-cache.js';
import { BackendRelay } from '../backend/relay.js';
import type { PubSubHub } from '../pubsub/hub.js';
import type { BackendAddress } from '../backend/url.js';
import { Op } from '../core/protocol.js';
import { Admin, type NodeStatus, type Totals } from './admin.js';
import { DataPath } from './data-path.js';
import { Keyspace, type KeyspaceOps } from './keyspace.js';
import { MultiKey, type MultiKeyOps } from './multi-key.js';
import { Membership, type MembershipOptions } from './membership.js';

export interface ClusterOptions extends MembershipOptions {
  /** Log every data operation at debug level (the --debug flag). */
  debug?: boolean;
  /** --backend: the server that holds the data, the nodes keeping a near cache of it. */
  backend?: NearCacheOptions & { address: BackendAddress };
}

/**
 * The cluster as the front ends see it: {@link DataPath} for client reads and writes of a key
 * ({@link MultiKey} for several keys at once, {@link Keyspace} for all of them), {@link Membership}
 * for join, leave and the rings, {@link Admin} for figures, health, flush and fault injection.
 */
export class Cluster {
  readonly data: DataPath;
  /** Commands over several keys as one step (MSETNX, RENAME, COPY). */
  readonly multi: MultiKeyOps;
  /** Commands over all keys (KEYS, SCAN, RANDOMKEY). */
  readonly keyspace: KeyspaceOps;
  /** With --backend: the backend's keys and expiring keys (DBSIZE, INFO keyspace, /stats); undefined: the nodes' own figures. */
  readonly #backendKeyspace: (() => Promise<{ keys: number; expires: number }>) | undefined;
  readonly membership: Membership;
  readonly admin: Admin;
  /** With --backend: the near cache every command goes through. */
  readonly near: NearCache | undefined;

  readonly #backend: ClusterOptions['backend'];

  private constructor(membership: Membership, options: ClusterOptions) {
    this.#backend = options.backend;
    const log = options.debug === true ? options.log : undefined;
    this.membership = membership;
    this.data = new DataPath(membership.placement, membership.migration, log);
    this.admin = new Admin(membership, log);
    if (options.backend === undefined) {
      this.near = undefined;
      this.multi = new MultiKey(this.data);
      this.keyspace = new Keyspace(membership);
      this.#backendKeyspace = undefined;
      return;
    }
    const data = this.data;
    const near = new NearCache(options.backend.address, options.backend, (key, command, callback) => data.dispatchLocal(key, command, callback), () => this.admin.flushLocal(), options.log);
    this.near = near;
    data.serveThrough(near);
    this.admin.flushBackend = async () => void (await near.link.onEach('FLUSHDB', []));
    const drop = (keys: readonly string[]): Promise<void> =>
      Promise.all(keys.map((key) => new Promise<void>((resolve) => data.dispatchLocal(key, [Op.Delete, key], () => resolve())))).then(() => undefined);
    this.multi = new BackendMultiKey(near.link, drop);
    const keyspace = new BackendKeyspace(near.link);
    this.keyspace = keyspace;
    this.#backendKeyspace = () => keyspace.counts();
  }

  /** With --backend: pub/sub through the same backend, for `hub` (src/backend/relay.ts); else undefined. */
  relayFor(hub: PubSubHub): BackendRelay | undefined {
    const backend = this.#backend;
    return backend === undefined || this.near === undefined ? undefined : new BackendRelay(backend.address, backend.timeoutMs, this.near.link, hub);
  }

  /**
   * Every node's figures and their totals (/stats, INFO). With --backend the keyspace is the
   * backend's; the other totals are the local copies'. A backend that cannot say leaves the nodes'.
   */
  async figures(): Promise<{ nodes: NodeStatus[]; totals: Totals }> {
    const [nodes, backend] = await Promise.all([this.admin.nodes(), this.#backendKeyspace?.().catch(() => undefined)]);
    const totals = this.admin.totals(nodes);
    if (backend !== undefined) totals.keyspace = backend;
    return { nodes, totals };
  }

  /** DBSIZE: the backend's keys with --backend (failing while it is down), else the nodes' distinct keys. */
  async size(): Promise<number> {
    if (this.#backendKeyspace !== undefined) return (await this.#backendKeyspace()).keys;
    return this.admin.totals(await this.admin.nodes()).keyspace.keys;
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    return new Cluster(await Membership.start(options), options);
  }

  /** Stops every node (and the backend's connections). */
  async close(): Promise<void> {
    await this.near?.close();
    await this.membership.close();
  }
}
