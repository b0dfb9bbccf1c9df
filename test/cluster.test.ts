import t from 'tap';
import type { Test } from 'tap';
import type { RunningServer } from '../src/http/server.js';
import { preload, preloadKey, preloadValue, startMixedLoad, verify, type LoadReport } from './fixtures/mixed-load.js';
import { request, startTestServer } from './fixtures/server.js';
import { eventually } from './fixtures/wait.js';

const PRELOADED = 20_000;

interface NodesBody {
  ringVersion: number;
  replicas: number;
  migration: unknown;
  lastMigration: { keysMoved: number; keysDropped: number } | null;
  nodes: Array<{ id: string; state: string; keys: number; restarts: number; lostKeys: number; lastFailure: { reason: string } | null }>;
}

async function nodesOf(server: RunningServer): Promise<NodesBody> {
  return (await request(server.url, 'GET', '/nodes')).json as NodesBody;
}

/**
 * Runs `change` while 50 clients read and write, waits until every key has moved, then checks
 * that nothing acknowledged was lost, nothing deleted came back and no request failed.
 */
async function underLoad(t: Test, server: RunningServer, change: () => Promise<void>): Promise<LoadReport> {
  let stop = false;
  const load = startMixedLoad({ base: server.url, clients: 50, preloaded: PRELOADED, stop: () => stop });
  await eventually('the load is running', () => load.report.requests >= 500);
  await change();
  await server.cluster.membership.settled();
  // Some requests after the change has settled, on the final ring.
  const settledAt = load.report.requests;
  await eventually('requests after the change', () => load.report.requests >= settledAt + 500);
  stop = true;
  const report = await load.finished;
  const check = await verify(server.url, PRELOADED, report);
  t.comment(`${report.requests} requests during the change`);
  t.equal(report.failures, 0, 'every request answered');
  t.same(report.serverErrors, { count: 0, first: [] }, '0 5xx answers');
  t.same(report.misses.slice(0, 5), [], `${report.misses.length} misses of keys written before`);
  t.same(report.wrongValues.slice(0, 5), [], `${report.wrongValues.length} reads of a stale value`);
  t.same(check.lost.slice(0, 5), [], `${check.lost.length} of ${check.checked} keys lost or stale afterwards`);
  t.same(check.resurrected.slice(0, 5), [], `${check.resurrected.length} of ${report.deleted.size} deleted keys came back`);
  return report;
}

t.test('join under load: 0 lost writes, 0 misses, the new node gets its share', async (t) => {
  const server = await startTestServer({ nodes: 3, replicas: 2 });
  t.teardown(() => server.close());
  await preload(server.url, PRELOADED);
  await underLoad(t, server, async () => {
    const joined = await request(server.url, 'POST', '/nodes');
    t.equal(joined.status, 201);
    t.same(joined.json, { id: 'node-4' });
  });
  const body = await nodesOf(server);
  t.same(body.nodes.map((n) => [n.id, n.state]), [['node-1', 'up'], ['node-2', 'up'], ['node-3', 'up'], ['node-4', 'up']]);
  t.equal(body.migration, null, 'no migration left');
  const copies = body.nodes.reduce((sum, n) => sum + n.keys, 0);
  const share = body.nodes[3]!.keys / copies;
  t.ok(Math.abs(share - 1 / 4) <= 0.2 / 4, `node-4 holds ${(share * 100).toFixed(1)}% of the copies (1/4 +-20%)`);
  t.ok(body.lastMigration !== null && body.lastMigration.keysMoved > 0, `${body.lastMigration?.keysMoved} copies moved`);
  t.ok(body.lastMigration !== null && body.lastMigration.keysDropped > 0, `${body.lastMigration?.keysDropped} old copies dropped`);
});

t.test('leave under load: 0 lost writes, 0 misses, the node stops', async (t) => {
  const server = await startTestServer({ nodes: 3, replicas: 2 });
  t.teardown(() => server.close());
  await preload(server.url, PRELOADED);
  await underLoad(t, server, async () => {
    const left = await request(server.url, 'DELETE', '/nodes/node-2');
    t.equal(left.status, 202);
    t.same(left.json, { id: 'node-2', state: 'leaving' });
  });
  const body = await nodesOf(server);
  t.same(body.nodes.map((n) => [n.id, n.state]), [['node-1', 'up'], ['node-3', 'up']]);
  t.equal((await request(server.url, 'DELETE', '/nodes/node-2')).status, 404, 'gone');
});

t.test('crash under load: detected, restarted, refilled; 0 lost writes, 0 misses, 0 5xx', async (t) => {
  const server = await startTestServer({ nodes: 3, replicas: 2, enableDebug: true });
  t.teardown(() => server.close());
  await preload(server.url, PRELOADED);
  await underLoad(t, server, async () => {
    const crashed = await request(server.url, 'POST', '/debug/crash/node-1');
    t.equal(crashed.status, 202);
  });
  const body = await nodesOf(server);
  const node = body.nodes.find((n) => n.id === 'node-1')!;
  t.equal(node.state, 'up');
  t.equal(node.restarts, 1);
  t.equal(node.lostKeys, 0, 'its keys had copies');
  const health = await request(server.url, 'GET', '/health');
  t.equal(health.status, 200);
  t.match(health.json, { status: 'ok', lostKeys: 0, nodes: { 'node-1': 'up' } });
});

t.test('mget reads every key while a node crashes and another joins', async (t) => {
  const server = await startTestServer({ nodes: 3, replicas: 2, enableDebug: true });
  t.teardown(() => server.close());
  await preload(server.url, PRELOADED);
  let stop = false;
  const wrong: string[] = [];
  const failures: number[] = [];
  let answered = 0;
  const reader = async (): Promise<void> => {
    while (!stop) {
      const keys = Array.from({ length: 1000 }, () => preloadKey(Math.floor(Math.random() * PRELOADED)));
      const got = await request(server.url, 'POST', '/mget', JSON.stringify({ keys }));
      if (got.status !== 200) failures.push(got.status);
      else for (const key of keys) if ((got.json as { values: Record<string, string | null> }).values[key] !== preloadValue(key)) wrong.push(key);
      answered++;
    }
  };
  const readers = Array.from({ length: 10 }, reader);
  await eventually('mgets are running', () => answered >= 10);
  t.equal((await request(server.url, 'POST', '/debug/crash/node-1')).status, 202);
  t.equal((await request(server.url, 'POST', '/nodes')).status, 201);
  await server.cluster.membership.settled();
  const settledAt = answered;
  await eventually('mgets after the change', () => answered >= settledAt + 10);
  stop = true;
  await Promise.all(readers);
  t.comment(`${answered} mgets of 1,000 keys`);
  t.same(failures, [], 'every mget answered 200');
  t.same(wrong.slice(0, 5), [], `${wrong.length} keys missing or wrong`);
});

t.test('each kind of fault is detected and the node refilled', async (t) => {
  const server = await startTestServer({ nodes: 3, replicas: 2, enableDebug: true, maxMemory: 24 * 1024 * 1024 });
  t.teardown(() => server.close());
  await preload(server.url, 2_000);
  for (const [node, how, reason] of [
    ['node-1', 'throw', /fault injected/],
    ['node-2', 'exit', /exited with code 70/],
    ['node-3', 'oom', /memory limit/],
  ] as const) {
    const keysBefore = (await nodesOf(server)).nodes.find((n) => n.id === node)!.keys;
    t.equal((await request(server.url, 'POST', `/debug/crash/${node}?how=${how}`)).status, 202);
    await server.cluster.membership.settled();
    const after = (await nodesOf(server)).nodes.find((n) => n.id === node)!;
    t.equal(after.restarts, 1, `${how}: restarted`);
    t.match(after.lastFailure?.reason, reason, `${how}: ${after.lastFailure?.reason}`);
    t.equal(after.keys, keysBefore, `${how}: refilled with its ${keysBefore} keys`);
  }
  const check = await verify(server.url, 2_000);
  t.equal(check.lost.length, 0, 'no key lost');
  t.equal((await request(server.url, 'POST', '/debug/crash/node-1?how=melt')).status, 400);
  t.equal((await request(server.url, 'POST', '/debug/crash/node-9')).status, 404);
});

t.test('a node that keeps dying is restarted with back-off', async (t) => {
  const server = await startTestServer({ nodes: 2, replicas: 2, enableDebug: true });
  t.teardown(() => server.close());
  const recoveries: number[] = [];
  for (let i = 0; i < 3; i++) {
    await server.cluster.membership.settled();
    const started = Date.now();
    t.equal((await request(server.url, 'POST', '/debug/crash/node-1')).status, 202);
    await server.cluster.membership.settled();
    recoveries.push(Date.now() - started);
  }
  t.ok(recoveries[2]! >= 200, `third restart after ${recoveries[2]} ms (>= 200 ms back-off); first ${recoveries[0]} ms`);
  t.equal((await nodesOf(server)).nodes[0]!.restarts, 3);
});

t.test('with --replicas 1 a crash loses the node keys, and /health and /nodes say so', async (t) => {
  const server = await startTestServer({ nodes: 2, replicas: 1, enableDebug: true });
  t.teardown(() => server.close());
  await preload(server.url, 1_000);
  const held = (await nodesOf(server)).nodes[0]!.keys;
  t.equal((await request(server.url, 'POST', '/debug/crash/node-1')).status, 202);
  await server.cluster.membership.settled();
  const node = (await nodesOf(server)).nodes[0]!;
  t.equal(node.state, 'up', 'restarted');
  t.equal(node.keys, 0, 'empty: there was no copy');
  t.equal(node.lostKeys, held, `${held} keys reported lost`);
  const health = await request(server.url, 'GET', '/health');
  t.match(health.json, { lostKeys: held });
  const check = await verify(server.url, 1_000);
  t.equal(check.lost.length, held, 'exactly the reported keys are gone');
});

t.test('membership errors, and fault injection needs --enable-debug', async (t) => {
  const server = await startTestServer({ nodes: 1 });
  t.teardown(() => server.close());
  const last = await request(server.url, 'DELETE', '/nodes/node-1');
  t.equal(last.status, 409);
  t.match(last.json, { code: 'CONFLICT', error: /last node/ });
  t.match((await request(server.url, 'DELETE', '/nodes/node-7')).json, { code: 'NOT_FOUND', error: 'No node node-7 on the ring' });
  t.equal((await request(server.url, 'POST', '/debug/crash/node-1')).status, 404);
  t.equal((await request(server.url, 'PUT', '/nodes')).status, 405);
  t.equal((await request(server.url, 'POST', '/nodes')).status, 201);
  await server.cluster.membership.settled();
  t.equal((await request(server.url, 'DELETE', '/nodes/node-1')).status, 202, 'two nodes: one may leave');
  await server.cluster.membership.settled();
  t.same((await nodesOf(server)).nodes.map((n) => n.id), ['node-2']);
});

t.test('NX and XX stay exact with replicas, after a join', async (t) => {
  const server = await startTestServer({ nodes: 2, replicas: 2 });
  t.teardown(() => server.close());
  const put = (key: string, query: string, body: string) => request(server.url, 'PUT', `/keys/${key}?${query}`, body);
  t.equal((await put('a', 'nx', '1')).status, 201);
  t.equal((await put('a', 'nx', '2')).status, 409);
  t.equal((await put('b', 'xx', '1')).status, 404);
  t.equal((await request(server.url, 'POST', '/nodes')).status, 201);
  await server.cluster.membership.settled();
  t.equal((await put('a', 'nx', '3')).status, 409, 'still present after the join');
  t.equal((await put('a', 'xx', '4')).status, 201);
  const copies = (await nodesOf(server)).nodes.reduce((sum, n) => sum + n.keys, 0);
  t.equal(copies, 2, 'one key, two copies');
  t.equal((await request(server.url, 'GET', '/keys/a')).text, '4');
});

t.test('piscina-driven nodes recover from a crash too', async (t) => {
  const server = await startTestServer({ nodes: 2, replicas: 2, enableDebug: true, nodeTransport: 'piscina' });
  t.teardown(() => server.close());
  await preload(server.url, 1_000);
  t.equal((await request(server.url, 'POST', '/debug/crash/node-1?how=throw')).status, 202);
  await server.cluster.membership.settled();
  const node = (await nodesOf(server)).nodes[0]!;
  t.match(node, { state: 'up', restarts: 1, keys: 1_000 }, 'restarted and refilled');
  t.equal((await verify(server.url, 1_000)).lost.length, 0);
});

t.test('/health is 503 while some key has no live copy, then counts what was lost', async (t) => {
  const server = await startTestServer({ nodes: 3, replicas: 2, enableDebug: true });
  t.teardown(() => server.close());
  await preload(server.url, 3_000);
  // Both copies of the keys owned by node-1 and node-2 go at once.
  t.equal((await request(server.url, 'POST', '/debug/crash/node-1')).status, 202);
  t.equal((await request(server.url, 'POST', '/debug/crash/node-2')).status, 202);
  const during = await request(server.url, 'GET', '/health');
  t.equal(during.status, 503, 'no live copy of some keys');
  t.match(during.json, { status: 'degraded' });
  await server.cluster.membership.settled();
  const after = await request(server.url, 'GET', '/health');
  t.equal(after.status, 200, 'every range has a live node again');
  const lost = (await verify(server.url, 3_000)).lost.length;
  const reported = (after.json as { lostKeys: number }).lostKeys;
  t.ok(lost > 0, `${lost} keys had both copies on the two nodes`);
  t.ok(Math.abs(reported - lost) <= lost * 0.3, `${reported} reported lost (estimated from the nodes' key counts), ${lost} actually gone`);
});

t.test('/stats: totals of counters never go down; the memory bound follows joins and leaves', async (t) => {
  const server = await startTestServer({ nodes: 3, replicas: 2, enableDebug: true, maxMemory: 30 * 1024 * 1024 });
  t.teardown(() => server.close());
  type Stats = { maxMemoryBytes: number; totals: Record<'hits' | 'misses' | 'sets' | 'deletes' | 'ops', number> };
  const stats = async (): Promise<Stats> => (await request(server.url, 'GET', '/stats')).json as Stats;
  for (let i = 0; i < 300; i++) await request(server.url, 'POST', `/set?key=s${i}&value=${i}`);
  for (let i = 0; i < 300; i++) await request(server.url, 'GET', `/get?key=s${i + 100}`);
  const share = 10 * 1024 * 1024;
  const seen: Stats[] = [await stats()];
  t.equal(seen[0]!.maxMemoryBytes, 3 * share);
  t.equal((await request(server.url, 'POST', '/debug/crash/node-1')).status, 202);
  await server.cluster.membership.settled();
  seen.push(await stats());
  t.equal((await request(server.url, 'DELETE', '/nodes/node-2')).status, 202);
  await server.cluster.membership.settled();
  seen.push(await stats());
  t.equal(seen[2]!.maxMemoryBytes, 2 * share, 'a leave takes its share away');
  t.equal((await request(server.url, 'POST', '/nodes')).status, 201);
  await server.cluster.membership.settled();
  seen.push(await stats());
  t.equal(seen[3]!.maxMemoryBytes, 3 * share, 'a join brings one');
  for (const field of ['hits', 'misses', 'sets', 'deletes', 'ops'] as const) {
    const series = seen.map((s) => s.totals[field]);
    t.ok(series.every((value, i) => i === 0 || value >= series[i - 1]!), `${field} never goes down: ${series.join(' -> ')}`);
  }
  t.equal(seen[0]!.totals.sets, 600, '300 writes, two copies each');
  t.equal(seen[3]!.totals.sets, 600, 'the restart and the leave took none of them away');
});
