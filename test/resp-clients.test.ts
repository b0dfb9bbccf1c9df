import t from 'tap';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { eventually } from './fixtures/wait.js';
import { startTestServer } from './fixtures/server.js';

const TOKEN = { authorization: 'Bearer tok' };

// The RESP port driven by the clients applications use, as applications use them.
t.test('ioredis', async (t) => {
  const server = await startTestServer({ respPort: 0 });
  const redis = new Redis({ port: server.resp!.port, host: '127.0.0.1', lazyConnect: true });
  await redis.connect();
  t.teardown(async () => {
    redis.disconnect();
    await server.close();
  });

  t.test('strings, numbers, binary values', async (t) => {
    t.equal(await redis.set('io:a', 'hello'), 'OK');
    t.equal(await redis.get('io:a'), 'hello');
    t.equal(await redis.get('io:none'), null);
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await redis.set('io:bin', bytes);
    t.same(await redis.getBuffer('io:bin'), bytes);
    t.equal(await redis.incr('io:n'), 1);
    t.equal(await redis.incrby('io:n', 41), 42);
    t.equal(await redis.decrby('io:n', 2), 40);
    t.equal(await redis.incrbyfloat('io:n', '0.5'), '40.5');
    t.equal(await redis.append('io:a', ' world'), 11);
    t.equal(await redis.strlen('io:a'), 11);
    t.equal(await redis.getrange('io:a', -5, -1), 'world');
    t.equal(await redis.setrange('io:a', 0, 'J'), 11);
    t.equal(await redis.get('io:a'), 'Jello world');
  });

  t.test('Redis error texts come through as rejections', async (t) => {
    await redis.set('io:text', 'abc');
    await t.rejects(redis.incr('io:text'), /^ERR value is not an integer or out of range$/);
    await redis.set('io:max', '9223372036854775807');
    await t.rejects(redis.incr('io:max'), /^ERR increment or decrement would overflow$/);
    await t.rejects(redis.incrbyfloat('io:text', 1), /^ERR value is not a valid float$/);
    await t.rejects(redis.call('nosuchcommand'), /^ERR unknown command 'nosuchcommand'/);
  });

  t.test('a pipeline of 1,000 commands answers each in order', async (t) => {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 500; i++) pipeline.set(`io:p${i}`, String(i)).incr(`io:p${i}`);
    const results = await pipeline.exec();
    t.equal(results!.length, 1_000);
    t.equal(results!.filter(([error], i) => error === null && results![i]![1] === (i % 2 === 0 ? 'OK' : Math.floor(i / 2) + 1)).length, 1_000);
    const values = await redis.mget(Array.from({ length: 500 }, (_, i) => `io:p${i}`));
    t.same(values, Array.from({ length: 500 }, (_, i) => String(i + 1)));
  });

  t.test('expiry: EX, TTL, PERSIST, EXPIRE conditions, GETEX', async (t) => {
    await redis.set('io:e', 'v', 'EX', 100);
    t.ok((await redis.ttl('io:e')) > 98);
    t.equal(await redis.persist('io:e'), 1);
    t.equal(await redis.ttl('io:e'), -1);
    t.equal(await redis.expire('io:e', 50, 'XX'), 0, 'XX: no expiry to replace');
    t.equal(await redis.expire('io:e', 50, 'NX'), 1);
    t.equal(await redis.expire('io:e', 60, 'LT'), 0);
    t.equal(await redis.expire('io:e', 40, 'LT'), 1);
    t.equal(await redis.expire('io:e', 30, 'GT'), 0);
    t.equal(await redis.getex('io:e', 'PX', 5_000), 'v');
    const pttl = await redis.pttl('io:e');
    t.ok(pttl > 4_000 && pttl <= 5_000, `pttl ${pttl}`);
    t.equal(await redis.ttl('io:none'), -2);
    await redis.set('io:short', 'v', 'PX', 30);
    await eventually('the key expires', async () => (await redis.get('io:short')) === null);
    t.equal(await redis.exists('io:short'), 0);
  });

  t.test('SET NX / XX / GET / KEEPTTL, GETSET, GETDEL, SETNX', async (t) => {
    t.equal(await redis.set('io:c', '1', 'NX'), 'OK');
    t.equal(await redis.set('io:c', '2', 'NX'), null);
    t.equal(await redis.set('io:d', '2', 'XX'), null);
    t.equal(await redis.set('io:c', '3', 'PX', 100_000, 'GET'), '1');
    t.equal(await redis.set('io:c', '4', 'KEEPTTL'), 'OK');
    t.ok((await redis.pttl('io:c')) > 90_000, 'KEEPTTL kept the expiry');
    t.equal(await redis.getset('io:c', '5'), '4');
    t.equal(await redis.ttl('io:c'), -1, 'GETSET drops the expiry, as SET does');
    t.equal(await redis.getdel('io:c'), '5');
    t.equal(await redis.exists('io:c'), 0);
    t.equal(await redis.setnx('io:c', 'x'), 1);
    t.equal(await redis.setnx('io:c', 'y'), 0);
  });

  t.test('reconnects after its connection is cut, and goes on', async (t) => {
    const other = new Redis({ port: server.resp!.port, host: '127.0.0.1' });
    t.teardown(() => other.disconnect());
    const id = await redis.client('ID');
    t.equal(await other.client('KILL', 'ID', String(id)), 1);
    t.equal(await redis.set('io:after', 'yes'), 'OK', 'the command after the cut is sent on the new connection');
    t.equal(await redis.get('io:after'), 'yes');
    t.not(await redis.client('ID'), id);
  });
});

t.test('node-redis', async (t) => {
  const server = await startTestServer({ respPort: 0, authToken: 'tok' });
  const client = createClient({ socket: { port: server.resp!.port, host: '127.0.0.1' }, password: 'tok' });
  client.on('error', () => undefined);
  await client.connect();
  t.teardown(async () => {
    client.destroy();
    await server.close();
  });

  t.test('authenticates with the token and drives strings and keys', async (t) => {
    t.equal(await client.set('nr:a', 'b'), 'OK');
    t.equal(await client.get('nr:a'), 'b');
    t.equal(await client.exists(['nr:a', 'nr:none']), 1);
    t.equal(await client.del(['nr:a', 'nr:none']), 1);
    t.equal(await client.incrBy('nr:n', 7), 7);
    t.equal(await client.type('nr:n'), 'string');
  });

  t.test('a MULTI-less batch of concurrent commands', async (t) => {
    const writes = await Promise.all(Array.from({ length: 200 }, (_, i) => client.set(`nr:k${i}`, `v${i}`)));
    t.equal(writes.filter((reply) => reply === 'OK').length, 200);
    const reads = await Promise.all(Array.from({ length: 200 }, (_, i) => client.get(`nr:k${i}`)));
    t.same(reads, Array.from({ length: 200 }, (_, i) => `v${i}`));
  });

  t.test('one store behind both front ends (UTF-8 keys and values)', async (t) => {
    await client.set('nr:clé', 'héllo');
    const viaHttp = await fetch(`${server.url}/get?key=${encodeURIComponent('nr:clé')}`, { headers: TOKEN });
    t.match(await viaHttp.json(), { key: 'nr:clé', value: 'héllo' });
    await fetch(`${server.url}/set?key=${encodeURIComponent('nr:ünï')}&value=${encodeURIComponent('çà')}`, { method: 'POST', headers: TOKEN });
    t.equal(await client.get('nr:ünï'), 'çà');
  });

  t.test('INFO keyspace and /stats agree; DBSIZE counts each key once', async (t) => {
    await client.flushAll();
    await client.mSet(['nr:1', 'a', 'nr:2', 'b', 'nr:3', 'c']);
    await client.expire('nr:1', 100);
    t.equal(await client.dbSize(), 3);
    const info = await client.info('keyspace');
    t.match(info, /db0:keys=3,expires=1,avg_ttl=0/);
    const stats = (await (await fetch(`${server.url}/stats`, { headers: TOKEN })).json()) as { totals: { keyspace: unknown } };
    t.same(stats.totals.keyspace, { keys: 3, expires: 1 });
  });
});
