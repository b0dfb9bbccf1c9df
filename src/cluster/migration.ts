import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Placement } from '../core/placement.js';
import type { ScanPlan } from '../core/protocol.js';
import type { ClusterChannel } from './channel.js';
import type { Members, NodeRecord } from './members.js';
import { runPass, type MigrationProgress } from './pass.js';
import type { Supervisor } from './supervisor.js';

/** Pause before a pass that failed for another reason than a node's death runs again. */
const RETRY_PASS_MS = 100;

export interface MigrationContext {
  members: Members;
  placement: Placement<NodeRecord>;
  supervisor: Supervisor;
  channel: ClusterChannel;
  /** Tells every node the current ring (after the old ring is dropped). */
  announce(): void;
  log?: Logger | undefined;
}

/**
 * Key movement: the passes that bring every node its keys, and their progress. After a join or a
 * leave an export pass hands each key to its new owners, then the old ring is dropped, leavers
 * stop, and a purge pass removes the copies that moved; after a restart a pass refills the node
 * from the copies on the others. Writes made during a pass reach the new owners directly
 * ({@link touched}), so their older copies are not sent after them.
 */
export class Migration {
  readonly #context: MigrationContext;
  #progress: MigrationProgress | null = null;
  #lastProgress: MigrationProgress | null = null;
  /** Keys written since the current pass began (null when no pass runs). */
  #dirty: Set<string> | null = null;
  #stopped = false;

  constructor(context: MigrationContext) {
    this.#context = context;
  }

  /** The movement under way, for GET /nodes. */
  get progress(): MigrationProgress | null {
    return this.#progress;
  }

  /** The figures of the last movement that ran to its end. */
  get lastProgress(): MigrationProgress | null {
    return this.#lastProgress;
  }

  /** Records a write while keys move: its new owners got it directly, so the older copy must not follow. */
  touched(key: string): void {
    this.#dirty?.add(key);
  }

  /** A ring change has begun: its handoff is what the next {@link reconcile} does. */
  changed(): void {
    this.#progress = this.#newProgress('handoff');
  }

  stop(): void {
    this.#stopped = true;
  }

  /**
   * Runs passes until every node holds all its keys: an export pass hands keys to the nodes
   * that lack them; a node dying during a pass makes it run again once that node is back. After a
   * join or leave, the old ring is then dropped and a purge pass removes the copies that moved.
   */
  async reconcile(): Promise<void> {
    const { members, placement, supervisor } = this.#context;
    while (!this.#stopped) {
      if (members.inState('down').length > 0) {
        await supervisor.nextRestart();
        continue;
      }
      const filling = members.all().filter((node) => node.state !== 'up');
      if (placement.previous === null && filling.length === 0) break;
      this.#progress ??= this.#newProgress('refill');
      const deaths = supervisor.deaths;
      const clients = new Map(filling.map((node) => [node, node.client]));
      const senders = members.inState('up');
      const plan: ScanPlan = {
        kind: 'export',
        previous: (placement.previous ?? placement.ring).layout(),
        next: placement.ring.layout(),
        replicas: placement.replicas,
        complete: senders.map((node) => node.id),
        filling: filling.map((node) => node.id),
      };
      const completed = await this.#pass(senders, plan);
      if (supervisor.deaths !== deaths) continue;
      if (!completed) {
        await sleep(RETRY_PASS_MS);
        continue;
      }
      for (const [node, client] of clients) if (node.client === client) node.state = 'up';
      if (placement.previous !== null) await this.#finishChange();
    }
    if (this.#progress !== null) this.#lastProgress = { ...this.#progress, finishedAt: new Date().toISOString() };
    this.#progress = null;
  }

  /** The new ring is complete: the old one goes, leavers stop, and old copies are dropped. */
  async #finishChange(): Promise<void> {
    const { members, placement } = this.#context;
    placement.finish();
    this.#context.announce();
    for (const node of members.all().filter((n) => n.leaving)) {
      // Off both rings now, it gets no new command; those already sent to it are answered
      // first (the port is in order), and its last counts are what it leaves in the totals.
      await node.client.info().catch(() => undefined);
      members.forget(node);
      await node.client.close();
    }
    this.#progress = { ...this.#newProgress('purge'), keysMoved: this.#progress?.keysMoved ?? 0 };
    const layout = placement.ring.layout();
    const plan: ScanPlan = { kind: 'purge', previous: layout, next: layout, replicas: placement.replicas, complete: [], filling: [] };
    await this.#pass(members.live(), plan);
  }

  /** Whether the pass ran to its end (a node dying under it ends it early). */
  async #pass(scanners: NodeRecord[], plan: ScanPlan): Promise<boolean> {
    const { members, channel } = this.#context;
    this.#dirty = new Set();
    try {
      await runPass(
        scanners.map((node) => node.client),
        plan,
        {
          liveClient: (id) => members.live(id)?.client,
          dirty: this.#dirty,
          flushEpoch: () => channel.flushEpoch,
          progress: this.#progress!,
        },
      );
      return true;
    } catch (error) {
      // A node died under the pass; the caller sees the death and runs the pass again.
      this.#context.log?.warn({ err: (error as Error).message }, 'key movement interrupted');
      return false;
    } finally {
      this.#dirty = null;
    }
  }

  #newProgress(phase: MigrationProgress['phase']): MigrationProgress {
    return { phase, ringVersion: this.#context.placement.version, startedAt: new Date().toISOString(), passes: 0, keysTotal: 0, keysScanned: 0, keysMoved: 0, keysDropped: 0 };
  }
}
