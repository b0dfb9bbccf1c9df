import t from 'tap';
import { RedisProcess, redisMissing } from './fixtures/redis.js';
import { encodeCommand, rawExchange, type Reply } from './fixtures/resp.js';
import { prng } from './fixtures/prng.js';
import { startTestServer } from './fixtures/server.js';

// Not DBSIZE: redis-server counts a key set with a time already past until it is looked at (its
// lazy expiry), this server does not. Not EXPIRETIME nor TTL: they round milliseconds to a
// second, and the two servers see the clock a few milliseconds apart (after an EXAT, a TTL
// straddles a half second now and then).
const KEYS = ['d:a', 'd:b', 'd:c'];
/** DIFF_SEEDS=N runs seeds 1..N (20 by default), DIFF_LENGTH=M sequences of M commands (400). */
const SEEDS = Array.from({ length: Number(process.env.DIFF_SEEDS ?? 20) }, (_, i) => i + 1);

/** One random command of a transaction's life: MULTI and its kin, writes, reads, and errors of both kinds. */
function command(next: () => number): string[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const key = (): string => pick(KEYS);
  const value = (): string => pick(['1', '41', 'x', '-7', '9223372036854775807', '']);
  const choices: Array<() => string[]> = [
    () => ['MULTI'],
    () => ['MULTI'],
    () => ['EXEC'],
    () => ['EXEC'],
    () => ['DISCARD'],
    () => ['WATCH', key(), key()],
    () => ['UNWATCH'],
    () => ['SET', key(), value()],
    () => ['SET', key(), value(), 'NX'],
    () => ['SET', key(), value(), 'EX', pick(['100', '0', 'abc'])],
    () => ['GET', key()],
    () => ['INCR', key()],
    () => ['INCRBY', key(), value()],
    () => ['APPEND', key(), value()],
    () => ['DEL', key(), key()],
    () => ['EXISTS', key(), key()],
    () => ['MSET', key(), value(), key(), value()],
    () => ['MGET', key(), key(), key()],
    () => ['RENAME', key(), key()],
    () => ['GETDEL', key()],
    () => ['GETSET', key(), value()],
    () => ['SETNX', key(), value()],
    () => ['MSETNX', key(), value(), key(), value()],
    () => ['COPY', key(), key()],
    () => ['COPY', key(), key(), 'REPLACE'],
    () => ['RENAMENX', key(), key()],
    () => ['GETEX', key(), pick(['PERSIST', 'EX', 'PX'])],
    () => ['GETEX', key(), 'EX', pick(['300', '0', '-1'])],
    () => ['SETRANGE', key(), pick(['0', '3', '-1']), value()],
    () => ['GETRANGE', key(), pick(['0', '-2']), pick(['-1', '2', '100'])],
    () => ['STRLEN', key()],
    () => ['DECRBY', key(), value()],
    () => ['TYPE', key()],
    // A time used by no other command: two expiries of one time set in the same millisecond or
    // the next tie or not by timing, and GT and LT would answer by it.
    () => ['EXPIRE', key(), next() < 0.7 ? String(1_000 + Math.floor(next() * 1e9)) : pick(['0', '-5', 'x']), ...(next() < 0.5 ? [pick(['NX', 'XX', 'GT', 'LT'])] : [])],
    () => ['PERSIST', key()],
    () => ['SET', key(), value(), pick(['GET', 'XX', 'KEEPTTL'])],
    () => ['SET', key(), value(), 'NX', 'GET'],
    () => ['UNLINK', key()],
    () => ['SETBIT', key(), pick(['0', '7', '100', '-1', 'x']), pick(['0', '1', '2'])],
    () => ['GETBIT', key(), pick(['0', '7', '100', '-1'])],
    () => ['LCS', key(), key(), ...(next() < 0.3 ? ['LEN'] : [])],
    () => ['DECR', key()],
    () => ['SUBSTR', key(), '0', pick(['1', '-1'])],
    () => ['SET', key(), value(), pick(['EXAT', 'PXAT']), pick(['4102444800', '1', '0', 'x'])],
    () => ['SET', key(), value(), 'KEEPTTL', ...(next() < 0.3 ? ['EX', '100'] : [])],
    () => ['GETEX', key(), 'PXAT', pick(['4102444800000', '1'])],
    () => ['ECHO', value()],
    () => ['TOUCH', key(), key()],
    () => ['SET', key(), value(), 'EX', String(1_000_000 + Math.floor(next() * 1e6))],
    () => ['GETEX', key(), 'EX', String(1_000_000 + Math.floor(next() * 1e6))],
    () => ['INCRBY', key(), pick(['-9223372036854775808', '9223372036854775807', '1'])],
    () => ['DECRBY', key(), '-9223372036854775808'],
    () => ['APPEND', key(), pick(['\u0000', 'é', '\r\n'])],
    () => ['GETRANGE', key(), pick(['-100', '-1', '5']), pick(['-100', '0', '-1'])],
    () => ['SETRANGE', key(), pick(['1', '10']), pick(['ab', ''])],
    () => ['PING'],
    () => ['NOSUCHCOMMAND', key()],
    () => ['GET'],
    () => ['SET', key()],
  ];
  return pick(choices)();
}

// The same random sequences of transactions, pipelined on one connection, to this server and to a
// real redis-server: every reply must be the same (a transaction of one client is deterministic:
// only its own writes can spoil its WATCH).
t.test('MULTI / EXEC / WATCH answer as redis-server does, reply for reply', { skip: redisMissing() }, async (t) => {
  const redis = await RedisProcess.start();
  const server = await startTestServer({ respPort: 0 });
  t.teardown(async () => {
    await server.close();
    await redis.close();
  });
  for (const seed of SEEDS) {
    const next = prng(seed);
    const commands = Array.from({ length: Number(process.env.DIFF_LENGTH ?? 400) }, () => command(next));
    const wire = Buffer.concat([encodeCommand('FLUSHALL'), ...commands.map((args) => encodeCommand(...args))]);
    const [ours, theirs] = await Promise.all([rawExchange(server.resp!.port, wire, commands.length + 1), rawExchange(redis.port, wire, commands.length + 1)]);
    const text = (reply: Reply | undefined): string => JSON.stringify(reply, (_key, item: unknown) => (typeof item === 'bigint' ? `${item}n` : item));
    const first = ours.replies.findIndex((reply, i) => text(reply) !== text(theirs.replies[i]));
    const context = (replies: Reply[]): string => replies.slice(Math.max(0, first - 3), first + 1).map(text).join(', ');
    t.equal(first, -1, first < 0 ? `seed ${seed}: ${commands.length} commands, the same replies` : `seed ${seed}: command ${first} ${JSON.stringify(commands[first - 1])}: ours ${context(ours.replies)}, redis ${context(theirs.replies)}`);
  }
});
