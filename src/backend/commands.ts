import { Buffer } from 'node:buffer';
import { ExpireIf, KEEP_EXPIRY, SetIf, type Mutation, type Refusal } from '../core/mutation.js';
import { Op, Status, type Command, type Result } from '../core/protocol.js';
import type { Reply } from './link.js';

/**
 * The cache's write commands as Redis commands for --backend, and Redis's replies as the results
 * a node would have given, so that both front ends answer the same in either mode. Values are
 * byte strings (one character per byte) here and Buffers on the wire. Pure: no connection.
 */

/** A Redis command: its name and arguments. */
export type RedisCall = [name: string, ...args: Array<string | Buffer | number>];

const bytes = (value: string): Buffer => Buffer.from(value, 'latin1');

// --max-value is the cache's limit, not the backend's: the growing commands check it in the
// same step as they write (a script runs atomically), as a node does.
const APPEND = "local n = redis.call('STRLEN', KEYS[1]) + string.len(ARGV[1]) if n > tonumber(ARGV[2]) then return -1 end return redis.call('APPEND', KEYS[1], ARGV[1])";
const SETRANGE =
  "if string.len(ARGV[2]) > 0 and tonumber(ARGV[1]) + string.len(ARGV[2]) > tonumber(ARGV[3]) then return -1 end return redis.call('SETRANGE', KEYS[1], ARGV[1], ARGV[2])";
const SETBIT = "if math.floor(tonumber(ARGV[1]) / 8) + 1 > tonumber(ARGV[3]) then return -1 end return redis.call('SETBIT', KEYS[1], ARGV[1], ARGV[2])";

const EXPIRE_OPTIONS: Record<ExpireIf, string[]> = {
  [ExpireIf.Always]: [],
  [ExpireIf.NoExpiry]: ['NX'],
  [ExpireIf.HasExpiry]: ['XX'],
  [ExpireIf.Later]: ['GT'],
  [ExpireIf.Sooner]: ['LT'],
  [ExpireIf.SoonerExisting]: ['XX', 'LT'],
};

/** An absolute time on the shared clock (Unix milliseconds) as PXAT takes it. */
const at = (time: number): number => Math.max(1, Math.round(time));

/** The Redis command for a write (Set, Delete, Update); undefined for anything else. */
export function writeCall(command: Command): RedisCall | undefined {
  switch (command[0]) {
    case Op.Set:
      return command[3] > 0 ? ['SET', command[1], bytes(command[2]), 'PX', command[3]] : ['SET', command[1], bytes(command[2])];
    case Op.Delete:
      return ['DEL', command[1]];
    case Op.Update:
      return updateCall(command[1], command[2]);
    default:
      return undefined;
  }
}

function updateCall(key: string, mutation: Mutation): RedisCall {
  switch (mutation[0]) {
    case 'set': {
      const [, value, expiresAt, condition] = mutation;
      const when = condition === SetIf.Absent ? ['NX'] : condition === SetIf.Present ? ['XX'] : [];
      const expiry = expiresAt === KEEP_EXPIRY ? ['KEEPTTL'] : expiresAt > 0 ? ['PXAT', at(expiresAt)] : [];
      // GET always: the old value tells both what SET ... GET answers and whether it stored.
      return ['SET', key, bytes(value), ...when, 'GET', ...expiry];
    }
    case 'incr':
      return ['INCRBY', key, mutation[1]];
    case 'incrfloat':
      return ['INCRBYFLOAT', key, String(mutation[1])];
    case 'append':
      return ['EVAL', APPEND, 1, key, bytes(mutation[1]), mutation[2]];
    case 'setrange':
      return ['EVAL', SETRANGE, 1, key, mutation[1], bytes(mutation[2]), mutation[3]];
    case 'setbit':
      return ['EVAL', SETBIT, 1, key, mutation[1], mutation[2], mutation[3]];
    case 'getdel':
      return ['GETDEL', key];
    case 'getex':
      return mutation[1] === KEEP_EXPIRY ? ['GET', key] : mutation[1] === 0 ? ['GETEX', key, 'PERSIST'] : ['GETEX', key, 'PXAT', at(mutation[1])];
    case 'expire':
      return mutation[1] === 0 ? ['PERSIST', key] : ['PEXPIREAT', key, at(mutation[1]), ...EXPIRE_OPTIONS[mutation[2]]];
  }
}

const text = (reply: Reply): string | null => (Buffer.isBuffer(reply) ? reply.toString('latin1') : reply === null ? null : String(reply));
const TOO_LONG: Result = { status: Status.Refused, refused: 'too-long' };

/** The result a node gives for `command`, from the backend's reply to {@link writeCall}. */
export function writeResult(command: Command, reply: Reply): Result {
  if (command[0] === Op.Set) return { status: Status.Ok };
  if (command[0] === Op.Delete) return reply === 1 ? { status: Status.Ok } : { status: Status.NotFound };
  if (command[0] !== Op.Update) return { status: Status.Failed, message: 'not a write' };
  const mutation = command[2];
  switch (mutation[0]) {
    case 'set': {
      const old = text(reply);
      const condition = mutation[3];
      const stored = condition === SetIf.Absent ? old === null : condition === SetIf.Present ? old !== null : true;
      return old === null ? { status: Status.Ok, count: stored ? 1 : 0 } : { status: Status.Ok, value: old, count: stored ? 1 : 0 };
    }
    case 'incr':
    case 'incrfloat':
      return { status: Status.Ok, value: text(reply) ?? '' };
    case 'append':
    case 'setrange':
    case 'setbit':
      return reply === -1 ? TOO_LONG : { status: Status.Ok, count: Number(reply) };
    case 'getdel':
    case 'getex': {
      const value = text(reply);
      return value === null ? { status: Status.Ok } : { status: Status.Ok, value };
    }
    case 'expire':
      return { status: Status.Ok, count: Number(reply) };
  }
}

/** Redis's error replies that are a refusal of the value held, as a node words them. */
export function refusalOf(message: string): Refusal | undefined {
  if (message.startsWith('ERR value is not an integer')) return 'not-integer';
  if (message.startsWith('ERR increment or decrement would overflow')) return 'overflow';
  if (message.startsWith('ERR value is not a valid float')) return 'not-float';
  if (message.startsWith('ERR increment would produce NaN or Infinity')) return 'not-finite';
  if (message.includes('string exceeds maximum allowed size')) return 'too-long';
  return undefined;
}
