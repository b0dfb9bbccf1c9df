import { INT64_MIN, KEEP_EXPIRY, parseFloat64, SetIf, type Mutation } from '../../core/mutation.js';
import { sharedClock } from '../../core/shared-layout.js';
import { Op, Status, type Result } from '../../core/protocol.js';
import { Want } from '../../nodes/shared-reader.js';
import { answer, clusterError, dispatch, keyArg, keyArgs, Kind, settle, type Call, type CommandSpec } from '../command.js';
import { bulk, error, Errors, integer, OK } from '../reply.js';
import { ArgError, expiryAt, int64, safeInt, type ExpiryUnit } from './args.js';

const READ = { kind: Kind.Read, flags: ['readonly', 'fast'], keys: [1, 1, 1] } as const;
const WRITE = { kind: Kind.Write, flags: ['write', 'denyoom'], keys: [1, 1, 1] } as const;

/** The string commands (Redis's t_string.c): every value is a string here. */
export const STRING_COMMANDS: readonly CommandSpec[] = [
  { name: 'get', arity: 2, ...READ, run: (call) => readValue(call, (value) => call.client.resp.bulk(value)) },
  { name: 'set', arity: -3, ...WRITE, run: set },
  { name: 'setnx', arity: 3, ...WRITE, run: (call) => setWith(call, 2, 0, SetIf.Absent, (result) => integer(result.count ?? 0)) },
  { name: 'setex', arity: 4, ...WRITE, run: (call) => setEx(call, 'ex') },
  { name: 'psetex', arity: 4, ...WRITE, run: (call) => setEx(call, 'px') },
  { name: 'getset', arity: 3, ...WRITE, run: (call) => setWith(call, 2, 0, SetIf.Always, (result) => call.client.resp.bulk(result.value)) },
  { name: 'getdel', arity: 2, ...WRITE, run: (call) => update(call, ['getdel'], (result) => call.client.resp.bulk(result.value)) },
  { name: 'getex', arity: -2, ...WRITE, run: getex },
  { name: 'mget', arity: -2, kind: Kind.Read, flags: ['readonly', 'fast'], keys: [1, -1, 1], run: mget },
  { name: 'mset', arity: -3, kind: Kind.Write, flags: ['write', 'denyoom'], keys: [1, -1, 2], run: mset },
  { name: 'incr', arity: 2, ...WRITE, run: (call) => incrBy(call, 1n) },
  { name: 'decr', arity: 2, ...WRITE, run: (call) => incrBy(call, -1n) },
  { name: 'incrby', arity: 3, ...WRITE, run: (call) => incrByArg(call, false) },
  { name: 'decrby', arity: 3, ...WRITE, run: (call) => incrByArg(call, true) },
  { name: 'incrbyfloat', arity: 3, ...WRITE, run: incrByFloat },
  { name: 'append', arity: 3, ...WRITE, run: (call) => update(call, ['append', call.args[2]!, call.ctx.maxValue], (result) => integer(result.count!)) },
  { name: 'strlen', arity: 2, ...READ, run: strlen },
  { name: 'getrange', arity: 4, ...READ, run: getrange },
  { name: 'substr', arity: 4, ...READ, run: getrange },
  { name: 'setrange', arity: 4, ...WRITE, run: setrange },
];

/** Replies with `encode` of the value of the key in `args[1]` (null if absent). */
function readValue(call: Call, encode: (value: string | null) => string): void {
  valueOf(call, 1, (value) => call.reply(encode(value)));
}

/**
 * The value of the key in argument `index` (null if absent), from shared memory or else by
 * message, to `then`; a bad key or a cluster error is replied instead.
 */
export function valueOf(call: Call, index: number, then: (value: string | null) => void): void {
  const key = keyArg(call, index);
  if (key === undefined) return;
  const reader = call.ctx.cluster.data.local.read(key, Want.Bytes);
  if (reader === null) return then(null);
  if (reader !== undefined) return then(reader.value);
  dispatch(call, key, [Op.Get, key], (failure, result) => {
    if (failure !== null) return call.reply(clusterError(failure));
    then(result!.status === Status.Ok ? (result!.value ?? '') : null);
  });
}

/** Runs `mutation` on the key in `args[1]` (src/core/mutation.ts); Ok results go through `encode`. */
function update(call: Call, mutation: Mutation, encode: (result: Result & { status: typeof Status.Ok }) => string): void {
  const key = keyArg(call, 1);
  if (key === undefined) return;
  dispatch(call, key, [Op.Update, key, mutation], answer(call, (result) => (result.status === Status.Ok ? encode(result) : call.client.resp.nil)));
}

/** Whether the value fits --max-value; replies the error if not. */
function valueFits(call: Call, value: string): boolean {
  if (value.length <= call.ctx.maxValue) return true;
  call.reply(error(Errors.tooLong));
  return false;
}

function setWith(call: Call, valueAt: number, expiresAt: number, condition: SetIf, encode: (result: Result & { status: typeof Status.Ok }) => string): void {
  const value = call.args[valueAt]!;
  if (valueFits(call, value)) update(call, ['set', value, expiresAt, condition], encode);
}

const SET_OPTIONS = new Set(['nx', 'xx', 'get', 'keepttl', 'ex', 'px', 'exat', 'pxat']);

/** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT t | PXAT t | KEEPTTL], read as Redis reads it. */
function set(call: Call): void {
  const args = call.args;
  let condition: SetIf = SetIf.Always;
  let get = false;
  let keepTtl = false;
  let unit: ExpiryUnit | undefined;
  let expiry: string | undefined;
  for (let i = 3; i < args.length; i++) {
    const option = args[i]!.toLowerCase();
    if (!SET_OPTIONS.has(option)) return call.reply(error(Errors.syntax));
    if (option === 'nx' || option === 'xx') {
      const wanted = option === 'nx' ? SetIf.Absent : SetIf.Present;
      if (condition !== SetIf.Always && condition !== wanted) return call.reply(error(Errors.syntax));
      condition = wanted;
    } else if (option === 'get') {
      get = true;
    } else if (option === 'keepttl') {
      if (unit !== undefined) return call.reply(error(Errors.syntax));
      keepTtl = true;
    } else {
      if ((unit !== undefined && unit !== option) || keepTtl || i + 1 >= args.length) return call.reply(error(Errors.syntax));
      unit = option as ExpiryUnit;
      expiry = args[++i]!;
    }
  }
  let expiresAt = keepTtl ? KEEP_EXPIRY : 0;
  if (unit !== undefined) {
    const at = expiryAt(expiry!, unit, 'set');
    if (at instanceof ArgError) return call.reply(error(at.message));
    expiresAt = at;
  }
  if (!valueFits(call, args[2]!)) return;
  // A plain SET (or with EX / PX) needs no read of the key: the nodes' fast write.
  if (!get && !keepTtl && condition === SetIf.Always && (unit === undefined || unit === 'ex' || unit === 'px')) {
    const key = keyArg(call, 1);
    if (key === undefined) return;
    const ttlMs = unit === undefined ? 0 : Math.max(1, expiresAt - Math.floor(sharedClock()));
    return dispatch(call, key, [Op.Set, key, args[2]!, ttlMs], answer(call, () => OK));
  }
  setWith(call, 2, expiresAt, condition, (result) => (get ? call.client.resp.bulk(result.value) : result.count === 1 ? OK : call.client.resp.nil));
}

/** SETEX / PSETEX key time value. */
function setEx(call: Call, unit: 'ex' | 'px'): void {
  const at = expiryAt(call.args[2]!, unit, call.args[0]!.toLowerCase());
  if (at instanceof ArgError) return call.reply(error(at.message));
  setWith(call, 3, at, SetIf.Always, () => OK);
}

/** GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]. */
function getex(call: Call): void {
  const args = call.args;
  let expiresAt = KEEP_EXPIRY;
  if (args.length > 2) {
    const option = args[2]!.toLowerCase();
    if (option === 'persist' && args.length === 3) expiresAt = 0;
    else if ((option === 'ex' || option === 'px' || option === 'exat' || option === 'pxat') && args.length === 4) {
      const at = expiryAt(args[3]!, option, 'getex');
      // Redis reads the time only once it has found the key: a missing key answers nil. Asked of
      // the key's node with an update that changes nothing, so it comes after the writes before it.
      if (at instanceof ArgError) return update(call, ['getex', KEEP_EXPIRY], (result) => (result.value == null ? call.client.resp.nil : error(at.message)));
      expiresAt = at;
    } else return call.reply(error(Errors.syntax));
  }
  update(call, ['getex', expiresAt], (result) => call.client.resp.bulk(result.value));
}

/** MGET: what shared memory holds, then one message per node for what it could not tell. */
function mget(call: Call): void {
  const keys = keyArgs(call, 1);
  if (keys === undefined) return;
  const { data } = call.ctx.cluster;
  const values = new Array<string | null>(keys.length);
  const unknown: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    const reader = data.local.read(keys[i]!, Want.Bytes);
    if (reader === undefined) unknown.push(i);
    else values[i] = reader === null ? null : reader.value;
  }
  if (unknown.length === 0) return call.reply(call.client.resp.bulks(values));
  settle(call, data.getMany(unknown.map((i) => keys[i]!), call.owner), (found) => {
    unknown.forEach((i, j) => (values[i] = found[j] ?? null));
    return call.client.resp.bulks(values);
  });
}

function mset(call: Call): void {
  const args = call.args;
  if (args.length % 2 === 0) return call.reply(error(Errors.arity('mset')));
  const keys = keyArgs(call, 1, 2);
  if (keys === undefined) return;
  const entries = keys.map((key, i) => [key, args[2 + 2 * i]!] as const);
  if (!entries.every(([, value]) => valueFits(call, value))) return;
  settle(call, call.ctx.cluster.multi.setMany(entries, 0, call.owner), () => OK);
}

function incrBy(call: Call, by: bigint): void {
  update(call, ['incr', String(by)], (result) => `:${result.value}\r\n`);
}

function incrByArg(call: Call, negate: boolean): void {
  const by = int64(call.args[2]!);
  if (by instanceof ArgError) return call.reply(error(by.message));
  // -(-2^63) does not fit: Redis's own answer.
  if (negate && by === INT64_MIN) return call.reply(error('ERR decrement would overflow'));
  incrBy(call, negate ? -by : by);
}

function incrByFloat(call: Call): void {
  const by = parseFloat64(call.args[2]!);
  if (by === undefined) return call.reply(error(Errors.notFloat));
  update(call, ['incrfloat', by], (result) => call.client.resp.bulk(result.value));
}

function strlen(call: Call): void {
  const key = keyArg(call, 1);
  if (key === undefined) return;
  dispatch(call, key, [Op.Exists, key], answer(call, (result) => integer(result.status === Status.Ok ? result.valueBytes! : 0)));
}

/** GETRANGE key start end, with Redis's rules for negative and out-of-range ends. */
function getrange(call: Call): void {
  const start = safeInt(call.args[2]!);
  const end = safeInt(call.args[3]!);
  if (start instanceof ArgError) return call.reply(error(start.message));
  if (end instanceof ArgError) return call.reply(error(end.message));
  readValue(call, (value) => bulk(range(value ?? '', start, end)));
}

function range(value: string, start: number, end: number): string {
  const length = value.length;
  if (start < 0 && end < 0 && start > end) return '';
  const from = start < 0 ? Math.max(0, length + start) : start;
  let to = end < 0 ? Math.max(0, length + end) : end;
  if (to >= length) to = length - 1;
  if (from > to || length === 0) return '';
  return value.slice(from, to + 1);
}

function setrange(call: Call): void {
  const offset = safeInt(call.args[2]!);
  if (offset instanceof ArgError) return call.reply(error(offset.message));
  if (offset < 0) return call.reply(error('ERR offset is out of range'));
  update(call, ['setrange', offset, call.args[3]!, call.ctx.maxValue], (result) => integer(result.count!));
}
