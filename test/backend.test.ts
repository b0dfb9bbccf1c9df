import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import type { Options } from '../src/options.js';
import { RedisProcess, redisMissing } from './fixtures/redis.js';
import { request, startTestServer, type RunningServer } from './fixtures/server.js';
import { eventually } from './fixtures/wait.js';

/**
 * --backend against real redis-server processes: the data is the backend's, the nodes keep a near
 * cache that Redis's invalidations keep true, and an outage is a 503, never a stale answer.
 */
const missing = redisMissing();
if (missing !== undefined) t.comment(`skipping the --backend tests: ${missing}`);

async function setup(t: Test, overrides: Partial<Options> = {}): Promise<{ redis: RedisProcess; server: RunningServer; direct: Redis; cache: Redis }> {
  const redis = await RedisProcess.start();
  const server = await startTestServer({ backend: redis.url, backendTimeout: 500, respPort: 0, ...overrides });
  const direct = redis.client();
  const cache = new Redis({ port: server.resp!.port, host: '127.0.0.1' });
  t.teardown(async () => {
    cache.disconnect();
    direct.disconnect();
    await server.close();
    await redis.close();
  });
  await eventually('the near cache serves', () => server.cluster.near!.serving);
  return { redis, server, direct, cache };
}

/** How many times the backend ran `command` so far (INFO commandstats). */
async function backendCalls(direct: Redis, command: string): Promise<number> {
  const info = await direct.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}

t.test('writes land in the backend; reads come from it, then from the local copy', { skip: missing }, async (t) => {
  const { server, direct, cache } = await setup(t);
  const base = server.url;
  t.equal((await request(base, 'POST', '/set?key=a&value=1')).status, 201);
  t.equal(await direct.get('a'), '1', 'the seed route wrote to the backend');
  t.equal(await cache.set('b', 'two'), 'OK');
  t.equal(await direct.get('b'), 'two', 'so did SET on the RESP port');
  await direct.set('c', 'from-elsewhere');
  t.equal((await request(base, 'GET', '/get?key=c')).json && ((await request(base, 'GET', '/get?key=c')).json as { value: string }).value, 'from-elsewhere', 'a key written by another client is read through');
  const gets = await backendCalls(direct, 'get');
  for (let i = 0; i < 20; i++) t.equal(await cache.get('c'), 'from-elsewhere');
  t.equal(await backendCalls(direct, 'get'), gets, '20 more reads, not one backend GET: the local copy answers');
  t.equal((await request(base, 'GET', '/get?key=nothing')).status, 404, 'a key the backend lacks is a 404');
  // The near cache's figures, alike in /stats, /metrics and INFO.
  const stats = ((await request(base, 'GET', '/stats')).json as { backend: { fetches: number; up: boolean } }).backend;
  t.match(stats, { up: true, serving: true, tracked: true });
  t.ok(stats.fetches >= 2, `${stats.fetches} backend reads`);
  const metrics = (await request(base, 'GET', '/metrics')).text;
  t.match(metrics, /^cache_backend_up 1$/m);
  t.match(metrics, new RegExp(`^cache_backend_fetches_total ${server.cluster.near!.fetches}$`, 'm'));
  const info = await cache.info('backend');
  t.match(info, /^# Backend\r\nbackend_up:1\r\n/);
  t.match(info, new RegExp(`backend_fetches:${server.cluster.near!.fetches}\r\n`));
});

t.test('a change made by any client of the backend drops the local copy', { skip: missing }, async (t) => {
  const { server, direct, cache } = await setup(t);
  await direct.set('k', 'v1');
  t.equal(await cache.get('k'), 'v1');
  t.equal(await cache.get('k'), 'v1', 'kept locally');
  await direct.set('k', 'v2');
  await eventually('the new value is read', async () => (await cache.get('k')) === 'v2');
  await direct.del('k');
  await eventually('the delete is seen', async () => (await cache.get('k')) === null);
  await direct.set('k', 'v3');
  t.equal(await cache.get('k'), 'v3');
  await direct.flushall();
  await eventually('FLUSHALL elsewhere empties the near cache', async () => (await cache.get('k')) === null);
  t.ok(server.cluster.near!.invalidations >= 3, `${server.cluster.near!.invalidations} invalidations received`);
});

t.test('1,000 concurrent reads of a key not held locally make one backend read', { skip: missing }, async (t) => {
  const { server, direct, cache } = await setup(t);
  await direct.set('hot', 'value');
  const before = await backendCalls(direct, 'get');
  const pipeline = cache.pipeline();
  for (let i = 0; i < 500; i++) pipeline.get('hot');
  const http = Array.from({ length: 500 }, () => request(server.url, 'GET', '/get?key=hot'));
  const [replies, answers] = await Promise.all([pipeline.exec(), Promise.all(http)]);
  t.ok(replies!.every(([error, value]) => error === null && value === 'value'), '500 RESP reads answered');
  t.ok(answers.every((answer) => answer.status === 200), '500 HTTP reads answered');
  t.equal(await backendCalls(direct, 'get'), before + 1, 'one GET reached the backend');
  t.ok(server.cluster.near!.joins >= 499, `${server.cluster.near!.joins} reads joined it, the rest found the local copy`);
});

t.test('the commands keep Redis semantics and errors through the backend', { skip: missing }, async (t) => {
  const { server, direct, cache } = await setup(t);
  t.equal(await cache.incr('n'), 1);
  t.equal(await cache.incrby('n', 41), 42);
  t.equal(await direct.get('n'), '42');
  await cache.set('s', 'abc');
  await t.rejects(cache.incr('s'), /ERR value is not an integer or out of range/);
  t.equal(await cache.append('s', 'def'), 6);
  t.equal(await cache.set('s', 'new', 'NX'), null, 'SET NX on a held key');
  t.equal(await cache.set('s', 'new', 'GET'), 'abcdef', 'SET GET answers the old value');
  t.equal(await cache.getdel('s'), 'new');
  t.equal(await direct.exists('s'), 0);
  await cache.set('e', 'x');
  t.equal(await cache.expire('e', 100), 1);
  const ttl = await direct.pttl('e');
  t.ok(ttl > 99_000 && ttl <= 100_000, `EXPIRE reached the backend (${ttl} ms)`);
  t.ok((await cache.pttl('e')) <= ttl, 'the local copy never outlives the backend');
  t.equal(await cache.mset('m1', 'a', 'm2', 'b'), 'OK');
  t.equal(await cache.msetnx('m2', 'x', 'm3', 'y'), 0, 'MSETNX with one held key writes nothing');
  t.equal(await direct.exists('m3'), 0);
  t.equal(await cache.rename('m1', 'm4'), 'OK');
  t.same(await direct.mget('m1', 'm4'), [null, 'a']);
  await t.rejects(cache.rename('absent', 'x'), /ERR no such key/);
  t.same((await cache.keys('m*')).sort(), ['m2', 'm4']);
  t.equal(await cache.dbsize(), await direct.dbsize(), "DBSIZE is the backend's");
  await direct.set('elsewhere', 'x', 'EX', 100);
  const keyspace = /^db0:keys=(\d+),expires=(\d+)/m;
  t.same(keyspace.exec(await cache.info('keyspace'))?.slice(1), keyspace.exec(await direct.info('keyspace'))?.slice(1), "INFO keyspace is the backend's");
  const totals = ((await request(server.url, 'GET', '/stats')).json as { totals: { keyspace: { keys: number; expires: number } } }).totals.keyspace;
  t.same(totals, { keys: await direct.dbsize(), expires: Number(keyspace.exec(await direct.info('keyspace'))![2]) }, "and so is /stats's");
  t.equal(await cache.del('m2', 'm4', 'absent'), 2);
  await direct.rpush('list', 'x');
  await t.rejects(cache.get('list'), /WRONG_TYPE/, 'a list in the backend is not read as a string');
  await t.rejects(cache.incr('list'), /WRONG_TYPE/);
  t.equal((await request(server.url, 'GET', '/get?key=list')).status, 409);
  t.equal(await cache.flushall(), 'OK');
  t.equal(await direct.dbsize(), 0, 'FLUSHALL empties the backend');
  await t.rejects(cache.watch('n'), /ERR MULTI and WATCH are not supported with --backend/, "the backend's other clients could change a watched key unseen");
  await t.rejects(cache.call('MULTI'), /ERR MULTI and WATCH are not supported with --backend/);
  t.equal(await cache.set('after', 'x'), 'OK', 'and the connection goes on');
});

t.test('a key set with a TTL expires locally no later than in the backend', { skip: missing }, async (t) => {
  const { direct, cache } = await setup(t);
  await direct.set('brief', 'x', 'PX', 150);
  t.equal(await cache.get('brief'), 'x');
  await eventually('the backend lets it go', async () => (await direct.exists('brief')) === 0, { everyMs: 5 });
  t.equal(await cache.get('brief'), null, 'and so does the near cache');
});

t.test('the backend down: 503 BACKEND_UNAVAILABLE at once, /health says so; back: no stale read', { skip: missing }, async (t) => {
  const { redis, server, cache } = await setup(t);
  const base = server.url;
  t.equal((await request(base, 'POST', '/set?key=kept&value=old')).status, 201);
  t.equal(((await request(base, 'GET', '/get?key=kept')).json as { value: string }).value, 'old');
  await redis.stop();
  await eventually('the cache sees the backend gone', () => !server.cluster.near!.link.up);
  const miss = await request(base, 'GET', '/get?key=other');
  t.equal(miss.status, 503);
  t.match(miss.json, { code: 'BACKEND_UNAVAILABLE' });
  t.equal((await request(base, 'POST', '/set?key=x&value=1')).status, 503, 'a write too');
  t.equal((await request(base, 'GET', '/get?key=kept')).status, 503, 'a local copy is not answered while invalidations cannot arrive');
  const health = await request(base, 'GET', '/health');
  t.equal(health.status, 503);
  t.match(health.json, { status: 'degraded', backend: 'down' });
  await t.rejects(cache.get('kept'), /BACKEND_UNAVAILABLE/, 'RESP says so too');
  // Back, and the key changed meanwhile (as another writer could have): the old copy is gone.
  await redis.start();
  const direct = redis.client();
  t.teardown(() => direct.disconnect());
  await direct.set('kept', 'new');
  await eventually('served again', () => server.cluster.near!.serving);
  t.equal(((await request(base, 'GET', '/get?key=kept')).json as { value: string }).value, 'new');
  t.equal((await request(base, 'GET', '/health')).status, 200);
});

t.test('a lost tracking connection flushes the near cache before it answers again', { skip: missing }, async (t) => {
  const { server, direct, cache } = await setup(t);
  await direct.set('k', 'v1');
  t.equal(await cache.get('k'), 'v1');
  const flushes = server.cluster.near!.flushes;
  // Cut the connection that receives invalidations, then change the key before it is back.
  await direct.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  await direct.set('k', 'v2');
  await eventually('tracking back on', () => server.cluster.near!.serving && server.cluster.near!.flushes > flushes);
  t.equal(await cache.get('k'), 'v2', 'no stale copy survived the lost connection');
});

t.test('a node that dies loses only copies: its keys are fetched again, nothing counts as lost', { skip: missing }, async (t) => {
  const { server, direct } = await setup(t, { enableDebug: true });
  for (let i = 0; i < 30; i++) await direct.set(`c${i}`, `v${i}`);
  for (let i = 0; i < 30; i++) t.equal((await request(server.url, 'GET', `/get?key=c${i}`)).status, 200);
  t.equal((await request(server.url, 'POST', '/debug/crash/node-1')).status, 202);
  const health = await request(server.url, 'GET', '/health');
  t.match(health.json, { status: 'ok', lostKeys: 0, backend: 'up' });
  for (let i = 0; i < 30; i++) t.equal(((await request(server.url, 'GET', `/get?key=c${i}`)).json as { value: string }).value, `v${i}`, `c${i} answered`);
});

t.test('--near-cache off: every read goes to the backend, nothing is kept', { skip: missing }, async (t) => {
  const redis = await RedisProcess.start();
  const server = await startTestServer({ backend: redis.url, nearCache: 'off', respPort: 0 });
  const direct = redis.client();
  t.teardown(async () => {
    direct.disconnect();
    await server.close();
    await redis.close();
  });
  await eventually('tracking on', () => server.cluster.near!.link.tracked);
  await direct.set('k', 'v');
  const gets = await backendCalls(direct, 'evalsha') + (await backendCalls(direct, 'eval'));
  for (let i = 0; i < 10; i++) t.equal(((await request(server.url, 'GET', '/get?key=k')).json as { value: string }).value, 'v');
  t.equal((await backendCalls(direct, 'evalsha')) + (await backendCalls(direct, 'eval')) - gets, 10, '10 reads, 10 backend reads');
  t.equal((await server.cluster.admin.nodes()).reduce((sum, node) => sum + (node.keys ?? 0), 0), 0, 'no copy kept');
});
