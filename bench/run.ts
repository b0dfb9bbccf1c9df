/**
 * `npm run bench`: every scenario (bench/workload.ts) against the cache in several
 * configurations and against two baselines, the bare node:http floor and a Hono app holding a
 * Map, all started as separate processes on 127.0.0.1. Rounds are interleaved (each round runs
 * every target once per scenario, in an order that rotates), so the machine's drift hits all
 * alike. Reports medians, the ratio to the floor, and whether the performance targets are met;
 * writes bench/results/<time>.json, .md and .svg.
 *
 *   npm run bench -- [--quick] [--rounds N] [--seconds S] [--connections C] [--piscina]
 *                    [--scenario TEXT] [--target TEXT] [--baseline DIR] [--no-resp]
 *
 * --quick (about a minute): one round of 1 s, and only 1 and 8 nodes in the node sweep.
 * --scenario / --target keep the scenarios / cache configurations whose name contains TEXT.
 * --baseline DIR: every cache configuration runs a second time from another checkout's build
 *   (DIR/dist/src/main.js, e.g. a `git worktree` of an older commit after `npm run build`
 *   there), interleaved with this tree's, to compare two versions in one run.
 * --no-resp: leave out the RESP rows (bench/resp.ts: redis-benchmark against the cache's RESP
 *   port and a redis-server, when both are installed).
 */
import autocannon, { type Request } from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { median, numberFlag, textFlag } from './args.js';
import { chart } from './chart.js';
import { benchResp } from './resp.js';
import { startCache, startFloor, startHonoMap, type Target } from './targets.js';
import { KEYS, preload, SCENARIOS, type Scenario } from './workload.js';

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  /** Connection errors, timeouts and unexpected statuses. */
  errors: number;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ROUNDS = numberFlag('rounds', quick ? 1 : 3);
const SECONDS = numberFlag('seconds', quick ? 1 : 4);
const CONNECTIONS = numberFlag('connections', 50);

const FLOOR = 'node:http floor';
const HONO = 'Hono + Map';
const DEFAULTS = 'cache: 3 nodes, 2 replicas (defaults)';
const R1 = 'cache: 3 nodes, 1 replica';
const sweepName = (nodes: number, replicas: number): string =>
  `cache: ${nodes} node${nodes > 1 ? 's' : ''}, ${replicas} replica${replicas > 1 ? 's' : ''}`;

/** A cache configuration, and the scenarios it runs (the baselines run every scenario). */
interface Config {
  name: string;
  args: string[];
  scenarios: string[];
  /** The server to run, when it is another checkout's build (--baseline). */
  main?: string;
}
const ALL = SCENARIOS.map((s) => s.name);
const SWEEP = ['GET hit, uniform', 'SET'];
const CONFIGS: Config[] = [
  { name: DEFAULTS, args: [], scenarios: ALL },
  { name: R1, args: ['--replicas', '1'], scenarios: ['GET hit, uniform', 'SET', '90/10 GET/SET'] },
  // More nodes must not cost throughput: the same load over 1 to 8 nodes.
  ...(quick ? [1, 8] : [1, 2, 4, 8]).map((n) => ({ name: sweepName(n, 1), args: ['--nodes', `${n}`, '--replicas', '1'], scenarios: SWEEP })),
  ...(quick ? [] : [2, 4, 8].map((n) => ({ name: sweepName(n, 2), args: ['--nodes', `${n}`, '--replicas', '2'], scenarios: SWEEP }))),
  ...(args.includes('--piscina') ? [{ name: 'cache: 3 piscina nodes', args: ['--node-transport', 'piscina'], scenarios: ALL }] : []),
].filter((c) => c.name.includes(textFlag('target') ?? ''));
const baseline = textFlag('baseline');
if (baseline !== undefined) {
  const main = resolve(baseline, 'dist/src/main.js');
  CONFIGS.push(...CONFIGS.map((c) => ({ ...c, name: `${c.name} [baseline]`, main })));
}
const scenarios = SCENARIOS.filter((s) => s.name.includes(textFlag('scenario') ?? ''));
const runs = (target: Target, scenario: Scenario): boolean =>
  target.name === FLOOR || target.name === HONO || CONFIGS.find((c) => c.name === target.name)!.scenarios.includes(scenario.name);

/** Each connection's requests, drawn once per scenario: every target gets the same ones. */
const drawn = new Map<Scenario, Request[][]>();

async function measure(target: Target, scenario: Scenario): Promise<Sample> {
  let lists = drawn.get(scenario);
  if (lists === undefined) drawn.set(scenario, (lists = Array.from({ length: CONNECTIONS }, () => scenario.requests())));
  let next = 0;
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: lists[0]!.slice(0, 1),
    setupClient: (client) => client.setRequests(lists[next++ % lists.length]!),
  });
  // The floor answers 200 to everything.
  const unexpected = scenario.expects404 && target.name !== FLOOR ? result['2xx'] + result['5xx'] : result.non2xx;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + unexpected,
  };
}

/** One line, rewritten in place on a terminal. */
function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
  else process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  progress(`starting ${CONFIGS.length + 2} servers and preloading ${KEYS.toLocaleString('en-US')} keys into each cache...`);
  const baselines = await Promise.all([startFloor(), startHonoMap()]);
  const caches = await Promise.all(CONFIGS.map((config) => startCache(config.name, config.args, config.main)));
  const targets = [...baselines, ...caches];
  const samples = new Map<string, Sample[]>();
  const id = (scenario: string, target: string): string => `${scenario}|${target}`;
  try {
    await Promise.all(targets.slice(1).map((target) => preload(target.url)));
    const perRound = scenarios.reduce((n, scenario) => n + targets.filter((t) => runs(t, scenario)).length, 0);
    const total = ROUNDS * perRound;
    let done = 0;
    for (const target of targets) await measure(target, { ...scenarios[0]!, name: 'warm-up' });
    const measuring = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of scenarios) {
        const here = targets.filter((t) => runs(t, scenario));
        // Rotated each round, so that no target always runs first (or last) in a scenario.
        const order = here.map((_, i) => here[(i + round) % here.length]!);
        for (const target of order) {
          const sample = await measure(target, scenario);
          samples.set(id(scenario.name, target.name), [...(samples.get(id(scenario.name, target.name)) ?? []), sample]);
          done++;
          const left = Math.ceil((((Date.now() - measuring) / done) * (total - done)) / 1000);
          progress(
            `[${done}/${total}] round ${round + 1}/${ROUNDS} · ${scenario.name} · ${target.name}: ` +
              `${Math.round(sample.rps).toLocaleString('en-US')} req/s, p99 ${sample.p99} ms · ${left} s left`,
          );
        }
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
  if (process.stderr.isTTY) process.stderr.write('\n');

  const ratioTo = (baseline: string, list: readonly Sample[], scenario: string): number => {
    const base = samples.get(id(scenario, baseline))!;
    return median(list.map((s, i) => s.rps / base[i]!.rps));
  };
  const rows = scenarios.flatMap((scenario) => {
    const floorRps = median(samples.get(id(scenario.name, FLOOR))!.map((s) => s.rps));
    return targets
      .filter((target) => runs(target, scenario))
      .map((target) => {
        const list = samples.get(id(scenario.name, target.name))!;
        const rps = median(list.map((s) => s.rps));
        return {
          scenario: scenario.name,
          target: target.name,
          rps: Math.round(rps),
          p50: median(list.map((s) => s.p50)),
          p99: median(list.map((s) => s.p99)),
          ratio: Number((rps / floorRps).toFixed(3)),
          // Each round measures every target back to back: the median of the per-round ratios
          // is less exposed to the machine's drift than the ratio of the medians.
          pairedRatio: Number(ratioTo(FLOOR, list, scenario.name).toFixed(3)),
          vsHonoMap: Number(ratioTo(HONO, list, scenario.name).toFixed(3)),
          rounds: list.map((s) => Math.round(s.rps)),
          errors: list.reduce((sum, s) => sum + s.errors, 0),
        };
      });
  });
  const row = (scenario: string, target: string): (typeof rows)[number] | undefined =>
    rows.find((r) => r.scenario === scenario && r.target === target);

  // The targets of the performance work, judged on this run's figures.
  const verdicts: Array<{ goal: string; figure: string; met: boolean }> = [];
  const atLeast = (goal: string, figure: number | undefined, bound: number, unit = 'x'): void => {
    if (figure !== undefined) verdicts.push({ goal, figure: `${figure.toFixed(2)}${unit}`, met: figure >= bound });
  };
  for (const scenario of ['GET hit, uniform', 'GET hit, Zipf']) {
    atLeast(`${scenario}, defaults >= 1.00x floor`, row(scenario, DEFAULTS)?.pairedRatio, 1.0);
    const p99 = row(scenario, DEFAULTS)?.p99;
    if (p99 !== undefined) verdicts.push({ goal: `${scenario}, defaults: p99 <= 10 ms`, figure: `${p99} ms`, met: p99 <= 10 });
  }
  atLeast('SET, 1 replica >= 0.95x floor', row('SET', R1)?.pairedRatio, 0.95);
  atLeast('SET, 2 replicas >= 0.85x floor', row('SET', DEFAULTS)?.pairedRatio, 0.85);
  for (const scenario of SWEEP) {
    for (const replicas of [1, 2]) {
      // One node holds one copy whatever --replicas says: both compare with it.
      const eight = samples.get(id(scenario, sweepName(8, replicas)));
      if (!samples.has(id(scenario, sweepName(1, 1))) || eight === undefined) continue;
      atLeast(`${scenario}: 8 nodes, ${replicas} replica${replicas > 1 ? 's' : ''} >= 0.95x of 1 node`, ratioTo(sweepName(1, 1), eight, scenario), 0.95);
    }
  }

  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}`;
  const setup = `${ROUNDS} round${ROUNDS > 1 ? 's' : ''} of ${SECONDS} s per scenario and target, ${CONNECTIONS} connections, medians; ${machine}`;
  const table = [
    setup,
    '',
    '| scenario | target | req/s | p50 ms | p99 ms | x floor | x floor, paired | x Hono + Map, paired | rounds (req/s) | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.ratio.toFixed(2)} | ${r.pairedRatio.toFixed(2)} | ${r.vsHonoMap.toFixed(2)} | ${r.rounds.join(', ')} | ${r.errors} |`,
    ),
    '',
    '| target | this run | |',
    '| --- | ---: | --- |',
    ...verdicts.map((v) => `| ${v.goal} | ${v.figure} | ${v.met ? 'met' : 'missed'} |`),
  ].join('\n');
  process.stdout.write(`\n${table}\n\ntook ${Math.round((Date.now() - started) / 1000)} s\n`);

  const resultsDir = new URL('../../bench/results/', import.meta.url);
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const palette = ['#c00', '#e69f00', '#0072b2', '#56b4e9', '#009e73', '#66c2a5', '#8da0cb', '#cc79a7', '#999', '#555', '#b15928', '#333'];
  const colours = new Map(targets.map((t, i) => [t.name, palette[i % palette.length]!]));
  writeFileSync(new URL(`${stamp}.json`, resultsDir), `${JSON.stringify({ machine, rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, rows, verdicts }, null, 2)}\n`);
  writeFileSync(new URL(`${stamp}.md`, resultsDir), `${table}\n`);
  const title = 'req/s against the node:http floor (median of the per-round ratios; the median req/s)';
  writeFileSync(new URL(`${stamp}.svg`, resultsDir), chart(title, setup, rows.map((r) => ({ ...r, ratio: r.pairedRatio })), colours));
  process.stdout.write(`results: bench/results/${stamp}.json, .md, .svg\n`);
  // The RESP port against redis-server (bench/resp.ts), unless asked not to.
  if (!args.includes('--no-resp')) process.stdout.write(`\n${await benchResp(args)}\n`);
}

await main();
