import type { Logger } from 'pino';
import { internalError, nodeUnavailable, type CacheError } from '../errors.js';
import type { Placement } from '../core/placement.js';
import { codeNames, Op, Status, type Command, type Result } from '../core/protocol.js';
import type { ResultCallback } from '../nodes/node-client.js';
import { KeyLocks, type LockOwner } from './key-locks.js';
import type { Front } from './front.js';
import { LocalReads } from './local-reads.js';
import type { NodeRecord } from './members.js';
import type { Migration } from './migration.js';
import { countdown, MAX_RETRIES } from './replies.js';
import { Updates, type UpdateRun } from './updates.js';
import { Watches } from './watches.js';

const OP_NAMES = codeNames(Op);
const STATUS_NAMES = codeNames(Status);

/**
 * How a command is sent: read or write, `attempt` counting the sends after a node's death, on
 * behalf of `owner` when it is part of an operation that holds locks ({@link DataPath.exclusive}).
 */
type Route = (this: DataPath, key: string, command: Command, callback: ResultCallback, attempt: number, owner?: LockOwner) => void;

/**
 * The data path: every client read and write, sent to the node(s) placement names. A read goes
 * to one node; a write goes to every live owner and is acknowledged once all of them applied it;
 * read-modify-writes (NX, XX, INCR, ...) are decided by one node and copied to the others. An
 * operation whose node dies is routed again (`#retry`). The hot path is callback-based: no
 * promise per operation, and one closure per node it goes to (a wrapper per retry layer cost a
 * 1-node SET 10%, 49.5k vs 55.3k req/s side by side).
 */
export class DataPath {
  readonly #placement: Placement<NodeRecord>;
  readonly #migration: Migration;
  readonly #updates: Updates;
  /** Set only with --debug: the per-operation log. */
  readonly #log: Logger | undefined;
  /** Keys an atomic operation holds, and the commands waiting for them. */
  readonly locks = new KeyLocks();
  /** Keys clients WATCH (RESP's transactions), told of every write of them. */
  readonly watches = new Watches();

  /** Reads answered from the nodes' shared memory, tried before any message. */
  readonly local: LocalReads;

  constructor(placement: Placement<NodeRecord>, migration: Migration, log: Logger | undefined) {
    this.local = new LocalReads(placement, log, this.locks);
    this.#placement = placement;
    this.#migration = migration;
    this.#updates = new Updates(placement, migration, this.locks, (key, command, callback, attempt, error, node, owner) =>
      this.#retry(this.#write, key, command, callback, attempt, error, node, owner),
    );
    this.#log = log;
  }

  /**
   * Sends one key's command to the node(s) it belongs on; `callback` gets the outcome and the id
   * of the node that answered.
   */
  dispatch(key: string, command: Command, callback: ResultCallback, owner?: LockOwner): void {
    const front = this.local.front;
    if (front !== undefined) return front.dispatch(key, command, callback);
    this.dispatchLocal(key, command, callback, owner);
  }

  /** Puts `front` before the nodes: every command of both front ends goes to it from now on. */
  serveThrough(front: Front): void {
    this.local.front = front;
  }

  /** {@link dispatch} to the nodes alone, whatever is in front of them. */
  dispatchLocal(key: string, command: Command, callback: ResultCallback, owner?: LockOwner): void {
    if (this.#log !== undefined) callback = this.#logged(key, command, callback);
    if (command[0] === Op.Set || command[0] === Op.Delete || command[0] === Op.Update) this.#write(key, command, callback, 0, owner);
    else this.#read(key, command, callback, 0, owner);
  }

  /**
   * Runs `body` once it holds every one of `keys`: until it calls `done`, no other command of
   * either front end reads or writes them, while its own commands (sent with `owner`) go through.
   * What a multi-key command needs to be atomic (src/cluster/multi-key.ts).
   */
  exclusive(keys: readonly string[], body: (owner: LockOwner, done: () => void) => void, holder?: LockOwner): void {
    // Part of an operation that holds every one of these keys already (a transaction's EXEC).
    if (holder !== undefined) return body(holder, () => undefined);
    const owner = {};
    this.locks.acquire(keys, owner, () => body(owner, () => this.locks.release(keys)));
  }

  /**
   * The values of many keys (undefined where absent), for the keys of an /mget that shared memory
   * could not answer (src/http/batch-routes.ts reads it first): one GetMany command per node
   * that a read of those keys goes to, and one promise for them all. Keys of a node that dies
   * meanwhile are read again one by one, as {@link dispatch} would (with its retries).
   * Against a Get command and a promise per key, 50 clients reading 100 keys each went from
   * 0.9-1.1k to 1.2k requests/s (both through Hono; see src/http/batch-routes.ts for the rest):
   * the main thread had spent 40-47% of its time collecting the garbage of the reads in flight.
   */
  getMany(keys: readonly string[], owner?: LockOwner): Promise<Array<string | undefined>> {
    return new Promise((resolve, reject) => {
      const values = new Array<string | undefined>(keys.length);
      if (keys.length === 0) return resolve(values);
      const groups = new Map<NodeRecord, number[]>();
      const single: number[] = [];
      for (let i = 0; i < keys.length; i++) {
        const node = this.#placement.reader(keys[i]!);
        // A held key's read waits for its lock: one by one (and every read, through what is in front).
        if (node === undefined || this.locks.blocks(keys[i]!, owner) || this.local.front !== undefined) single.push(i);
        else if (groups.has(node)) groups.get(node)!.push(i);
        else groups.set(node, [i]);
      }
      let failed = false;
      const fail = (error: CacheError): void => {
        if (!failed) reject(error);
        failed = true;
      };
      const done = countdown(keys.length, () => failed || resolve(values));
      const readOne = (i: number): void => {
        this.dispatch(
          keys[i]!,
          [Op.Get, keys[i]!],
          (error, result) => {
            if (error !== null) return fail(error);
            if (result!.status === Status.Failed) return fail(internalError());
            if (result!.status === Status.Ok) values[i] = result!.value;
            done();
          },
          owner,
        );
      };
      single.forEach(readOne);
      for (const [node, indexes] of groups) {
        node.client.send([Op.GetMany, indexes.map((i) => keys[i]!)], (error, result) => {
          if (error !== null) return indexes.forEach(readOne);
          if (result!.status !== Status.Ok) return fail(internalError());
          const found = result!.values!;
          for (let j = 0; j < indexes.length; j++) values[indexes[j]!] = found[j] ?? undefined;
          done(indexes.length);
        });
      }
    });
  }

  /**
   * The one answer to a node's death under a command: send it again, routed afresh (the next
   * owner may answer), or after {@link MAX_RETRIES} sends answer with the error.
   */
  #retry(route: Route, key: string, command: Command, callback: ResultCallback, attempt: number, error: CacheError, node: string, owner?: LockOwner): void {
    if (attempt < MAX_RETRIES) route.call(this, key, command, callback, attempt + 1, owner);
    else callback(error, undefined, node);
  }

  #read(key: string, command: Command, callback: ResultCallback, attempt: number, owner?: LockOwner): void {
    if (this.locks.size > 0 && this.locks.wait(key, () => this.#read(key, command, callback, attempt, owner), owner)) return;
    const node = this.#placement.reader(key);
    if (node === undefined) return callback(nodeUnavailable(), undefined, this.#placement.ring.owner(key));
    const shared = this.local.result(node, key, command);
    if (shared !== undefined) return callback(null, shared, node.id);
    node.client.send(command, (error, result, id) => {
      if (error !== null) this.#retry(this.#read, key, command, callback, attempt, error, id, owner);
      else callback(null, result, id);
    });
  }

  #write(key: string, command: Command, callback: ResultCallback, attempt: number, owner?: LockOwner): void {
    let run: UpdateRun | undefined;
    if (this.locks.size > 0) {
      // An update joins the updates of its key in flight to the same arbiter, unless something waits for them.
      if (command[0] === Op.Update && owner === undefined) run = this.#updates.runToJoin(key);
      if (run === undefined && this.locks.wait(key, () => this.#write(key, command, callback, attempt, owner), owner)) return;
    }
    // Counted from when it is sent, not while it waits for a lock: an EXEC holding the key waits for what was sent.
    if (attempt === 0 && this.watches.size > 0) callback = this.watches.track(key, command, callback);
    if (command[0] === Op.Update) return this.#updates.send(key, command, callback, attempt, owner, run);
    const targets = this.#placement.writers(key);
    if (targets.length === 0) return callback(nodeUnavailable(), undefined, this.#placement.ring.owner(key));
    this.#migration.touched(key);
    if (targets.length === 1) {
      return targets[0]!.client.send(command, (error, result, id) => {
        if (error !== null) this.#retry(this.#write, key, command, callback, attempt, error, id, owner);
        else callback(null, result, id);
      });
    }
    const results = new Array<Result | undefined>(targets.length);
    let lastError: CacheError | null = null;
    const done = countdown(targets.length, () => {
      const answered = results.findIndex((r) => r !== undefined);
      // Every copy's node died: as for one node.
      if (answered < 0) return this.#retry(this.#write, key, command, callback, attempt, lastError!, targets[0]!.id, owner);
      // A delete reports the key as found if any copy had it (a new owner may not have it yet).
      const found = command[0] === Op.Delete ? results.findIndex((r) => r?.status === Status.Ok) : -1;
      const index = found >= 0 ? found : answered;
      callback(null, results[index], targets[index]!.id);
    });
    targets.forEach((target, i) => {
      target.client.send(command, (error, result) => {
        if (error !== null) lastError = error;
        else results[i] = result;
        done();
      });
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
