/**
 * `npm run bench`: each scenario against each configuration of the cache and against the bare
 * node:http floor, in interleaved rounds (floor, cache, floor, cache, ...) so that the machine's
 * drift hits both alike; reports medians and the ratio of each median to the floor's.
 *
 *   npm run bench -- [--quick] [--rounds N] [--seconds S] [--connections C] [--piscina]
 */
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { median, numberFlag } from './args.js';
import { startCache, startFloor, type Target } from './targets.js';

interface Scenario {
  name: string;
  /** Requests each connection cycles through. */
  requests: Array<{ method: 'GET' | 'POST' | 'PUT'; path: string; body?: string }>;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ROUNDS = numberFlag('rounds', quick ? 2 : 5);
const SECONDS = numberFlag('seconds', quick ? 3 : 5);
const CONNECTIONS = numberFlag('connections', 50);
const KEYS = 10_000;

const key = (i: number): string => `key-${i % KEYS}`;
const KIB_VALUE = 'k'.repeat(1024);
const KIB_KEYS = 1000;
const MGET_BODY = JSON.stringify({ keys: Array.from({ length: 100 }, (_, i) => key(i * 97)) });
const SCENARIOS: Scenario[] = [
  // One hot key, as the design's reference measurement; then a spread of keys over every node.
  { name: 'GET hit', requests: [{ method: 'GET', path: `/get?key=${key(1234)}` }] },
  { name: 'GET hit 10k keys', requests: Array.from({ length: 1000 }, (_, i) => ({ method: 'GET', path: `/get?key=${key(i * 7)}` })) },
  { name: 'GET miss', requests: Array.from({ length: 1000 }, (_, i) => ({ method: 'GET', path: `/get?key=absent-${i}` })) },
  {
    name: 'SET',
    requests: Array.from({ length: 1000 }, (_, i) => ({ method: 'POST', path: `/set?key=${key(i * 13)}&value=v${i}` })),
  },
  {
    name: 'PUT /keys 1 KiB',
    requests: Array.from({ length: 1000 }, (_, i) => ({ method: 'PUT', path: `/keys/kib-${i % KIB_KEYS}`, body: KIB_VALUE })),
  },
  { name: 'GET /keys 1 KiB', requests: Array.from({ length: 1000 }, (_, i) => ({ method: 'GET', path: `/keys/kib-${(i * 7) % KIB_KEYS}` })) },
  { name: 'mget 100 keys', requests: [{ method: 'POST', path: '/mget', body: MGET_BODY }] },
];

/** A cache configuration; `scenarios` limits it to some scenarios (all by default). */
interface Config {
  name: string;
  args: string[];
  scenarios?: string[];
}
const CONFIGS: Config[] = [
  { name: 'cache, 3 nodes, 2 replicas', args: ['--nodes', '3', '--replicas', '2'] },
  // What a second copy of every key costs: reads go to one copy, writes to both.
  { name: 'cache, 3 nodes, 1 replica', args: ['--nodes', '3', '--replicas', '1'], scenarios: ['GET hit 10k keys', 'SET'] },
  // --piscina adds the same cluster with piscina-driven nodes, to compare the transports.
  ...(args.includes('--piscina') ? [{ name: 'cache, 3 piscina nodes', args: ['--nodes', '3', '--shard-transport', 'piscina'] }] : []),
];
const runs = (target: Target, scenario: Scenario): boolean => {
  const config = CONFIGS.find((c) => c.name === target.name);
  return config?.scenarios === undefined || config.scenarios.includes(scenario.name);
};

async function preload(url: string): Promise<void> {
  await Promise.all(
    Array.from({ length: KIB_KEYS }, (_, i) => fetch(`${url}/keys/kib-${i}`, { method: 'PUT', body: KIB_VALUE }).then((r) => r.text())),
  );
  for (let start = 0; start < KEYS; start += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, KEYS - start) }, (_, j) =>
        fetch(`${url}/set?key=${key(start + j)}&value=value-of-${key(start + j)}`, { method: 'POST' }).then((r) => r.text()),
      ),
    );
  }
}

async function measure(target: Target, scenario: Scenario): Promise<Sample> {
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: scenario.requests,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: scenario.name === 'GET miss' ? 0 : result.non2xx,
  };
}

async function main(): Promise<void> {
  const floor = await startFloor();
  const caches: Target[] = [];
  for (const config of CONFIGS) {
    const target = await startCache(config.name, config.args);
    await preload(target.url);
    caches.push(target);
  }
  const targets = [floor, ...caches];
  const samples = new Map<string, Sample[]>();
  const total = ROUNDS * SCENARIOS.reduce((n, scenario) => n + targets.filter((target) => runs(target, scenario)).length, 0);
  let done = 0;
  try {
    for (const target of targets) await measure(target, { ...SCENARIOS[0]!, name: 'warm-up' });
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of SCENARIOS) {
        for (const target of targets.filter((t) => runs(t, scenario))) {
          const sample = await measure(target, scenario);
          const id = `${scenario.name}|${target.name}`;
          samples.set(id, [...(samples.get(id) ?? []), sample]);
          done++;
          process.stderr.write(
            `[${done}/${total}] round ${round} ${scenario.name.padEnd(16)} ${target.name.padEnd(24)} ${Math.round(sample.rps)} req/s p99 ${sample.p99} ms\n`,
          );
        }
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }

  const rows = SCENARIOS.flatMap((scenario) => {
    const floorList = samples.get(`${scenario.name}|${floor.name}`)!;
    const floorRps = median(floorList.map((s) => s.rps));
    return targets.filter((target) => runs(target, scenario)).map((target) => {
      const list = samples.get(`${scenario.name}|${target.name}`)!;
      const rps = median(list.map((s) => s.rps));
      // Each round measures the floor and then the cache back to back; the median of those
      // paired ratios is less exposed to the machine's drift than the ratio of the medians.
      const paired = median(list.map((s, i) => s.rps / floorList[i]!.rps));
      return {
        scenario: scenario.name,
        target: target.name,
        rps: Math.round(rps),
        p50: median(list.map((s) => s.p50)),
        p99: median(list.map((s) => s.p99)),
        ratio: Number((rps / floorRps).toFixed(3)),
        pairedRatio: Number(paired.toFixed(3)),
        rounds: list.map((s) => Math.round(s.rps)),
        errors: list.reduce((sum, s) => sum + s.errors + s.non2xx, 0),
      };
    });
  });

  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}`;
  const table = [
    `${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, medians; ${machine}`,
    '',
    '| scenario | target | req/s | p50 ms | p99 ms | x floor | x floor, paired | rounds (req/s) | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.ratio.toFixed(2)} | ${r.pairedRatio.toFixed(2)} | ${r.rounds.join(', ')} | ${r.errors} |`,
    ),
  ].join('\n');
  process.stdout.write(`\n${table}\n`);
  const resultsDir = new URL('../../bench/results/', import.meta.url);
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(new URL(`${stamp}.json`, resultsDir), `${JSON.stringify({ machine, rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, rows }, null, 2)}\n`);
  writeFileSync(new URL(`${stamp}.md`, resultsDir), `${table}\n`);
}

await main();
