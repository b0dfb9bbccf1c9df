import t from 'tap';
import { Redis } from 'ioredis';
import { request, startTestServer } from './fixtures/server.js';

// The key operations beyond get / set / delete on HTTP, against the same store as the RESP port.
t.test('HTTP key operations, one store with RESP', async (t) => {
  const server = await startTestServer({ respPort: 0 });
  const redis = new Redis({ port: server.resp!.port, host: '127.0.0.1' });
  t.teardown(async () => {
    redis.disconnect();
    await server.close();
  });
  const call = (method: string, path: string, body?: string) => request(server.url, method, path, body);

  t.test('incr: 64-bit counters exact in the JSON text; a decimal `by` adds a float', async (t) => {
    t.same((await call('POST', '/keys/hits/incr')).json, { key: 'hits', value: 1 });
    t.same((await call('POST', '/keys/hits/incr?by=41')).json, { key: 'hits', value: 42 });
    t.equal(await redis.incrby('hits', -2), 40, 'RESP sees the same counter');
    await redis.set('big', '9223372036854775806');
    t.equal((await call('POST', '/keys/big/incr')).text, '{"key":"big","value":9223372036854775807}');
    t.match(await call('POST', '/keys/big/incr'), { status: 409, json: { code: 'OVERFLOW' } });
    t.same((await call('POST', '/keys/f/incr?by=1.5')).json, { key: 'f', value: 1.5 });
    await redis.set('word', 'abc');
    t.match(await call('POST', '/keys/word/incr'), { status: 409, json: { code: 'NOT_AN_INTEGER' } });
    t.match(await call('POST', '/keys/word/incr?by=x'), { status: 400, json: { code: 'BAD_REQUEST' } });
  });

  t.test('append: the body at the end of the value', async (t) => {
    t.same((await call('POST', '/keys/log/append', 'one,')).json, { key: 'log', length: 4 });
    t.same((await call('POST', '/keys/log/append', 'two')).json, { key: 'log', length: 7 });
    t.equal(await redis.get('log'), 'one,two');
  });

  t.test('expire / persist, with Redis conditions', async (t) => {
    await redis.set('e', 'v');
    t.same((await call('POST', '/keys/e/expire?ttl=100&xx')).json, { key: 'e', applied: false });
    t.same((await call('POST', '/keys/e/expire?ttl=100')).json, { key: 'e', applied: true });
    t.ok((await redis.ttl('e')) > 98);
    t.same((await call('POST', '/keys/e/expire?ttl=200&lt')).json, { key: 'e', applied: false });
    t.same((await call('POST', '/keys/e/persist')).json, { key: 'e', applied: true });
    t.equal(await redis.ttl('e'), -1);
    t.same((await call('POST', '/keys/none/expire?ttl=5')).json, { key: 'none', applied: false });
    t.match(await call('POST', '/keys/e/expire?ttl=5&nx&gt'), { status: 400 });
  });

  t.test('rename, exists, mdel', async (t) => {
    await redis.set('old', 'value', 'EX', 100);
    t.same((await call('POST', '/keys/old/rename?to=new')).json, { key: 'old', to: 'new' });
    t.equal(await redis.get('new'), 'value');
    t.ok((await redis.ttl('new')) > 98);
    t.match(await call('POST', '/keys/old/rename?to=new'), { status: 404 });
    await redis.set('taken', 'x');
    t.match(await call('POST', '/keys/new/rename?to=taken&nx'), { status: 409, json: { code: 'KEY_EXISTS' } });
    t.same((await call('GET', '/exists?key=new')).json, { key: 'new', exists: true });
    t.same((await call('GET', '/exists?key=old')).json, { key: 'old', exists: false });
    t.same((await call('POST', '/mdel', JSON.stringify({ keys: ['new', 'taken', 'never'] }))).json, { deleted: 2 });
    t.equal(await redis.exists('new', 'taken'), 0);
  });

  t.test('GET /keys: a scan whose steps return every key once', async (t) => {
    await redis.flushall();
    for (let i = 0; i < 500; i++) await redis.set(`k:${i}`, 'v');
    const seen: string[] = [];
    let cursor = '0';
    do {
      const step = (await call('GET', `/keys?cursor=${cursor}&count=50`)).json as { cursor: string; keys: string[] };
      seen.push(...step.keys);
      cursor = step.cursor;
    } while (cursor !== '0');
    t.equal(seen.length, 500);
    t.equal(new Set(seen).size, 500);
    const matched = (await call('GET', '/keys?match=k:1?&count=10000')).json as { keys: string[] };
    t.equal(matched.keys.length, 10);
    t.match(await call('GET', '/keys?cursor=-1'), { status: 400 });
  });
});
