/**
 * `npm run bench:wrk`: GET hits and SETs over the 100,000 preloaded keys, driven by wrk (one
 * thread, 50 connections) instead of autocannon. wrk is written in C and takes less of the core
 * the load generator shares with nothing else, so the servers' own costs show better; besides
 * req/s it reports each server's CPU time per request (all its threads, user and system, from
 * /proc). Rounds are interleaved, in an order that turns each round; medians, and ratios to the
 * node:http floor of the same round. Needs `wrk` (apt-get install wrk).
 *
 *   npm run bench:wrk -- [--rounds 5] [--seconds 4] [--baseline ../old]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, numberFlag, textFlag } from './args.js';
import { startCache, startFloor, startHonoMap, type Target } from './targets.js';
import { KEYS, preload } from './workload.js';

const ROUNDS = numberFlag('rounds', 5);
const SECONDS = numberFlag('seconds', 4);
const baseline = textFlag('baseline');

/** wrk scripts: each request a random preloaded key (SET with a new 32-byte value). */
const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
const SCRIPTS = {
  'GET hit': `request = function() return wrk.format("GET", "/get?key=key-" .. math.random(0, ${KEYS - 1})) end`,
  SET: `request = function() return wrk.format("POST", "/set?key=key-" .. math.random(0, ${KEYS - 1}) .. "&value=" .. string.rep("w", 32)) end`,
};
for (const [name, script] of Object.entries(SCRIPTS)) writeFileSync(join(dir, `${name}.lua`), script);

/** CPU time of a process and all its threads so far, in clock ticks (1/100 s on Linux). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

interface Sample {
  rps: number;
  cpuUsPerRequest: number;
}

function run(target: Target, scenario: string): Sample {
  const before = cpuTicks(target.pid);
  const out = execFileSync('wrk', ['-t1', '-c50', `-d${SECONDS}s`, '-s', join(dir, `${scenario}.lua`), target.url], { encoding: 'utf8' });
  const ticks = cpuTicks(target.pid) - before;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  return { rps, cpuUsPerRequest: requests > 0 ? (ticks * 10_000) / requests : 0 };
}

async function main(): Promise<void> {
  const targets: Target[] = [
    await startFloor(),
    await startHonoMap(),
    await startCache('cache: defaults (3 nodes, 2 replicas)'),
    await startCache('cache: 1 node, 1 replica', ['--nodes', '1', '--replicas', '1']),
    await startCache('cache: 8 nodes, 1 replica', ['--nodes', '8', '--replicas', '1']),
  ];
  if (baseline !== undefined) targets.push(await startCache('cache: defaults [baseline]', [], join(baseline, 'dist/src/main.js')));
  try {
    process.stdout.write(`preloading ${KEYS.toLocaleString('en-US')} keys into each of ${targets.length - 1} servers...\n`);
    await Promise.all(targets.slice(1).map((target) => preload(target.url)));
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
  process.stdout.write(`\nwrk -t1 -c50, ${ROUNDS} rounds of ${SECONDS} s, medians; CPU: the server process, all threads\n\n`);
  process.stdout.write('| scenario | target | req/s | x floor, paired | CPU us / request | rounds (req/s) |\n| --- | --- | ---: | ---: | ---: | --- |\n');
  for (const scenario of Object.keys(SCRIPTS)) {
    const floor = samples.get(`${scenario}|node:http floor`)!;
    for (const target of targets) {
      const list = samples.get(`${scenario}|${target.name}`)!;
      const paired = median(list.map((sample, i) => sample.rps / floor[i]!.rps));
      const rps = median(list.map((sample) => sample.rps));
      const cpu = median(list.map((sample) => sample.cpuUsPerRequest));
      process.stdout.write(`| ${scenario} | ${target.name} | ${rps.toFixed(0)} | ${paired.toFixed(2)} | ${cpu.toFixed(1)} | ${list.map((s) => s.rps.toFixed(0)).join(', ')} |\n`);
    }
  }
}

await main();
