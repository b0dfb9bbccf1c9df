import t from 'tap';
import { firstAnswerHead } from './fixtures/raw.js';
import { batchesSent, ownerOf, request, startTestServer } from './fixtures/server.js';
import { eventually, sleep } from './fixtures/wait.js';

const post = (base: string, path: string, body: unknown) => request(base, 'POST', path, JSON.stringify(body));

t.test('mget, mset, flush, stats and metrics', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const base = server.url;

  t.test('mset stores across every node; mget reads them back with null for misses', async (t) => {
    const entries = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`m${i}`, `value ${i} ✓`]));
    const set = await post(base, '/mset', { entries });
    t.equal(set.status, 200);
    t.same(set.json, { stored: 300 });
    const keys = [...Object.keys(entries), 'missing-1', 'missing-2'];
    const before = batchesSent(server);
    const got = await post(base, '/mget', { keys });
    const after = batchesSent(server);
    t.equal(got.status, 200);
    const values = (got.json as { values: Record<string, string | null> }).values;
    t.equal(values['m7'], 'value 7 ✓');
    t.equal(values['missing-1'], null);
    t.equal(Object.keys(values).length, 302);
    t.ok(after - before <= 3, `302 keys over 3 nodes took ${after - before} batches, one per node`);
    const owners = new Set(Object.keys(entries).map((k) => ownerOf(server, k)));
    t.equal(owners.size, 3, 'the keys span all nodes');
  });

  t.test('unknown fields and wrong types are a 400 that names the field', async (t) => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['/mset', { entries: { u1: 'a' }, nx: true }, /Unknown field "nx".*"entries", "ttl", "encoding"/],
      ['/mset', { entries: { u1: 'a' }, ttl: '5' }, /"ttl" must be a number of seconds/],
      ['/mget', { keys: ['u1'], key: 'u1' }, /Unknown field "key".*"keys", "encoding"/],
      ['/mset', { entries: { u1: 'a' }, encoding: 'hex' }, /"encoding" must be "utf8" or "base64"/],
      ['/mset', { entries: { u1: 'not base64!' }, encoding: 'base64' }, /The value of "u1" is not valid base64/],
    ];
    for (const [path, body, message] of cases) {
      const r = await post(base, path, body);
      t.equal(r.status, 400, JSON.stringify(body));
      t.match(r.json, { code: 'BAD_REQUEST', error: message });
    }
    t.equal((await request(base, 'GET', '/keys/u1')).status, 404, 'nothing was written');
  });

  t.test('"encoding": "base64" carries any bytes through mset and mget', async (t) => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const r = await post(base, '/mset', { entries: { bin1: bytes.toString('base64'), bin2: '' }, encoding: 'base64' });
    t.same(r.json, { stored: 2 });
    const got = await fetch(`${base}/keys/bin1`);
    t.same(Buffer.from(await got.arrayBuffer()), bytes, 'the bytes, all 256 of them');
    const back = (await post(base, '/mget', { keys: ['bin1', 'nothing'], encoding: 'base64' })).json as { values: Record<string, string | null> };
    t.equal(back.values['bin1'], bytes.toString('base64'));
    t.equal(back.values['nothing'], null);
    const text = (await post(base, '/mget', { keys: ['bin1'] })).json as { values: Record<string, string> };
    t.not(Buffer.from(text.values['bin1']!, 'utf8').equals(bytes), 'as UTF-8 text the same bytes do not survive (why base64 exists)');
  });

  t.test('mset with ttl expires its entries', async (t) => {
    await post(base, '/mset', { entries: { e1: 'a', e2: 'b' }, ttl: 0.2 });
    t.match((await request(base, 'GET', '/keys/e1/ttl')).json, { ttl: 1 });
    await sleep(260);
    t.same((await post(base, '/mget', { keys: ['e1', 'e2'] })).json, { values: { e1: null, e2: null } });
  });

  t.test('mget reads a key named many times once', async (t) => {
    const big = 'b'.repeat(100_000);
    t.equal((await request(base, 'PUT', '/keys/big', big)).status, 201);
    const hits = async (): Promise<number> => ((await request(base, 'GET', '/stats')).json as { totals: { hits: number } }).totals.hits;
    const before = await hits();
    const got = await post(base, '/mget', { keys: [...Array.from({ length: 5_000 }, () => 'big'), 'nope'] });
    t.equal(got.status, 200);
    t.same(Object.keys((got.json as { values: object }).values), ['big', 'nope']);
    t.equal((got.json as { values: Record<string, string> }).values['big'], big);
    t.equal((await hits()) - before, 1, 'one read of big (and a miss of nope)');
  });

  t.test('bad batch bodies are 400s that say why', async (t) => {
    const cases: Array<[string, string, RegExp]> = [
      ['/mget', '{bad json', /not valid JSON/],
      ['/mget', '[]', /must be a JSON object/],
      ['/mget', '{"keys": "a"}', /"keys" must be an array of strings/],
      ['/mget', '{"keys": [1, 2]}', /"keys" must be an array of strings/],
      ['/mget', '{"keys": [""]}', /must not be empty/],
      ['/mset', '{"entries": []}', /"entries" must be an object/],
      ['/mset', '{"entries": {"a": 1}}', /value of "a" must be a string/],
      ['/mset', '{"entries": {"a": "1"}, "ttl": -5}', /ttl must be/],
    ];
    for (const [path, body, message] of cases) {
      const r = await request(base, 'POST', path, body);
      t.equal(r.status, 400, `${path} ${body}`);
      t.match(r.json, { error: message, code: /BAD_REQUEST|KEY_TOO_LONG/ });
    }
    const tooMany = await post(base, '/mget', { keys: Array.from({ length: 10_001 }, (_, i) => `k${i}`) });
    t.equal(tooMany.status, 400);
    t.match(tooMany.json, { error: /at most 10000/ });
    const ok = await post(base, '/mget', { keys: Array.from({ length: 10_000 }, (_, i) => `k${i}`) });
    t.equal(ok.status, 200, '10,000 keys is allowed');
    t.equal((await request(base, 'GET', '/mget')).status, 405);
    const getMset = await request(base, 'GET', '/mset');
    t.equal(getMset.status, 405);
    t.equal(getMset.headers.get('allow'), 'POST');
    const huge = await request(base, 'POST', '/mset', ' '.repeat(64 * 1024 * 1024 + 1));
    t.equal(huge.status, 413, 'a batch body over 64 MiB is refused');
    t.match(huge.json, { code: 'VALUE_TOO_LARGE' });
    // Declared over the limit with Expect: 100-continue: refused before the body is sent.
    const head = await firstAnswerHead(server.port, 'POST /mget HTTP/1.1\r\nHost: x\r\nContent-Length: 70000000\r\nExpect: 100-continue\r\n\r\n');
    const answer = head.split('\r\n')[0];
    t.equal(answer, 'HTTP/1.1 413 Payload Too Large', 'no 100 Continue for a body declared over the limit');
  });

  t.test('stats count operations per node and in total', async (t) => {
    const r = await request(base, 'GET', '/stats');
    t.equal(r.status, 200);
    const stats = r.json as {
      uptimeSeconds: number;
      totals: Record<string, number>;
      process: { rssBytes: number };
      nodes: Array<Record<string, number | string>>;
    };
    t.equal(stats.nodes.length, 3);
    t.ok(stats.totals['keys']! >= 300);
    t.ok(stats.totals['bytes']! > 300 * 100, 'bytes are accounted');
    t.ok(stats.totals['hits']! >= 300);
    t.ok(stats.totals['misses']! >= 2);
    t.ok(stats.totals['expired']! >= 2, 'expired entries are counted');
    t.equal(stats.totals['ops'], stats.nodes.reduce((n, node) => n + (node['ops'] as number), 0));
    t.ok(stats.process.rssBytes > 0);
    for (const field of ['keys', 'bytes', 'hits', 'misses', 'evictions', 'expired', 'ops', 'heapUsedBytes', 'batches', 'batchedCommands']) {
      t.type(stats.nodes[0]![field], 'number', `per node ${field}`);
    }
    const node = stats.nodes[0]!;
    t.ok((node['batchedCommands'] as number) >= (node['batches'] as number) && (node['batches'] as number) > 0, `${node['batches']} batches carried ${node['batchedCommands']} commands`);
  });

  t.test('metrics are Prometheus text with per-node series', async (t) => {
    const r = await request(base, 'GET', '/metrics');
    t.equal(r.status, 200);
    t.match(r.headers.get('content-type'), /text\/plain/);
    t.match(r.text, /# TYPE cache_keys gauge/);
    t.match(r.text, /cache_keys\{node="node-1"\} \d+/);
    t.match(r.text, /cache_hits_total\{node="node-2"\} \d+/);
    t.match(r.text, /cache_node_up\{node="node-3"\} 1/);
    t.match(r.text, /cache_batched_commands_total\{node="node-1"\} [1-9]\d*/);
    t.match(r.text, /cache_process_resident_memory_bytes \d+/);
  });

  t.test('flush empties every node', async (t) => {
    const r = await request(base, 'POST', '/flush');
    t.equal(r.status, 200);
    const stats = (await request(base, 'GET', '/stats')).json as { totals: { keys: number; bytes: number } };
    t.equal(stats.totals.keys, 0);
    t.equal(stats.totals.bytes, 0);
    t.equal((await request(base, 'GET', '/get?key=m1')).status, 404);
    t.equal((await request(base, 'POST', '/set?key=after&value=1')).status, 201, 'writes after a flush stay');
    t.equal((await request(base, 'GET', '/get?key=after')).status, 200);
    t.equal((await request(base, 'GET', '/flush')).status, 405);
  });
});

t.test('--max-memory evicts least recently used keys and counts evictions', async (t) => {
  // One copy per key, so that held + evicted adds up to the keys written.
  const server = await startTestServer({ nodes: 2, replicas: 1, maxMemory: 1024 * 1024 });
  t.teardown(() => server.close());
  for (let start = 0; start < 20_000; start += 5_000) {
    const entries = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${start + i}`, 'v'.repeat(100)]));
    t.equal((await post(server.url, '/mset', { entries })).status, 200);
  }
  const stats = (await request(server.url, 'GET', '/stats')).json as { totals: { keys: number; bytes: number; evictions: number } };
  t.ok(stats.totals.bytes <= 1024 * 1024, `accounted ${stats.totals.bytes} bytes within 1 MiB`);
  t.ok(stats.totals.evictions > 0, `${stats.totals.evictions} evictions`);
  t.equal(stats.totals.keys + stats.totals.evictions, 20_000, 'every key is either held or counted as evicted');
  const recent = Array.from({ length: 100 }, (_, i) => `k${19_999 - i}`);
  const got = (await post(server.url, '/mget', { keys: recent })).json as { values: Record<string, string | null> };
  t.ok(recent.every((k) => got.values[k] === 'v'.repeat(100)), 'the most recently written keys are all readable');
  t.equal((await request(server.url, 'GET', '/get?key=k0')).status, 404, 'the oldest are gone');
});

t.test('100,000 keys with ttl=1, never read, are freed by active expiry', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const written = performance.now();
  for (let start = 0; start < 100_000; start += 10_000) {
    const entries = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`ttl-${start + i}`, 'v'.repeat(100)]));
    t.equal((await post(server.url, '/mset', { entries, ttl: 1 })).status, 200);
  }
  const expiresBy = performance.now() + 1000;
  const copies = 100_000 * server.cluster.membership.placement.replicas;
  type Stats = { totals: { keys: number; bytes: number; expired: number } };
  const stats = async (): Promise<Stats> => (await request(server.url, 'GET', '/stats')).json as Stats;
  const first = await stats();
  t.equal(first.totals.keys + first.totals.expired, copies, 'each copy is either held or counted as expired');
  // Nothing reads them: only the nodes' sweeps can free them.
  const freed = await eventually('every expired key freed', async () => {
    const now = await stats();
    return now.totals.keys === 0 ? now : undefined;
  });
  t.equal(freed.totals.bytes, 0, 'their bytes released');
  t.equal(freed.totals.expired, copies, `each of the ${copies} copies counted as expired`);
  t.comment(`written in ${(expiresBy - 1000 - written).toFixed(0)} ms; freed ${(performance.now() - expiresBy).toFixed(0)} ms after the last key expired`);
});
