import t from 'tap';
import { Redis } from 'ioredis';
import { startTestServer } from './fixtures/server.js';

// The commands over many keys: the keyspace's (KEYS, SCAN, RANDOMKEY) and the atomic ones.
t.test('keyspace and multi-key commands', async (t) => {
  const server = await startTestServer({ respPort: 0 });
  const connect = (): Redis => new Redis({ port: server.resp!.port, host: '127.0.0.1' });
  const redis = connect();
  t.teardown(async () => {
    redis.disconnect();
    await server.close();
  });

  t.test('KEYS matches globs, each key once however many copies it has', async (t) => {
    await redis.flushall();
    await redis.mset('user:1', 'a', 'user:2', 'b', 'user:10', 'c', 'order:1', 'd', 'a*b', 'e');
    t.same((await redis.keys('user:?')).sort(), ['user:1', 'user:2']);
    t.same((await redis.keys('user:*')).sort(), ['user:1', 'user:10', 'user:2']);
    t.same((await redis.keys('[ou]*:1')).sort(), ['order:1', 'user:1']);
    t.same(await redis.keys('a\\*b'), ['a*b']);
    t.equal((await redis.keys('*')).length, 5);
    await redis.set(`${'a'.repeat(300)}`, 'x');
    t.same(await redis.keys(`${'a*'.repeat(40)}b`), [], 'a pathological pattern answers at once');
  });

  t.test('SCAN returns every key exactly once, in steps of about COUNT', async (t) => {
    await redis.flushall();
    const pipeline = redis.pipeline();
    for (let i = 0; i < 2_000; i++) pipeline.set(`scan:${i}`, String(i));
    await pipeline.exec();
    const seen: string[] = [];
    let cursor = '0';
    let steps = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 100);
      seen.push(...keys);
      cursor = next;
      steps++;
    } while (cursor !== '0');
    t.equal(seen.length, 2_000, 'no key twice');
    t.equal(new Set(seen).size, 2_000, 'every key');
    t.ok(steps >= 10 && steps <= 60, `${steps} steps of COUNT 100`);
    const [, matched] = await redis.scan('0', 'MATCH', 'scan:1??', 'COUNT', 100_000);
    t.equal(matched.length, 100);
    t.same(await redis.scan('0', 'COUNT', 100_000, 'TYPE', 'list'), ['0', []]);
    await t.rejects(redis.scan('abc'), /ERR invalid cursor/);
  });

  t.test('a SCAN under way misses no key while a node joins', async (t) => {
    await redis.flushall();
    const pipeline = redis.pipeline();
    for (let i = 0; i < 3_000; i++) pipeline.set(`join:${i}`, String(i));
    await pipeline.exec();
    const seen = new Set<string>();
    let [cursor, keys] = await redis.scan('0', 'COUNT', 200);
    keys.forEach((key) => seen.add(key));
    const joined = server.cluster.membership.join();
    while (cursor !== '0') {
      [cursor, keys] = await redis.scan(cursor, 'COUNT', 200);
      keys.forEach((key) => seen.add(key));
    }
    await joined;
    t.equal(seen.size, 3_000, 'every key present for the whole scan was returned');
  });

  t.test('RANDOMKEY: a key, or nil when there is none', async (t) => {
    await redis.flushall();
    t.equal(await redis.randomkey(), null);
    await redis.mset('r:1', 'a', 'r:2', 'b');
    t.match(await redis.randomkey(), /^r:[12]$/);
  });

  t.test('RENAME moves value and expiry; RENAMENX and COPY as Redis defines them', async (t) => {
    await redis.flushall();
    await redis.set('src', 'v', 'EX', 100);
    t.equal(await redis.rename('src', 'dst'), 'OK');
    t.equal(await redis.exists('src'), 0);
    t.equal(await redis.get('dst'), 'v');
    t.ok((await redis.ttl('dst')) > 98, 'the expiry moved too');
    await t.rejects(redis.rename('src', 'x'), /^ERR no such key$/);
    await redis.set('other', 'o');
    t.equal(await redis.renamenx('dst', 'other'), 0);
    t.equal(await redis.renamenx('dst', 'fresh'), 1);
    t.equal(await redis.copy('fresh', 'other'), 0, 'COPY does not overwrite without REPLACE');
    t.equal(await redis.copy('fresh', 'other', 'REPLACE'), 1);
    t.equal(await redis.get('other'), 'v');
    t.ok((await redis.ttl('other')) > 98, 'COPY copies the expiry');
    t.equal(await redis.get('fresh'), 'v', 'and leaves the source');
  });

  t.test('RENAME is atomic: no reader ever sees the key in both places or in neither', async (t) => {
    await redis.flushall();
    await redis.set('ping', 'ball');
    const reader = connect();
    t.teardown(() => reader.disconnect());
    let renaming = true;
    const renames = (async () => {
      for (let i = 0; i < 300; i++) await (i % 2 === 0 ? redis.rename('ping', 'pong') : redis.rename('pong', 'ping'));
      renaming = false;
    })();
    let looks = 0;
    let wrong = 0;
    while (renaming) {
      const values = await reader.mget('ping', 'pong');
      looks++;
      if (values.filter((value) => value === 'ball').length !== 1) wrong++;
    }
    await renames;
    t.equal(wrong, 0, `${looks} looks at both keys, each saw the ball exactly once`);
  });

  t.test('MSETNX: all or nothing, even when two race over overlapping keys', async (t) => {
    await redis.flushall();
    const other = connect();
    t.teardown(() => other.disconnect());
    let partial = 0;
    for (let round = 0; round < 100; round++) {
      const keys = [`m${round}:a`, `m${round}:b`, `m${round}:c`];
      const [first, second] = await Promise.all([
        redis.msetnx(keys[0]!, 'one', keys[1]!, 'one', keys[2]!, 'one'),
        other.msetnx(keys[2]!, 'two', keys[1]!, 'two', keys[0]!, 'two'),
      ]);
      const values = await redis.mget(keys);
      if (first + second !== 1 || new Set(values).size !== 1) partial++;
    }
    t.equal(partial, 0, 'exactly one of each pair wrote, and it wrote every key');
    t.equal(await redis.msetnx('m0:a', 'x', 'brand-new', 'y'), 0);
    t.equal(await redis.exists('brand-new'), 0, 'a refused MSETNX writes nothing');
  });
});
