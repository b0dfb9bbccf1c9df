/**
 * `npm run bench:wrk`: GET hits and SETs over the 100,000 preloaded keys, driven by wrk (one
 * thread, 50 connections) instead of autocannon. wrk is written in C and takes less of the core
 * the load generator shares with nothing else, so the servers' own costs show better; besides
 * req/s it reports each server's CPU time per request (all its threads, user and system, from
 * /proc; for Webdis, Webdis's and its redis-server's). Rounds are interleaved, in an order that
 * turns each round; medians, and paired ratios to the node:http floor, to the `net` floor (a bare
 * socket server: the limit of a Node HTTP server) and to Webdis + redis-server of the same round.
 * The cache runs with its defaults, with --no-fast-path, and with 1 and 8 nodes. Needs `wrk`;
 * Webdis and redis-server when present (apt-get install wrk webdis redis-server).
 *
 *   npm run bench:wrk -- [--rounds 5] [--seconds 4] [--baseline ../old]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, numberFlag, textFlag } from './args.js';
import { startRedis } from './resp.js';
import { cpuTicks, startCache, startFloor, startHonoMap, startNetFloor, type Target } from './targets.js';
import { preloadRedis, startWebdis } from './webdis.js';
import { KEYS, preload, value } from './workload.js';

const ROUNDS = numberFlag('rounds', 5);
const SECONDS = numberFlag('seconds', 4);
const baseline = textFlag('baseline');

/** wrk scripts: each request a random preloaded key (SET with a new 32-byte value); Webdis's own URLs for the same commands. */
const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
const SCRIPTS = {
  'GET hit': `request = function() return wrk.format("GET", "/get?key=key-" .. math.random(0, ${KEYS - 1})) end`,
  SET: `request = function() return wrk.format("POST", "/set?key=key-" .. math.random(0, ${KEYS - 1}) .. "&value=" .. string.rep("w", 32)) end`,
};
const WEBDIS_SCRIPTS: Record<keyof typeof SCRIPTS, string> = {
  'GET hit': `request = function() return wrk.format("GET", "/GET/key-" .. math.random(0, ${KEYS - 1})) end`,
  SET: `request = function() return wrk.format("GET", "/SET/key-" .. math.random(0, ${KEYS - 1}) .. "/" .. string.rep("w", 32)) end`,
};
for (const [name, script] of Object.entries(SCRIPTS)) writeFileSync(join(dir, `${name}.lua`), script);
for (const [name, script] of Object.entries(WEBDIS_SCRIPTS)) writeFileSync(join(dir, `webdis ${name}.lua`), script);
const WEBDIS = 'Webdis + redis-server';
const hasWebdis = ['webdis', 'redis-server'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);

interface Sample {
  rps: number;
  cpuUsPerRequest: number;
}

function run(target: WrkTarget, scenario: string): Sample {
  const pids = target.pids ?? [target.pid];
  const cpu = (): number => pids.reduce((sum, pid) => sum + cpuTicks(pid), 0);
  const before = cpu();
  const script = target.name === WEBDIS ? `webdis ${scenario}` : scenario;
  const out = execFileSync('wrk', ['-t1', '-c50', `-d${SECONDS}s`, '-s', join(dir, `${script}.lua`), target.url], { encoding: 'utf8' });
  const ticks = cpu() - before;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  return { rps, cpuUsPerRequest: requests > 0 ? (ticks * 10_000) / requests : 0 };
}

async function main(): Promise<void> {
  const targets: WrkTarget[] = [
    await startFloor(),
    await startNetFloor(),
    await startHonoMap(),
    await startCache('cache: defaults (3 nodes, 2 replicas)'),
    await startCache('cache: defaults, --no-fast-path', ['--no-fast-path']),
    await startCache('cache: 1 node, 1 replica', ['--nodes', '1', '--replicas', '1']),
    await startCache('cache: 8 nodes, 1 replica', ['--nodes', '8', '--replicas', '1']),
  ];
  if (baseline !== undefined) targets.push(await startCache('cache: defaults [baseline]', [], join(baseline, 'dist/src/main.js')));
  const redis = hasWebdis ? await startRedis() : undefined;
  if (redis !== undefined) {
    const webdis = await startWebdis(redis.port);
    const pids = redis.pid === undefined ? [webdis.pid] : [webdis.pid, redis.pid];
    targets.push({ name: WEBDIS, url: webdis.url, pid: webdis.pid, pids, banner: '', stop: async () => { webdis.stop(); await redis.stop(); } });
    await preloadRedis(redis.port, KEYS, value(0));
  } else process.stdout.write('webdis or redis-server missing: no Webdis row\n');
  try {
    process.stdout.write(`preloading ${KEYS.toLocaleString('en-US')} keys into each server...\n`);
    await Promise.all(targets.filter((target) => target.name.startsWith('cache') || target.name === 'Hono + Map').map((target) => preload(target.url)));
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of Object.keys(SCRIPTS)) {
        const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
        for (const target of order) {
          const key = `${scenario}|${target.name}`;
          samples.set(key, [...(samples.get(key) ?? []), run(target, scenario)]);
        }
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
    report(targets, samples);
  } finally {
    await Promise.all(targets.map((target) => target.stop()));
  }
}

function report(targets: Target[], samples: Map<string, Sample[]>): void {
  process.stdout.write(`\nwrk -t1 -c50, ${ROUNDS} rounds of ${SECONDS} s, medians; ratios paired by round; CPU: the server's processes, all threads\n\n`);
  process.stdout.write('| scenario | target | req/s | x node:http floor | x net floor | x Webdis | CPU us / request | rounds (req/s) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n');
  for (const scenario of Object.keys(SCRIPTS)) {
    const paired = (list: Sample[], baseline: string): string => {
      const base = samples.get(`${scenario}|${baseline}`);
      return base === undefined ? '' : median(list.map((sample, i) => sample.rps / base[i]!.rps)).toFixed(2);
    };
    for (const target of targets) {
      const list = samples.get(`${scenario}|${target.name}`)!;
      const rps = median(list.map((sample) => sample.rps));
      const cpu = median(list.map((sample) => sample.cpuUsPerRequest));
      process.stdout.write(`| ${scenario} | ${target.name} | ${rps.toFixed(0)} | ${paired(list, 'node:http floor')} | ${paired(list, 'net floor')} | ${paired(list, WEBDIS)} | ${cpu.toFixed(1)} | ${list.map((s) => s.rps.toFixed(0)).join(', ')} |\n`);
    }
  }
}

/** A target whose CPU is several processes' (Webdis and its redis-server). */
interface WrkTarget extends Target {
  pids?: number[];
}

await main();
