import { BackendKeyspace, BackendMultiKey } from '../backend/backend-keys.js';
import { NearCache, type NearCacheOptions } from '../backend/near-cache.js';
import type { BackendAddress } from '../backend/url.js';
import { Op } from '../core/protocol.js';
import { Admin } from './admin.js';
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
  readonly backendKeyspace: (() => Promise<{ keys: number; expires: number }>) | undefined;
  readonly membership: Membership;
  readonly admin: Admin;
  /** With --backend: the near cache every command goes through. */
  readonly near: NearCache | undefined;

  private constructor(membership: Membership, options: ClusterOptions) {
    const log = options.debug === true ? options.log : undefined;
    this.membership = membership;
    this.data = new DataPath(membership.placement, membership.migration, log);
    this.admin = new Admin(membership, log);
    if (options.backend === undefined) {
      this.near = undefined;
      this.multi = new MultiKey(this.data);
      this.keyspace = new Keyspace(membership);
      this.backendKeyspace = undefined;
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
    this.backendKeyspace = () => keyspace.counts();
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
