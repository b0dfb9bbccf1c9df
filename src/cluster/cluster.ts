import { Admin } from './admin.js';
import { DataPath } from './data-path.js';
import { Membership, type MembershipOptions } from './membership.js';

export interface ClusterOptions extends MembershipOptions {
  /** Log every data operation at debug level (the --debug flag). */
  debug?: boolean;
}

/**
 * The cluster as the front ends see it, in three parts: {@link DataPath} for client reads and
 * writes, {@link Membership} for join, leave and the rings, {@link Admin} for figures, health,
 * flush and fault injection.
 */
export class Cluster {
  readonly data: DataPath;
  readonly membership: Membership;
  readonly admin: Admin;

  private constructor(membership: Membership, log: ClusterOptions['log'], debug: boolean) {
    this.membership = membership;
    this.data = new DataPath(membership.placement, membership.migration, debug ? log : undefined);
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
