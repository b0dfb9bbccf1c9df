import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { RedisProcess, redisMissing } from './fixtures/redis.js';
import type { Options } from '../src/options.js';
import { startTestServer, type RunningServer } from './fixtures/server.js';

/** A server with a RESP port and an ioredis client on it, both gone when `t` ends. */
async function serverAndClient(t: Test, overrides: Partial<Options> = {}): Promise<{ server: RunningServer; redis: Redis }> {
  const server = await startTestServer({ respPort: 0, ...overrides });
  const redis = new Redis({ port: server.resp!.port, host: '127.0.0.1' });
  t.teardown(async () => {
    redis.disconnect();
    await server.close();
  });
  return { server, redis };
}

/** INFO memory's used_memory: the bytes the nodes account against --max-memory, all copies. */
async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

const ENTRIES: Array<[string, string | Buffer]> = [
  ['small', 'v'],
  ['ключ 😀', 'x'.repeat(300)],
  ['binary', Buffer.from([0, 255, 13, 10, 128])],
  ['large', 'y'.repeat(2 * 1024 * 1024)],
];

for (const replicas of [1, 2]) {
  t.test(`MEMORY USAGE is what each key is accounted at, ${replicas} cop${replicas === 1 ? 'y' : 'ies'}`, async (t) => {
    const { redis } = await serverAndClient(t, { replicas, maxValue: 4 * 1024 * 1024 });
    t.equal(await usedMemory(redis), 0, 'an empty cache accounts nothing');
    let total = 0;
    for (const [key, value] of ENTRIES) {
      await redis.set(key, value);
      const usage = (await redis.call('MEMORY', 'USAGE', key)) as number;
      t.ok(usage > Buffer.byteLength(key) + Buffer.byteLength(value), `${key}: ${usage} bytes, more than its key and value`);
      total += usage;
      t.equal(await usedMemory(redis), replicas * total, `the nodes account ${replicas} x the keys' usages so far`);
    }
    t.equal(await redis.call('MEMORY', 'USAGE', 'small', 'SAMPLES', '0'), await redis.call('MEMORY', 'USAGE', 'small'), 'SAMPLES changes nothing');
    t.equal(await redis.call('MEMORY', 'USAGE', 'missing'), null, 'a missing key is nil');
    await redis.del('large');
    t.equal(await redis.call('MEMORY', 'USAGE', 'large'), null, 'a deleted key is nil');
  });
}

t.test('MEMORY refuses what Redis refuses, with its errors', async (t) => {
  const { redis } = await serverAndClient(t);
  await redis.set('k', 'v');
  const refused = async (...args: string[]): Promise<string> => {
    try {
      await redis.call('MEMORY', ...args);
      return 'no error';
    } catch (error) {
      return (error as Error).message;
    }
  };
  t.equal(await refused('FOO'), "ERR unknown subcommand 'FOO'. Try MEMORY HELP.");
  t.equal(await refused('USAGE'), "ERR wrong number of arguments for 'memory|usage' command");
  t.equal(await refused('HELP', 'x'), "ERR wrong number of arguments for 'memory|help' command");
  t.equal(await refused('USAGE', 'k', 'SAMPLES', '-1'), 'ERR syntax error');
  t.equal(await refused('USAGE', 'k', 'SAMPLES', 'x'), 'ERR value is not an integer or out of range');
  t.equal(await refused('USAGE', 'k', 'x'), 'ERR syntax error');
  t.equal(await refused('USAGE', 'k', 'SAMPLES', '5', 'x'), 'ERR syntax error');
  const help = (await redis.call('MEMORY', 'HELP')) as string[];
  t.ok(help.some((line) => line.startsWith('USAGE <key>')), 'HELP names USAGE');
  t.same(await redis.call('COMMAND', 'GETKEYS', 'MEMORY', 'USAGE', 'k'), ['k'], 'its key is the third argument');
});

/** Values whose encoding Redis decides by their bytes: integers canonical or not, the 44-byte embstr limit, binary. */
const VALUES = ['123', '0123', '-5', '-0', '+1', '1e3', ' 1', '9223372036854775807', '9223372036854775808', '-9223372036854775808', '12345678901234567890', '', 'é', 'x'.repeat(44), 'x'.repeat(45), '\u0000\r\n'];

t.test('OBJECT ENCODING, REFCOUNT and FREQ answer as redis-server under an LRU policy', { skip: redisMissing() }, async (t) => {
  const redis = await RedisProcess.start(['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru']);
  t.teardown(() => redis.close());
  const { redis: ours } = await serverAndClient(t);
  const theirs = new Redis({ port: redis.port, host: '127.0.0.1' });
  t.teardown(() => theirs.disconnect());
  const both = async (...args: string[]): Promise<[unknown, unknown]> => {
    const ask = (client: Redis): Promise<unknown> => client.call(args[0]!, ...args.slice(1)).catch((error: Error) => `error: ${error.message}`);
    return Promise.all([ask(ours), ask(theirs)]);
  };
  for (const value of VALUES) {
    await Promise.all([ours.set('k', value), theirs.set('k', value)]);
    for (const sub of ['ENCODING', 'REFCOUNT', 'FREQ']) {
      const [mine, redis7] = await both('OBJECT', sub, 'k');
      t.same(mine, redis7, `OBJECT ${sub} of ${JSON.stringify(value)}: ${String(redis7)}`);
    }
  }
  for (const args of [['OBJECT', 'ENCODING', 'missing'], ['OBJECT', 'REFCOUNT', 'missing'], ['OBJECT', 'FREQ', 'missing'], ['OBJECT', 'FOO', 'k'], ['OBJECT', 'ENCODING'], ['OBJECT', 'ENCODING', 'k', 'x'], ['OBJECT', 'HELP', 'x']]) {
    const [mine, redis7] = await both(...args);
    t.same(mine, redis7, `${args.join(' ')}: ${String(redis7)}`);
  }
});

t.test('OBJECT IDLETIME counts the seconds since the last read or write, and is not a use itself', async (t) => {
  const { server, redis } = await serverAndClient(t);
  await redis.set('idle', 'v');
  t.equal(await redis.call('OBJECT', 'IDLETIME', 'idle'), 0, 'just written');
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  t.ok(((await redis.call('OBJECT', 'IDLETIME', 'idle')) as number) >= 1, 'a second and more later');
  t.ok(((await redis.call('OBJECT', 'IDLETIME', 'idle')) as number) >= 1, 'asking did not count as a use');
  await redis.get('idle');
  t.equal(await redis.call('OBJECT', 'IDLETIME', 'idle'), 0, 'a read is a use');
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  await fetch(`${server.url}/get?key=idle`);
  t.equal(await redis.call('OBJECT', 'IDLETIME', 'idle'), 0, 'so is a read over HTTP');
  t.equal(await redis.call('OBJECT', 'IDLETIME', 'missing'), null, 'a missing key is nil');
});

t.test('OBJECT IDLETIME is refused with --backend, whose server holds the keys', { skip: redisMissing() }, async (t) => {
  const backend = await RedisProcess.start();
  t.teardown(() => backend.close());
  const { redis } = await serverAndClient(t, { backend: backend.url });
  await redis.set('k', 'v');
  await t.rejects(redis.call('OBJECT', 'IDLETIME', 'k'), /not available with --backend/);
  t.equal(await redis.call('OBJECT', 'ENCODING', 'k'), 'embstr', 'the other subcommands answer');
  t.ok(((await redis.call('MEMORY', 'USAGE', 'k')) as number) > 0);
});

/** INFO memory's `name` and `name_human` fields. */
function humanPairs(info: string): Array<[number, string]> {
  return ['used_memory', 'used_memory_rss', 'maxmemory'].map((name) => [Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)![1]), new RegExp(`^${name}_human:(\\S+)`, 'm').exec(info)![1]!]);
}

t.test("INFO memory's _human figures are written as redis-server writes them", { skip: redisMissing() }, async (t) => {
  const redis = await RedisProcess.start(['--maxmemory', '1000000']);
  t.teardown(() => redis.close());
  const theirs = new Redis({ port: redis.port, host: '127.0.0.1' });
  t.teardown(() => theirs.disconnect());
  const { redis: ours } = await serverAndClient(t, { maxMemory: 3 * 1024 * 1024 });
  const [mine, redis7] = [humanPairs(await ours.info('memory')), humanPairs(await theirs.info('memory'))];
  t.same(mine.map(([, human]) => /^\d+(\.\d\d[KMGTP])?B?$/.test(human)), [true, true, true], `ours: ${mine.map(([, h]) => h).join(', ')}`);
  t.equal(mine[2]![1], '3.00M', 'maxmemory 3 MiB');
  // Redis's own figures follow the rule ours are checked by.
  t.equal(redis7[2]![1], '976.56K', "redis-server's maxmemory 1000000");
  for (const [[bytes, human], which] of [...redis7.map((pair) => [pair, 'redis-server'] as const), ...mine.map((pair) => [pair, 'ours'] as const)]) {
    const [unit, power] = human.endsWith('B') ? ['B', 0] : [human.slice(-1), 'KMGTP'.indexOf(human.slice(-1)) + 1];
    const expected = power === 0 ? `${bytes}B` : `${(bytes / 1024 ** power).toFixed(2)}${unit}`;
    t.equal(human, expected, `${which}: ${bytes} bytes as ${human}`);
    if (power > 0) t.ok(bytes >= 1024 ** power && bytes < 1024 ** (power + 1), `${which}: ${human} is the largest unit below ${bytes}`);
  }
});
