import { Admin } from './admin.js';
import { DataPath } from './data-path.js';
import { Keyspace } from './keyspace.js';
import { MultiKey } from './multi-key.js';
import { Membership, type MembershipOptions } from './membership.js';

export interface ClusterOptions extends MembershipOptions {
  /** Log every data operation at debug level (the --debug flag). */
  debug?: boolean;
}

/**
 * The cluster as the front ends see it: {@link DataPath} for client reads and writes of a key
 * ({@link MultiKey} for several keys at once, {@link Keyspace} for all of them), {@link Membership}
 * for join, leave and the rings, {@link Admin} for figures, health, flush and fault injection.
 */
export class Cluster {
  readonly data: DataPath;
  /** Commands over several keys as one step (MSETNX, RENAME, COPY). */
  readonly multi: MultiKey;
  /** Commands over all keys (KEYS, SCAN, RANDOMKEY). */
  readonly keyspace: Keyspace;
  readonly membership: Membership;
  readonly admin: Admin;

  private constructor(membership: Membership, log: ClusterOptions['log'], debug: boolean) {
    this.membership = membership;
    this.data = new DataPath(membership.placement, membership.migration, debug ? log : undefined);
    this.multi = new MultiKey(this.data);
    this.keyspace = new Keyspace(membership);
    this.admin = new Admin(membership, debug ? log : undefined);
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    return new Cluster(await Membership.start(options), options.log, options.debug ?? false);
  }

  /** Stops every node. */
  close(): Promise<void> {
    return this.membership.close();
  }
}
