import t from 'tap';
import { ownerOf, request, startTestServer } from './fixtures/server.js';

// The seed's own API test cases, and the rest of its contract, against a real server.
t.test('seed-compatible API', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const call = (method: string, path: string) => request(server.url, method, path);

  t.test('GET / answers the API name and version', async (t) => {
    const r = await call('GET', '/');
    t.equal(r.status, 200);
    t.same(r.json, { message: 'Distributed Cache API', version: '0.1.0' });
    t.match(r.headers.get('content-type'), /application\/json/);
    t.equal(r.text.endsWith('}\n'), true, 'the body ends with a newline, as the seed encoder writes it');
  });

  t.test('POST /set stores a value: 201 with message, key and node', async (t) => {
    const r = await call('POST', '/set?key=testKey&value=testValue');
    t.equal(r.status, 201);
    t.same(Object.keys(r.json as object), ['message', 'key', 'node'], 'field order as in the seed README');
    t.match(r.json, { message: 'Value set successfully', key: 'testKey', node: /^node-[1-3]$/ });
    t.equal(r.text, `{"message":"Value set successfully","key":"testKey","node":"${ownerOf(server, 'testKey')}"}\n`);
  });

  t.test('GET /get returns key, value and the owning node', async (t) => {
    await call('POST', '/set?key=foo&value=bar');
    const r = await call('GET', '/get?key=foo');
    t.equal(r.status, 200);
    t.equal(r.text, `{"key":"foo","value":"bar","node":"${ownerOf(server, 'foo')}"}\n`);
  });

  // "At once": a miss is the node's answer, not a timeout (a hang would fail on tap's timeout;
  // how long a miss takes is measured by the GET miss rows of npm run bench).
  t.test('a missing key is 404, answered by its node', async (t) => {
    const r = await call('GET', '/get?key=no-such-key');
    t.equal(r.status, 404);
    t.same(r.json, { error: 'Key not found', code: 'KEY_NOT_FOUND' });
  });

  t.test('wrong methods are 405', async (t) => {
    for (const [method, path, allow] of [
      ['POST', '/get?key=foo', 'GET, HEAD'],
      ['PUT', '/get?key=foo', 'GET, HEAD'],
      ['GET', '/set?key=foo&value=bar', 'POST'],
      ['DELETE', '/set?key=foo&value=bar', 'POST'],
      ['GET', '/del?key=foo', 'DELETE'],
    ] as const) {
      const r = await call(method, path);
      t.equal(r.status, 405, `${method} ${path}`);
      t.equal(r.headers.get('allow'), allow);
      t.equal(r.text, '{"error":"Method not allowed","code":"METHOD_NOT_ALLOWED"}\n');
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await call(method, '/');
      t.equal(r.status, 405, `${method} /`);
      t.equal(r.headers.get('allow'), 'GET, HEAD');
    }
    t.equal((await call('GET', '/get?key=foo')).status, 200, 'a 405 changed nothing');
  });

  t.test('missing parameters are 400 with the seed messages', async (t) => {
    const cases = [
      ['GET', '/get', "Missing 'key' parameter"],
      ['GET', '/get?key=', "Missing 'key' parameter"],
      ['POST', '/set?key=a', "Both 'key' and 'value' parameters are required"],
      ['POST', '/set?value=a', "Both 'key' and 'value' parameters are required"],
      ['POST', '/set?key=a&value=', "Both 'key' and 'value' parameters are required"],
      ['DELETE', '/del', '`key` parameter is required'],
    ] as const;
    for (const [method, path, error] of cases) {
      const r = await call(method, path);
      t.equal(r.status, 400, `${method} ${path}`);
      t.same(r.json, { error, code: 'MISSING_PARAMETER' });
    }
  });

  t.test('bad input is a 400 that names the problem', async (t) => {
    const malformed = await call('GET', '/get?key=%ZZ');
    t.equal(malformed.status, 400);
    t.same(malformed.json, { error: "Malformed percent-encoding in parameter 'key'", code: 'BAD_REQUEST' });
    const long = await call('POST', `/set?key=${'k'.repeat(1025)}&value=v`);
    t.equal(long.status, 400);
    t.match(long.json, { code: 'KEY_TOO_LONG' });
    const longUtf8 = await call('GET', `/get?key=${encodeURIComponent('é'.repeat(513))}`);
    t.equal(longUtf8.status, 400, 'the limit counts UTF-8 bytes');
    t.equal((await call('POST', `/set?key=${'k'.repeat(1024)}&value=v`)).status, 201, '1024 bytes is fine');
  });

  t.test('query decoding: UTF-8, plus as space, first value wins', async (t) => {
    const key = 'ключ/with space&amp;😀';
    const value = 'value = "quoted" <b>&</b> 100%';
    const set = await call('POST', `/set?key=${encodeURIComponent(key)}&value=${encodeURIComponent(value)}`);
    t.equal(set.status, 201);
    const got = await call('GET', `/get?key=${encodeURIComponent(key)}`);
    t.match(got.json, { key, value });
    await call('POST', '/set?key=a+b&value=first&value=second');
    t.match((await call('GET', '/get?key=a%20b')).json, { key: 'a b', value: 'first' });
  });

  t.test('DELETE /del removes a key (201, as the seed)', async (t) => {
    await call('POST', '/set?key=gone&value=1');
    const r = await call('DELETE', '/del?key=gone');
    t.equal(r.status, 201);
    t.same(r.json, { message: 'Value deleted successfully', key: 'gone', node: ownerOf(server, 'gone') });
    t.equal((await call('GET', '/get?key=gone')).status, 404);
  });

  t.test('keys spread over all nodes and /nodes shows them', async (t) => {
    await Promise.all(Array.from({ length: 300 }, (_, i) => call('POST', `/set?key=spread-${i}&value=${i}`)));
    const r = await call('GET', '/nodes');
    t.equal(r.status, 200);
    const body = r.json as { ringVersion: number; nodes: Array<{ id: string; keys: number; ringVersion: number; threadId: number; state: string }> };
    t.equal(body.ringVersion, 1);
    t.same(body.nodes.map((n) => n.id), ['node-1', 'node-2', 'node-3']);
    for (const node of body.nodes) {
      t.equal(node.state, 'up');
      t.equal(node.ringVersion, 1, `${node.id} saw the announced ring`);
      t.ok(node.keys > 50, `${node.id} holds ${node.keys} keys`);
      t.ok(node.threadId > 0);
    }
    t.equal(new Set(body.nodes.map((n) => n.threadId)).size, 3, 'one thread per node');
  });

  t.test('unknown paths are 404 JSON; /health is 200', async (t) => {
    const r = await call('GET', '/nope');
    t.equal(r.status, 404);
    t.same(r.json, { error: 'Endpoint not found', code: 'NOT_FOUND' });
    t.equal((await call('GET', '/get/')).status, 404);
    const health = await call('GET', '/health');
    t.equal(health.status, 200);
    t.match(health.json, { status: 'ok' });
  });
});

t.test('--cache-size caps entries per node', async (t) => {
  const server = await startTestServer({ nodes: 1, cacheSize: 10 });
  t.teardown(() => server.close());
  for (let i = 0; i < 25; i++) await request(server.url, 'POST', `/set?key=c${i}&value=${i}`);
  t.equal((await request(server.url, 'GET', '/get?key=c0')).status, 404, 'oldest evicted');
  t.equal((await request(server.url, 'GET', '/get?key=c24')).status, 200, 'newest kept');
  const nodes = (await request(server.url, 'GET', '/nodes')).json as { nodes: Array<{ keys: number; evictions: number }> };
  t.equal(nodes.nodes[0]!.keys, 10);
  t.equal(nodes.nodes[0]!.evictions, 15);
});

t.test('the piscina transport serves the same API', async (t) => {
  const server = await startTestServer({ nodeTransport: 'piscina' });
  t.teardown(() => server.close());
  t.equal((await request(server.url, 'POST', '/set?key=p&value=q')).status, 201);
  t.match((await request(server.url, 'GET', '/get?key=p')).json, { key: 'p', value: 'q' });
});

t.test('--nodes 5: /nodes lists 5 nodes and 10,000 keys spread with max/mean <= 1.10', async (t) => {
  const server = await startTestServer({ nodes: 5, replicas: 1 });
  t.teardown(() => server.close());
  for (let start = 0; start < 10_000; start += 500) {
    const batch = Array.from({ length: 500 }, (_, i) => request(server.url, 'POST', `/set?key=user:${start + i}&value=${i}`));
    t.ok((await Promise.all(batch)).every((r) => r.status === 201), `keys ${start}..${start + 499} stored`);
  }
  const body = (await request(server.url, 'GET', '/nodes')).json as { nodes: Array<{ id: string; keys: number }> };
  t.same(body.nodes.map((n) => n.id), ['node-1', 'node-2', 'node-3', 'node-4', 'node-5']);
  const keys = body.nodes.map((n) => n.keys);
  t.equal(keys.reduce((a, b) => a + b, 0), 10_000, 'every key stored once');
  t.ok(Math.max(...keys) / 2_000 <= 1.1, `max/mean = ${(Math.max(...keys) / 2_000).toFixed(3)} (${keys.join(', ')})`);
});
