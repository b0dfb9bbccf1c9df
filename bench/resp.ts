/**
 * The RESP port against redis-server, both driven by redis-benchmark (Debian's redis-tools) in
 * one run: the cache (defaults, --resp-port) and a redis-server started here on a free port
 * (no persistence), each preloaded with the 100,000 keys redis-benchmark's `-r 100000` names.
 * Rounds are interleaved and rotate; the table gives medians and the median of the per-round
 * ratios to redis-server. Runs at the end of `npm run bench` (skipped, with a note, when
 * redis-benchmark or redis-server is missing); alone: `npm run bench:resp -- [--quick] [--rounds N]`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { median, numberFlag } from './args.js';
import { startCache } from './targets.js';
import { RedisProcess } from '../test/fixtures/redis.js';

const run = promisify(execFile);
const KEYS = 100_000;

interface RespScenario {
  name: string;
  /** redis-benchmark's arguments beyond host, port and the request count. */
  args: string[];
  /** Requests per run: about 3 s on this machine. */
  requests: number;
}

const SCENARIOS: RespScenario[] = [
  { name: 'GET hit, uniform', args: ['-t', 'get', '-r', `${KEYS}`], requests: 300_000 },
  { name: 'SET', args: ['-t', 'set', '-r', `${KEYS}`], requests: 200_000 },
  { name: 'GET 1 KiB', args: ['-t', 'get', '-r', '1000', '-d', '1024'], requests: 200_000 },
  { name: 'MSET 10 keys', args: ['-t', 'mset', '-r', `${KEYS}`], requests: 100_000 },
  // Without -r every INCR is of one key: a hot counter, each a read-modify-write copied to its replica.
  { name: 'INCR, one key', args: ['-t', 'incr'], requests: 100_000 },
  { name: 'GET hit, pipelined 16', args: ['-t', 'get', '-r', `${KEYS}`, '-P', '16'], requests: 1_500_000 },
  { name: 'SET, pipelined 16', args: ['-t', 'set', '-r', `${KEYS}`, '-P', '16'], requests: 1_000_000 },
];

const REDIS = 'redis-server 7';
const CACHE = 'cache: 3 nodes, 2 replicas (defaults)';

interface RespTarget {
  name: string;
  port: number;
  /** Its process, when it is one of its own. */
  pid?: number | undefined;
  stop(): Promise<void>;
}

/** A redis-server (no persistence) on a free port of 127.0.0.1, once it answers (the tests' fixture). */
export async function startRedis(): Promise<RespTarget> {
  const redis = await RedisProcess.start();
  return { name: REDIS, port: redis.port, pid: redis.pid, stop: () => redis.close() };
}

async function startCacheResp(): Promise<RespTarget> {
  const target = await startCache(CACHE, ['--resp-port', '0']);
  const port = Number(/redis:\/\/[^:]+:(\d+)/.exec(target.banner)?.[1]);
  return { name: CACHE, port, stop: () => target.stop() };
}

/** The keys redis-benchmark's `-r` draws (`key:` and twelve digits), each with its 3-byte value, and the 1 KiB ones. */
async function preload(port: number): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1' });
  for (let from = 0; from < KEYS; from += 5_000) {
    const pipeline = client.pipeline();
    for (let i = from; i < from + 5_000; i++) pipeline.set(`key:${String(i).padStart(12, '0')}`, i < 1_000 ? 'x'.repeat(1024) : 'xxx');
    await pipeline.exec();
  }
  client.disconnect();
}

async function measure(target: RespTarget, scenario: RespScenario, scale: number): Promise<number> {
  const { stdout } = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', `${target.port}`, '-c', '50', '-n', `${Math.round(scenario.requests * scale)}`, '--csv', ...scenario.args]);
  // "test","rps",...: the first data line's rps.
  const line = stdout.trim().split('\n').find((l) => !l.startsWith('"test"'));
  return Number(line?.split(',')[1]?.replaceAll('"', ''));
}

export async function installed(command: string): Promise<boolean> {
  return run(command, ['--version']).then(
    () => true,
    () => false,
  );
}

export async function benchResp(argv: readonly string[]): Promise<string> {
  if (!(await installed('redis-benchmark')) || !(await installed('redis-server'))) {
    return 'RESP rows skipped: redis-benchmark and redis-server are not installed (apt-get install -y redis-server redis-tools).';
  }
  const quick = argv.includes('--quick');
  const rounds = numberFlag('rounds', quick ? 1 : 3, argv);
  const scale = quick ? 0.3 : 1;
  const targets = [await startRedis(), await startCacheResp()];
  const samples = new Map<string, number[]>();
  try {
    await Promise.all(targets.map((target) => preload(target.port)));
    for (let round = 0; round < rounds; round++) {
      for (const scenario of SCENARIOS) {
        for (let i = 0; i < targets.length; i++) {
          const target = targets[(i + round) % targets.length]!;
          const rps = await measure(target, scenario, scale);
          samples.set(`${scenario.name}|${target.name}`, [...(samples.get(`${scenario.name}|${target.name}`) ?? []), rps]);
          process.stderr.write(`resp round ${round + 1}/${rounds} · ${scenario.name} · ${target.name}: ${Math.round(rps).toLocaleString('en-US')} req/s\n`);
        }
      }
    }
  } finally {
    await Promise.all(targets.map((target) => target.stop()));
  }
  const rows = SCENARIOS.map((scenario) => {
    const redis = samples.get(`${scenario.name}|${REDIS}`)!;
    const cache = samples.get(`${scenario.name}|${CACHE}`)!;
    return { scenario: scenario.name, redis: Math.round(median(redis)), cache: Math.round(median(cache)), ratio: median(cache.map((rps, i) => rps / redis[i]!)), rounds: cache.map(Math.round) };
  });
  const goal = (name: string, bound: number): string => {
    const ratio = rows.find((r) => r.scenario === name)!.ratio;
    return `| ${name} >= ${bound}x redis-server | ${ratio.toFixed(2)}x | ${ratio >= bound ? 'met' : 'missed'} |`;
  };
  const table = [
    `RESP: redis-benchmark -c 50, ${rounds} round${rounds > 1 ? 's' : ''}, medians; the ratio is the median of the per-round ratios`,
    '',
    `| scenario | ${REDIS} req/s | ${CACHE} req/s | x redis-server, paired | cache rounds (req/s) |`,
    '| --- | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.scenario} | ${r.redis} | ${r.cache} | ${r.ratio.toFixed(2)} | ${r.rounds.join(', ')} |`),
    '',
    '| target | this run | |',
    '| --- | ---: | --- |',
    goal('GET hit, uniform', 0.6),
    goal('SET', 0.6),
    goal('GET hit, pipelined 16', 0.3),
    goal('SET, pipelined 16', 0.3),
  ].join('\n');
  const resultsDir = new URL('../../bench/results/', import.meta.url);
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(new URL(`${stamp}-resp.md`, resultsDir), `${table}\n`);
  writeFileSync(new URL(`${stamp}-resp.json`, resultsDir), `${JSON.stringify({ rounds, rows }, null, 2)}\n`);
  return `${table}\n\nresults: bench/results/${stamp}-resp.md, .json`;
}

if (process.argv[1]?.endsWith('resp.js')) process.stdout.write(`${await benchResp(process.argv.slice(2))}\n`);
