/**
 * `npm run bench:cluster`: membership changes under load. A 3-node cache with --replicas 2 is
 * preloaded with 100,000 keys; 50 clients read and write (test/fixtures/mixed-load.ts) while, round after
 * round, a node joins, the oldest node leaves and the first node is crashed. Reports lost
 * writes, misses, 5xx answers, how long each change took (for a crash: until the restarted node
 * holds all its keys again), and the throughput during each change against the steady state in
 * the seconds before it.
 *
 *   npm run bench:cluster -- [--keys N] [--clients C] [--replicas R] [--rounds N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { median, numberFlag } from './args.js';
import { httpClient, mixedLoad, preload, verify, type LoadReport } from '../test/fixtures/mixed-load.js';
import { startCache } from './targets.js';

const KEYS = numberFlag('keys', 100_000);
const CLIENTS = numberFlag('clients', 50);
const REPLICAS = numberFlag('replicas', 2);
const ROUNDS = numberFlag('rounds', 3);
const STEADY_MS = 3_000;
const BUCKET_MS = 100;

interface Phase {
  name: string;
  /** From the request that starts it until every key is where it belongs (ms after load start). */
  from: number;
  to: number;
}


async function main(): Promise<void> {
  const server = await startCache('cache', ['--nodes', '3', '--replicas', String(REPLICAS), '--enable-debug']);
  const admin = httpClient(server.url, 2);
  const json = async (method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const answer = await admin.call(method, path);
    return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
  };
  const settled = async (): Promise<void> => {
    for (;;) {
      const nodes = await json('GET', '/nodes');
      const states = (nodes.body['nodes'] as Array<{ state: string }>).map((n) => n.state);
      if (nodes.body['migration'] === null && states.every((s) => s === 'up')) return;
      await sleep(20);
    }
  };
  try {
    console.error(`preloading ${KEYS} keys`);
    await preload(server.url, KEYS);
    let stop = false;
    const started = performance.now();
    const now = (): number => performance.now() - started;
    const load = mixedLoad({ base: server.url, clients: CLIENTS, preloaded: KEYS, stop: () => stop, bucketMs: BUCKET_MS });
    const phases: Phase[] = [];
    const change = async (name: string, method: string, path: string, expected: number): Promise<void> => {
      await sleep(STEADY_MS);
      const from = now();
      const answer = await json(method, path);
      if (answer.status !== expected) throw new Error(`${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
      await settled();
      phases.push({ name, from, to: now() });
      console.error(`${name}: ${Math.round(now() - from)} ms`);
    };
    const firstNode = async (): Promise<string> => ((await json('GET', '/nodes')).body['nodes'] as Array<{ id: string }>)[0]!.id;
    for (let round = 1; round <= ROUNDS; round++) {
      await change('join', 'POST', '/nodes', 201);
      await change('leave', 'DELETE', `/nodes/${await firstNode()}`, 202);
      await change('crash', 'POST', `/debug/crash/${await firstNode()}`, 202);
    }
    await sleep(STEADY_MS);
    stop = true;
    const report = await load;
    const check = await verify(server.url, KEYS, report);
    const nodes = await json('GET', '/nodes');
    const result = summarize(report, phases, check, nodes.body);
    const resultsDir = new URL('../../bench/results/', import.meta.url);
    mkdirSync(resultsDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    writeFileSync(new URL(`cluster-${stamp}.json`, resultsDir), `${JSON.stringify(result, null, 2)}\n`);
    console.log(markdown(result));
  } finally {
    admin.close();
    await server.stop();
  }
}

function summarize(report: LoadReport, phases: Phase[], check: Awaited<ReturnType<typeof verify>>, nodes: Record<string, unknown>) {
  const rate = (bucket: number): number => (report.timeline[bucket] ?? 0) * (1000 / report.bucketMs);
  const buckets = (from: number, to: number): number[] => {
    const values: number[] = [];
    for (let b = Math.floor(from / report.bucketMs); b < Math.floor(to / report.bucketMs); b++) values.push(rate(b));
    return values;
  };
  let previousEnd = 0;
  const rows = phases.map((phase) => {
    // The steady state: from half a second after the previous change ended until this one began.
    const steady = median(buckets(previousEnd + 500, phase.from));
    const during = buckets(phase.from, Math.max(phase.to, phase.from + report.bucketMs));
    previousEnd = phase.to;
    return {
      change: phase.name,
      ms: Math.round(phase.to - phase.from),
      steadyRps: Math.round(steady),
      duringMedianRps: Math.round(median(during)),
      duringMinRps: Math.round(Math.min(...during)),
      medianRatio: Number((median(during) / steady).toFixed(2)),
      minRatio: Number((Math.min(...during) / steady).toFixed(2)),
    };
  });
  const byChange = (name: string, pick: (row: (typeof rows)[number]) => number): number => median(rows.filter((r) => r.change === name).map(pick));
  const summary = ['join', 'leave', 'crash'].map((change) => ({
    change,
    ms: byChange(change, (r) => r.ms),
    medianRatio: byChange(change, (r) => r.medianRatio),
    minRatio: byChange(change, (r) => r.minRatio),
  }));
  return {
    machine: { cpus: cpus().length, node: process.version },
    rounds: ROUNDS,
    summary,
    keys: KEYS,
    clients: CLIENTS,
    replicas: REPLICAS,
    requests: report.requests,
    byStatus: report.byStatus,
    serverErrors: report.serverErrors,
    connectionFailures: report.failures,
    misses: report.misses.length,
    staleReads: report.wrongValues.length,
    acknowledgedWrites: report.acked.size,
    deletes: report.deleted.size,
    checked: check.checked,
    lost: check.lost.length,
    resurrected: check.resurrected.length,
    phases: rows,
    nodes: (nodes['nodes'] as Array<{ id: string; keys: number; restarts: number; lostKeys: number }>).map(({ id, keys, restarts, lostKeys }) => ({ id, keys, restarts, lostKeys })),
    lastMigration: nodes['lastMigration'],
  };
}

function markdown(result: ReturnType<typeof summarize>): string {
  return [
    `Cluster changes under load: ${result.keys} keys, ${result.clients} clients, --replicas ${result.replicas}, ${result.rounds} rounds, ${result.machine.cpus} cores, Node ${result.machine.node}`,
    '',
    '| change | took (ms), median | during / steady req/s, median of rounds | lowest 100 ms / steady, median of rounds |',
    '| --- | ---: | ---: | ---: |',
    ...result.summary.map((s) => `| ${s.change} | ${s.ms} | ${s.medianRatio}x | ${s.minRatio}x |`),
    '',
    '| change | took (ms) | steady req/s | during: median req/s (ratio) | during: lowest 100 ms (ratio) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...result.phases.map((p) => `| ${p.change} | ${p.ms} | ${p.steadyRps} | ${p.duringMedianRps} (${p.medianRatio}x) | ${p.duringMinRps} (${p.minRatio}x) |`),
    '',
    `requests ${result.requests}; statuses ${JSON.stringify(result.byStatus)}; 5xx ${result.serverErrors.count}; connection failures ${result.connectionFailures}`,
    `misses of keys written before ${result.misses}; stale reads ${result.staleReads}`,
    `afterwards: ${result.checked} keys checked, ${result.lost} acknowledged writes lost, ${result.resurrected} of ${result.deletes} deleted keys back`,
  ].join('\n');
}

await main();
