import { ExpireIf, expireCondition } from '../../core/mutation.js';
import { Op, Status, type Command } from '../../core/protocol.js';
import { sharedClock } from '../../core/shared-layout.js';
import { answer, clusterError, dispatch, keyArg, keyArgs, Kind, settle, type Call, type CommandSpec } from '../command.js';
import { error, integer, simple } from '../reply.js';
import { ArgError, expireAt } from './args.js';

const READ = { kind: Kind.Read, flags: ['readonly', 'fast'], keys: [1, 1, 1] } as const;
const WRITE = { kind: Kind.Write, flags: ['write', 'fast'], keys: [1, 1, 1] } as const;
const ALL_KEYS = [1, -1, 1] as const;

/** The generic key commands (Redis's db.c and expire.c) that touch one key, or several independently. */
export const KEY_COMMANDS: readonly CommandSpec[] = [
  { name: 'del', arity: -2, kind: Kind.Write, flags: ['write'], keys: ALL_KEYS, run: deleteKeys },
  { name: 'unlink', arity: -2, kind: Kind.Write, flags: ['write', 'fast'], keys: ALL_KEYS, run: deleteKeys },
  { name: 'exists', arity: -2, kind: Kind.Read, flags: ['readonly', 'fast'], keys: ALL_KEYS, run: (call) => count(call, (key) => [Op.Exists, key]) },
  // A read that marks the keys used, for eviction.
  { name: 'touch', arity: -2, kind: Kind.Read, flags: ['readonly', 'fast'], keys: ALL_KEYS, run: (call) => count(call, (key) => [Op.Get, key]) },
  { name: 'type', arity: 2, ...READ, run: (call) => probe(call, Op.Exists, (held) => simple(held ? 'string' : 'none')) },
  { name: 'ttl', arity: 2, ...READ, run: (call) => ttl(call, (ms) => Math.floor((ms + 500) / 1000)) },
  { name: 'pttl', arity: 2, ...READ, run: (call) => ttl(call, (ms) => Math.round(ms)) },
  { name: 'expiretime', arity: 2, ...READ, run: (call) => ttl(call, (ms) => Math.floor((ms + sharedClock() + 500) / 1000)) },
  { name: 'pexpiretime', arity: 2, ...READ, run: (call) => ttl(call, (ms) => Math.round(ms + sharedClock())) },
  { name: 'expire', arity: -3, ...WRITE, run: (call) => expire(call, true, true) },
  { name: 'pexpire', arity: -3, ...WRITE, run: (call) => expire(call, false, true) },
  { name: 'expireat', arity: -3, ...WRITE, run: (call) => expire(call, true, false) },
  { name: 'pexpireat', arity: -3, ...WRITE, run: (call) => expire(call, false, false) },
  {
    name: 'persist',
    arity: 2,
    ...WRITE,
    run(call) {
      const key = keyArg(call, 1);
      if (key !== undefined) dispatch(call, key, [Op.Update, key, ['expire', 0, ExpireIf.Always]], answer(call, (result) => integer(result.status === Status.Ok ? (result.count ?? 0) : 0)));
    },
  },
];

/** DEL / UNLINK: every key in one step (src/cluster/multi-key.ts); how many were held. */
function deleteKeys(call: Call): void {
  const keys = keyArgs(call, 1);
  if (keys === undefined) return;
  settle(call, call.ctx.cluster.multi.deleteMany(keys, call.owner), integer);
}

/** How many of the keys' commands found their key (EXISTS, TOUCH: a key named twice counts twice). */
function count(call: Call, command: (key: string) => Command): void {
  const keys = keyArgs(call, 1);
  if (keys === undefined) return;
  let found = 0;
  let pending = keys.length;
  let failed = false;
  for (const key of keys) {
    dispatch(call, key, command(key), (cause, result) => {
      if (failed) return;
      if (cause !== null) {
        failed = true;
        return call.reply(clusterError(cause));
      }
      if (result!.status === Status.Ok) found++;
      if (--pending === 0) call.reply(integer(found));
    });
  }
}

/** A read of the key in `args[1]` that only asks whether it is held (through shared memory when it can). */
function probe(call: Call, op: typeof Op.Exists | typeof Op.Ttl, encode: (held: boolean, ttlMs: number | null) => string): void {
  const key = keyArg(call, 1);
  if (key === undefined) return;
  dispatch(call, key, [op, key], answer(call, (result) => (result.status === Status.Ok ? encode(true, result.ttl ?? null) : encode(false, null))));
}

/** TTL and its kin: -2 for no key, -1 for no expiry, else `convert` of the milliseconds left. */
function ttl(call: Call, convert: (ms: number) => number): void {
  probe(call, Op.Ttl, (held, ms) => integer(!held ? -2 : ms === null ? -1 : Math.max(0, convert(ms))));
}

const EXPIRE_OPTIONS = new Set(['nx', 'xx', 'gt', 'lt']);

/** EXPIRE key time [NX | XX | GT | LT], and PEXPIRE, EXPIREAT, PEXPIREAT. */
function expire(call: Call, seconds: boolean, relative: boolean): void {
  const name = call.args[0]!.toLowerCase();
  const options = new Set<string>();
  for (const option of call.args.slice(3)) {
    if (!EXPIRE_OPTIONS.has(option.toLowerCase())) return call.reply(error(`ERR Unsupported option ${option}`));
    options.add(option.toLowerCase());
  }
  const condition = expireCondition(options);
  if (typeof condition === 'string') return call.reply(error(`ERR ${condition}`));
  const at = expireAt(call.args[2]!, seconds, relative, name);
  if (at instanceof ArgError) return call.reply(error(at.message));
  const key = keyArg(call, 1);
  if (key === undefined) return;
  dispatch(call, key, [Op.Update, key, ['expire', at, condition]], answer(call, (result) => integer(result.status === Status.Ok ? (result.count ?? 0) : 0)));
}
