import type { Logger } from 'pino';
import { CacheError, internalError, nodeUnavailable, statusError } from './errors.js';
import { Membership, type Health, type Member, type MembershipOptions, type NodeState } from './membership.js';
import {
  codeNames,
  Op,
  SetMode,
  Status,
  type Command,
  type CrashKind,
  type NodeInfo,
  type Result,
} from './protocol.js';
import type { HashRing } from './ring.js';
import type { ResultCallback } from './shard-client.js';
import type { MigrationProgress } from './rebalance.js';

export interface ClusterOptions extends MembershipOptions {
  /** Log every data operation at debug level (the --debug flag). */
  debug?: boolean;
}

export type { Health, NodeState } from './membership.js';

export interface NodeStatus extends Partial<NodeInfo> {
  id: string;
  state: NodeState;
  threadId: number;
  /** Times the node was restarted after dying. */
  restarts: number;
  /** Keys lost when it died with no other live copy (estimated from its last key count). */
  lostKeys: number;
  lastFailure: { at: string; reason: string } | null;
  /** Messages sent to the node and the commands they carried (commands per batch: the batching factor). */
  batches: number;
  batchedCommands: number;
}

const OP_NAMES = codeNames(Op);
const STATUS_NAMES = codeNames(Status);
/** Times one command is sent again after the node it went to died. */
const MAX_RETRIES = 3;

/**
 * Routing: the only place that knows both the ring and the shards. Each key lives on
 * `--replicas` nodes, its owners on the ring. A read goes to the first owner that holds all its
 * keys; a write goes to every live owner and is acknowledged once all of them applied it. While
 * keys move after a join or a leave, the owners before the change count too: reads go to them
 * first (they hold every key) and writes reach both sets. Membership itself (join, leave, crash,
 * restart, handoff) is {@link Membership}'s.
 */
export class Cluster {
  readonly #members: Membership;
  /** Set only with --debug: the per-operation log. */
  readonly #log: Logger | undefined;
  /** Keys with a conditional write in flight, and the writes waiting for it. */
  readonly #locks = new Map<string, Array<() => void>>();

  private constructor(members: Membership, log: Logger | undefined) {
    this.#members = members;
    this.#log = log;
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    return new Cluster(await Membership.start(options), options.debug ? options.log : undefined);
  }

  get ring(): HashRing {
    return this.#members.ring;
  }

  get version(): number {
    return this.#members.version;
  }

  get replicas(): number {
    return this.#members.replicas;
  }

  get migration(): MigrationProgress | null {
    return this.#members.progress;
  }

  get lastMigration(): MigrationProgress | null {
    return this.#members.lastProgress;
  }

  ownerOf(key: string): string {
    return this.#members.ring.owner(key);
  }

  /**
   * Sends one key's command to the node(s) it belongs on; `callback` gets the outcome and the id
   * of the node that answered. This is the hot path: no promise, and for a read no allocation
   * beyond the command itself.
   */
  dispatch(key: string, command: Command, callback: ResultCallback): void {
    if (this.#log !== undefined) callback = this.#logged(key, command, callback);
    if (command[0] === Op.Set || command[0] === Op.Delete) this.#write(key, command, callback, 0);
    else this.#read(key, command, callback, 0);
  }

  /**
   * The values of many keys (undefined where absent), for /mget: one GetMany command per node
   * that a read of those keys goes to, and one promise for them all. Keys of a node that dies
   * meanwhile are read again one by one, as {@link dispatch} would (with its retries).
   * Against a Get command and a promise per key, 50 clients reading 100 keys each went from
   * 0.9-1.1k to 1.2k requests/s (both through Hono; see src/batch-routes.ts for the rest): the main
   * thread had spent 40-47% of its time collecting the garbage of the reads in flight.
   */
  getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    return new Promise((resolve, reject) => {
      const values = new Array<string | undefined>(keys.length);
      const groups = new Map<Member, number[]>();
      const single: number[] = [];
      for (let i = 0; i < keys.length; i++) {
        const member = this.#members.reader(keys[i]!);
        if (member === undefined) single.push(i);
        else if (groups.has(member)) groups.get(member)!.push(i);
        else groups.set(member, [i]);
      }
      let pending = groups.size + single.length;
      let failed = false;
      const fail = (error: CacheError): void => {
        if (!failed) reject(error);
        failed = true;
      };
      const done = (): void => {
        if (--pending === 0 && !failed) resolve(values);
      };
      const readOne = (i: number): void => {
        this.dispatch(keys[i]!, [Op.Get, keys[i]!], (error, result) => {
          if (error !== null) return fail(error);
          if (result!.status === Status.Failed) return fail(internalError());
          if (result!.status === Status.Ok) values[i] = result!.value;
          done();
        });
      };
      if (pending === 0) return resolve(values);
      single.forEach(readOne);
      for (const [member, indexes] of groups) {
        member.client.send([Op.GetMany, indexes.map((i) => keys[i]!)], (error, result) => {
          if (error !== null) {
            pending += indexes.length - 1;
            return indexes.forEach(readOne);
          }
          if (result!.status !== Status.Ok) return fail(internalError());
          const found = result!.values!;
          for (let j = 0; j < indexes.length; j++) values[indexes[j]!] = found[j] ?? undefined;
          done();
        });
      }
    });
  }

  /**
   * Writes many keys (for /mset), each as {@link dispatch} would, with one promise for them all:
   * resolves with their count once every copy is written, or fails with the first error.
   */
  setMany(entries: ReadonlyArray<readonly [key: string, value: string]>, ttlMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      let pending = entries.length;
      let failed = false;
      if (pending === 0) return resolve(0);
      for (const [key, value] of entries) {
        this.dispatch(key, [Op.Set, key, value, ttlMs, SetMode.Always], (error, result) => {
          if (failed) return;
          if (error !== null || result!.status !== Status.Ok) {
            failed = true;
            return reject(error ?? statusError(result!.status));
          }
          if (--pending === 0) resolve(entries.length);
        });
      }
    });
  }

  /** Adds a node; its keys move to it in the background. Resolves with its id once it is on the ring. */
  join(): Promise<string> {
    return this.#members.join();
  }

  /** Starts handing a node's keys to their new owners; it stops once they have them. */
  leave(id: string): Promise<void> {
    return this.#members.leave(id);
  }

  /** Resolves once no membership change, refill or purge is left to run. */
  settled(): Promise<void> {
    return this.#members.settled();
  }

  /**
   * Empties every node: the epoch goes out on the cluster channel, and also in each node's next
   * batch, so that the call returns only once every node has applied it (the channel gives no
   * acknowledgement and no ordering with the batches).
   */
  async flush(): Promise<void> {
    const epoch = this.#members.flushed();
    this.#log?.debug({ op: 'flush', epoch }, 'flush');
    await Promise.all(this.#members.live().map((member) => member.client.run([Op.Flush, epoch]).catch(() => undefined)));
  }

  /** Every node's figures, gathered with one Info command per node (it rides that node's batch). */
  async nodes(): Promise<NodeStatus[]> {
    return Promise.all(
      this.#members.all().map(async (member): Promise<NodeStatus> => {
        const base = {
          id: member.id,
          threadId: member.client.transport.threadId,
          restarts: member.restarts,
          lostKeys: member.lostKeys,
          lastFailure: member.lastFailure,
          batches: member.client.batchesSent,
          batchedCommands: member.client.commandsSent,
        };
        if (member.state === 'down') return { ...base, state: 'down' };
        try {
          const result = await member.client.run([Op.Info]);
          const info = result.status === Status.Ok ? result.info : undefined;
          return { ...info, ...base, state: Membership.stateOf(member) };
        } catch {
          return { ...base, state: 'down' };
        }
      }),
    );
  }

  health(): Health {
    return this.#members.health();
  }

  /** Batching figures per node: batches sent and commands they carried. */
  batching(): Array<{ id: string; batches: number; commands: number }> {
    return this.#members.all().map(({ id, client }) => ({ id, batches: client.batchesSent, commands: client.commandsSent }));
  }

  /**
   * Makes a node die the way `how` says (POST /debug/crash); resolves once its death has been
   * seen, with false for an unknown or already dead node.
   */
  async crash(id: string, how: CrashKind = 'terminate'): Promise<boolean> {
    const member = this.#members.get(id);
    if (member === undefined || member.state === 'down') return false;
    const transport = member.client.transport;
    const died = new Promise<void>((resolve) => transport.onDeath(() => resolve()));
    if (how === 'terminate') transport.kill();
    else member.client.send([Op.Crash, how], () => undefined);
    await died;
    return true;
  }

  async close(): Promise<void> {
    await this.#members.close();
  }

  #read(key: string, command: Command, callback: ResultCallback, attempt: number): void {
    const member = this.#members.reader(key);
    if (member === undefined) return callback(nodeUnavailable(), undefined, this.ownerOf(key));
    member.client.send(command, (error, result, node) => {
      if (error !== null && attempt < MAX_RETRIES) this.#read(key, command, callback, attempt + 1);
      else callback(error, result, node);
    });
  }

  #write(key: string, command: Command, callback: ResultCallback, attempt: number): void {
    if (this.#locks.size > 0) {
      const waiting = this.#locks.get(key);
      if (waiting !== undefined) {
        waiting.push(() => this.#write(key, command, callback, attempt));
        return;
      }
    }
    if (command[0] === Op.Set && command[4] !== SetMode.Always) {
      this.#conditionalWrite(key, command, callback, attempt);
      return;
    }
    const targets = this.#members.writers(key);
    if (targets.length === 0) return callback(nodeUnavailable(), undefined, this.ownerOf(key));
    this.#members.touched(key);
    const retry = (): void => this.#write(key, command, callback, attempt + 1);
    if (targets.length === 1) {
      targets[0]!.client.send(command, (error, result, node) => {
        if (error !== null && attempt < MAX_RETRIES) retry();
        else callback(error, result, node);
      });
      return;
    }
    const results = new Array<Result | undefined>(targets.length);
    let pending = targets.length;
    let lastError: CacheError | null = null;
    targets.forEach((target, i) => {
      target.client.send(command, (error, result) => {
        if (error !== null) lastError = error;
        else results[i] = result;
        if (--pending > 0) return;
        const answered = results.findIndex((r) => r !== undefined);
        if (answered < 0) {
          if (attempt < MAX_RETRIES) retry();
          else callback(lastError, undefined, targets[0]!.id);
          return;
        }
        // A delete reports the key as found if any copy had it (a new owner may not have it yet).
        const found = command[0] === Op.Delete ? results.findIndex((r) => r?.status === Status.Ok) : -1;
        const index = found >= 0 ? found : answered;
        callback(null, results[index], targets[index]!.id);
      });
    });
  }

  /**
   * NX / XX: the condition is decided by one node that holds every key (the one a read would go
   * to), then the value is copied to the other owners. Other writes to the key wait meanwhile, so
   * that every copy sees the same sequence of writes.
   */
  #conditionalWrite(key: string, command: Extract<Command, readonly [typeof Op.Set, ...unknown[]]>, callback: ResultCallback, attempt: number): void {
    const arbiter = this.#members.reader(key);
    if (arbiter === undefined) return callback(nodeUnavailable(), undefined, this.ownerOf(key));
    this.#locks.set(key, []);
    const unlock = (): void => {
      const waiting = this.#locks.get(key) ?? [];
      this.#locks.delete(key);
      for (const next of waiting) next();
    };
    arbiter.client.send(command, (error, result, node) => {
      if (error !== null || result!.status !== Status.Ok) {
        unlock();
        if (error !== null && attempt < MAX_RETRIES) this.#write(key, command, callback, attempt + 1);
        else callback(error, result, node);
        return;
      }
      this.#members.touched(key);
      const copies = this.#members.writers(key).filter((member) => member !== arbiter);
      let pending = copies.length + 1;
      const done = (): void => {
        if (--pending > 0) return;
        unlock();
        callback(null, result, node);
      };
      const copy = [Op.Set, key, command[2], command[3], SetMode.Always] as const;
      for (const member of copies) member.client.send(copy, done);
      done();
    });
  }

  #logged(key: string, command: Command, callback: ResultCallback): ResultCallback {
    const log = this.#log!;
    return (error, result, owner) => {
      log.debug({ op: OP_NAMES[command[0]], key, node: owner, status: error?.code ?? STATUS_NAMES[result!.status] });
      callback(error, result, owner);
    };
  }
}
