import type { LockOwner } from '../cluster/key-locks.js';
import { Op, Status } from '../core/protocol.js';
import { execute, type Call, type CommandSpec } from './command.js';
import { Queued } from './queued.js';
import { error } from './reply.js';

/** Whether `key` is held now, read as `owner` (a failed read counts as a change). */
export function heldNow(call: Call, key: string, owner?: LockOwner): Promise<boolean | undefined> {
  return new Promise((resolve) =>
    call.ctx.cluster.data.dispatch(key, [Op.Exists, key], (failure, result) => resolve(failure !== null ? undefined : result!.status === Status.Ok), owner),
  );
}

/**
 * EXEC: the queued commands run one after another, holding every key they name and every
 * watched key, so no other command of either front end sees or makes a change in between (the
 * keys may live on different nodes; the locks are the main thread's, src/cluster/key-locks.ts).
 * Commands that name no key (KEYS, SCAN, DBSIZE, FLUSHALL) run in the same order, but others'
 * commands are not held back from the whole keyspace meanwhile.
 */
export function exec(call: Call): void {
  const queued = call.transaction;
  if (queued === undefined) return call.reply(error('ERR EXEC without MULTI'));
  const watched = call.client.watched;
  if (queued.aborted) {
    watched.clear();
    return call.reply(error('EXECABORT Transaction discarded because of previous errors.'));
  }
  const keys = [...new Set([...queued.keys(), ...watched.keys])];
  call.ctx.cluster.data.exclusive(keys, (owner, release) => {
    run(call, queued, owner).then(
      (reply) => {
        release();
        call.ctx.monitors.feed(call.client, 'exec', call.args);
        call.reply(reply);
      },
      () => {
        release();
        call.reply(error('ERR internal error'));
      },
    );
  });
}

async function run(call: Call, queued: Queued<CommandSpec>, owner: LockOwner): Promise<string> {
  const watched = call.client.watched;
  const stands = await watched.stands(owner, (key) => heldNow(call, key, owner));
  watched.clear();
  if (!stands) return call.client.resp.version === 3 ? '_\r\n' : '*-1\r\n';
  let out = `*${queued.commands.length}\r\n`;
  // One after another, as Redis runs them, not pipelined as a connection's commands are: a write
  // sent while an update of its key is with the key's node would reach the key's other copy
  // before the update's copy does. A connection's pipeline is kept from that by the key's lock,
  // which here the EXEC itself holds.
  for (const { spec, args } of queued.commands) out += await runOne(call, spec, args, owner);
  return out;
}

/** One queued command, run as the EXEC's lock owner; its reply. */
function runOne(exec: Call, spec: CommandSpec, args: string[], owner: LockOwner): Promise<string> {
  return new Promise((resolve) => {
    let replied = false;
    const call: Call = {
      args,
      client: exec.client,
      ctx: exec.ctx,
      owner,
      reply(encoded) {
        if (replied) return;
        replied = true;
        resolve(encoded);
      },
    };
    execute(spec, call);
  });
}

/** Commands that cannot be queued: their replies do not fit in EXEC's array. */
const NOT_QUEUED = new Set(['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe']);
const QUEUED = '+QUEUED\r\n';

/**
 * A connection's MULTI, as its commands are read (not as they run: a command pipelined after
 * MULTI is queued even while commands before MULTI are still with the nodes).
 */
export class MultiState {
  #queued: Queued<CommandSpec> | undefined;
  /** Most bytes of commands one transaction may queue (the server's batch limit): past it, the transaction is aborted. */
  readonly #limit: number;
  /** With --backend there are no transactions. */
  readonly #backend: boolean;

  constructor(limit: number, backend: boolean) {
    this.#limit = limit;
    this.#backend = backend;
  }

  /** Commands queued since MULTI, or -1 outside one. */
  get queued(): number {
    return this.#queued === undefined ? -1 : this.#queued.commands.length;
  }

  /** A command was refused as it was read (unknown, wrong arity, NOAUTH): a transaction being queued is aborted. */
  refused(): void {
    this.#queued?.abort();
  }

  /**
   * A command read: its reply now (QUEUED, or an error), the transaction it ends (EXEC,
   * DISCARD, which then go in order), or undefined to go in order as any other.
   */
  read(spec: CommandSpec, args: string[]): string | Queued<CommandSpec> | undefined {
    const queued = this.#queued;
    switch (spec.name) {
      case 'multi':
        if (queued !== undefined) return error('ERR MULTI calls can not be nested');
        if (this.#backend) return error(NO_TRANSACTIONS);
        this.#queued = new Queued<CommandSpec>();
        return undefined;
      case 'exec':
      case 'discard':
        this.#queued = undefined;
        return queued;
      case 'watch':
        if (queued !== undefined) return error('ERR WATCH inside MULTI is not allowed');
        return this.#backend ? error(NO_TRANSACTIONS) : undefined;
      case 'quit':
        return undefined;
      case 'reset':
        this.#queued = undefined;
        return undefined;
    }
    if (queued === undefined) return undefined;
    if (NOT_QUEUED.has(spec.name)) {
      queued.abort();
      return error('ERR Command not allowed inside a transaction');
    }
    queued.push(spec, args);
    if (queued.bytes <= this.#limit) return QUEUED;
    // A client queuing without end would hold the server's memory: the transaction ends here.
    queued.abort();
    return error(`ERR the commands queued since MULTI pass ${this.#limit} bytes`);
  }
}

const NO_TRANSACTIONS = 'ERR MULTI and WATCH are not supported with --backend';
