/**
 * `npm run bench:near-cache`: the cache in front of a redis-server (--backend), against Webdis in
 * front of the same redis-server, both over HTTP. Reads are Zipf(0.99) over `--keys` preloaded
 * keys (1,000,000 by default) with the near cache holding a tenth of them (--cache-size); wrk
 * (one thread, 50 connections, a Lua script drawing the ranks) drives both, rounds interleaved,
 * medians, with the cache run a third time with --near-cache off (every read from the backend).
 * Reported: GET req/s of each and their ratios, the near cache's hit ratio and backend
 * reads per request over the measured rounds. Then the invalidation delay: a key changed through
 * a second cache server on the same backend (or by redis-cli), and the time until the first
 * server answers the new value, p50/p99 of `--changes` changes. Needs redis-server, webdis, wrk.
 *
 *   npm run bench:near-cache -- [--keys 1000000] [--rounds 3] [--seconds 5] [--changes 500]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { median, numberFlag } from './args.js';
import { startRedis } from './resp.js';
import { startCache, type Target } from './targets.js';
import { preloadRedis, startWebdis } from './webdis.js';

const KEYS = numberFlag('keys', 1_000_000);
const ROUNDS = numberFlag('rounds', 3);
const SECONDS = numberFlag('seconds', 5);
const CHANGES = numberFlag('changes', 500);
const NODES = 3;
const VALUE = 'v'.repeat(100);
const dir = mkdtempSync(join(tmpdir(), 'bench-near-'));

/** A wrk script whose requests draw key ranks from Zipf(0.99) over KEYS (a CDF table, binary search). */
function zipfScript(path: (key: string) => string): string {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(
    file,
    `local n, s, cdf = ${KEYS}, 0.99, {}
local sum = 0
for k = 1, n do sum = sum + 1 / k ^ s; cdf[k] = sum end
for k = 1, n do cdf[k] = cdf[k] / sum end
request = function()
  local u, lo, hi = math.random(), 1, n
  while lo < hi do local mid = math.floor((lo + hi) / 2); if cdf[mid] < u then lo = mid + 1 else hi = mid end end
  return wrk.format("GET", "${path('" .. (lo - 1) .. "')}")
end
`,
  );
  return file;
}

function wrk(url: string, script: string): number {
  const out = execFileSync('wrk', ['-t1', '-c50', `-d${SECONDS}s`, '-s', script, url], { encoding: 'utf8' });
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
}

interface BackendFigures {
  hits: number;
  misses: number;
  fetches: number;
}

async function figures(cache: Target): Promise<BackendFigures> {
  const stats = (await (await fetch(`${cache.url}/stats`)).json()) as { totals: { hits: number }; backend: { misses: number; fetches: number } };
  return { hits: stats.totals.hits, misses: stats.backend.misses, fetches: stats.backend.fetches };
}

/** Delays (ms) from a write acknowledged through `writer` to `reader` answering the new value. */
async function invalidationDelays(reader: Target, write: (key: string, value: string) => Promise<void>): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const key = `changing-${i % 20}`;
    await write(key, `old-${i}`);
    while (!(await fetch(`${reader.url}/get?key=${key}`).then((r) => r.text())).includes(`old-${i}`));
    // Held locally now; the change, then the first read that sees it.
    await write(key, `new-${i}`);
    const acknowledged = performance.now();
    while (!(await fetch(`${reader.url}/get?key=${key}`).then((r) => r.text())).includes(`new-${i}`));
    delays.push(performance.now() - acknowledged);
  }
  return delays;
}

const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? 0;

async function main(): Promise<void> {
  const redis = await startRedis();
  process.stdout.write(`preloading ${KEYS.toLocaleString('en-US')} keys into redis-server...\n`);
  await preloadRedis(redis.port, KEYS, VALUE);
  const backend = `redis://127.0.0.1:${redis.port}`;
  const cache = await startCache('cache --backend', ['--backend', backend, '--nodes', `${NODES}`, '--cache-size', `${Math.ceil(KEYS / 10 / NODES)}`, '--max-memory', '0']);
  const other = await startCache('second cache server', ['--backend', backend]);
  const proxy = await startCache('cache --near-cache off', ['--backend', backend, '--near-cache', 'off']);
  const webdis = await startWebdis(redis.port);
  const direct = new Redis({ port: redis.port, host: '127.0.0.1' });
  try {
    const cacheScript = zipfScript((key) => `/get?key=key-${key}`);
    const webdisScript = zipfScript((key) => `/GET/key-${key}`);
    process.stdout.write('warming the near cache...\n');
    wrk(cache.url, cacheScript);
    type Name = 'cache' | 'webdis' | 'near cache off';
    const rates: Record<Name, number[]> = { cache: [], webdis: [], 'near cache off': [] };
    const runs: Record<Name, () => number> = {
      cache: () => wrk(cache.url, cacheScript),
      webdis: () => wrk(webdis.url, webdisScript),
      'near cache off': () => wrk(proxy.url, cacheScript),
    };
    const names = Object.keys(runs) as Name[];
    const before = await figures(cache);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + round) % names.length]!;
        rates[name].push(runs[name]());
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS}: ${names.map((name) => `${name} ${rates[name].at(-1)!.toFixed(0)}`).join(', ')} req/s\n`);
    }
    const after = await figures(cache);
    const reads = after.hits - before.hits + (after.misses - before.misses);
    const cacheRate = median(rates.cache);
    const webdisRate = median(rates.webdis);
    const proxyRate = median(rates['near cache off']);
    process.stdout.write(
      `\nGET, Zipf(0.99) over ${KEYS.toLocaleString('en-US')} keys, near cache ${Math.ceil(KEYS / 10).toLocaleString('en-US')} keys:\n` +
        `  cache --backend ${cacheRate.toFixed(0)} req/s, Webdis + the same redis-server ${webdisRate.toFixed(0)} req/s: ${(cacheRate / webdisRate).toFixed(2)}x\n` +
        `  the cache with --near-cache off ${proxyRate.toFixed(0)} req/s: the near cache gives ${(cacheRate / proxyRate).toFixed(2)}x\n` +
        `  hit ratio ${(1 - (after.misses - before.misses) / reads).toFixed(3)}, backend reads per request ${((after.fetches - before.fetches) / reads).toFixed(3)} (${reads.toLocaleString('en-US')} reads)\n`,
    );
    const throughOther = await invalidationDelays(cache, async (key, value) => void (await fetch(`${other.url}/set?key=${key}&value=${value}`, { method: 'POST' })));
    const byRedis = await invalidationDelays(cache, async (key, value) => void (await direct.set(key, value)));
    for (const [what, delays] of [['written through a second cache server', throughOther], ['written by a client of redis-server', byRedis]] as const) {
      process.stdout.write(`  invalidation delay, ${what}: p50 ${percentile(delays, 0.5).toFixed(2)} ms, p99 ${percentile(delays, 0.99).toFixed(2)} ms, max ${Math.max(...delays).toFixed(2)} ms (${delays.length} changes)\n`);
    }
  } finally {
    direct.disconnect();
    webdis.stop();
    await Promise.all([cache.stop(), other.stop(), proxy.stop()]);
    await redis.stop();
  }
}

await main();
