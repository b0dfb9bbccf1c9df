/**
 * `npm run bench:memory [-- --only bound|per-key|leak]`: the server process's RSS (main thread,
 * node threads and values, all of it) in three runs, each against a fresh server.
 *
 * - bound: 1,000,000 writes of 100-byte values through `POST /set` into a server started with
 *   --max-memory 64mb, sampling RSS every 250 ms; RSS must stay within (64 MB + the empty
 *   process) x 1.2, and the most recent keys must read back. KEYS, MAX_MEMORY, REPLICAS,
 *   VALUE_BYTES and TTL (seconds) in the environment change it; `VALUE_BYTES=1 TTL=3600` is the
 *   case that costs the heap most per accounted byte.
 * - per-key: 1,000,000 distinct keys with 100-byte values, `--replicas 1`, no eviction (the
 *   default --max-memory): RSS per key over the empty process, against the raw key + value bytes.
 * - leak: on that same server, 200,000 requests of warm-up, then 1,000,000 mixed requests (90%
 *   GET, 10% SET of the same keys, with new values): RSS after them against RSS after warm-up.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { textFlag } from './args.js';
import { startCache, type Target } from './targets.js';

const MIB = 1024 * 1024;
const only = textFlag('only');
const PARTS = ['bound', 'per-key', 'leak'];
if (only !== undefined && !PARTS.includes(only)) throw new Error(`--only takes one of ${PARTS.join(', ')}; got '${only}'`);

interface Stats {
  totals: { keys: number; bytes: number; evictions: number };
  process: { rssBytes: number; mainHeapUsedBytes: number };
  nodes: Array<{ id: string; heapUsedBytes: number; heapTotalBytes: number; arenaBytes: number; restarts: number; lastFailure: { reason: string } | null }>;
}

const mb = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MB`;
const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const valueOf = (i: number, bytes: number): string => `${i}`.padStart(bytes, 'v').slice(-bytes);

async function stats(url: string): Promise<Stats> {
  return (await (await fetch(`${url}/stats`)).json()) as Stats;
}

function heaps(full: Stats): string {
  const nodes = full.nodes.map((n) => `${n.id} ${mb(n.heapUsedBytes)} used / ${mb(n.heapTotalBytes)}, arena ${mb(n.arenaBytes)}`);
  return `node heaps: ${nodes.join('; ')}; main heap ${mb(full.process.mainHeapUsedBytes)}`;
}

function restarts(full: Stats): string {
  const count = full.nodes.reduce((sum, n) => sum + n.restarts, 0);
  return `node restarts: ${count}${count > 0 ? ` (${full.nodes.map((n) => n.lastFailure?.reason).filter(Boolean).join('; ')})` : ''}`;
}

/** `count` requests from 50 connections; `path(i)` gives the i-th request's method and path. */
async function load(url: string, count: number, request: (i: number) => { method: 'GET' | 'POST'; path: string }): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url,
    connections: 50,
    amount: count,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, ...request(next++) }) }],
  });
}

/** RSS once the heaps have settled: the lowest of a few samples a quarter of a second apart. */
async function settledRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 8; i++) {
    await sleep(250);
    samples.push(rssOf(pid));
  }
  return Math.min(...samples);
}

async function bound(): Promise<void> {
  const keys = Number(process.env['KEYS'] ?? 1_000_000);
  const maxMemory = process.env['MAX_MEMORY'] ?? '64mb';
  const replicas = process.env['REPLICAS'] ?? '2';
  const valueBytes = Number(process.env['VALUE_BYTES'] ?? 100);
  const ttl = process.env['TTL'];
  const target = await startCache('cache', ['--max-memory', maxMemory, '--replicas', replicas]);
  try {
    await sleep(500);
    const empty = rssOf(target.pid);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssOf(target.pid)), 250);
    const result = await load(target.url, keys, (i) => ({
      method: 'POST',
      path: `/set?key=key-${i}&value=${valueOf(i, valueBytes)}${ttl === undefined ? '' : `&ttl=${ttl}`}`,
    }));
    clearInterval(sampler);
    const full = await stats(target.url);
    const final = rssOf(target.pid);
    const peak = Math.max(...samples, final);
    const recent = Array.from({ length: 1000 }, (_, j) => `key-${keys - 1 - j}`);
    const read = (await (await fetch(`${target.url}/mget`, { method: 'POST', body: JSON.stringify({ keys: recent }) })).json()) as {
      values: Record<string, string | null>;
    };
    const readable = recent.filter((key) => read.values[key] === valueOf(Number(key.slice(4)), valueBytes)).length;
    const limit = (parseInt(maxMemory, 10) * MIB + empty) * 1.2;
    console.log(`\n## bound: --max-memory ${maxMemory} --replicas ${replicas}`);
    console.log(`${keys} writes of ${valueBytes}-byte values${ttl === undefined ? '' : ` with ttl ${ttl} s`} via POST /set at ${Math.round(result.requests.average)} req/s; ${result['2xx']} answered 2xx, ${result.non2xx} other, ${result.errors} errors`);
    console.log(`empty RSS ${mb(empty)}, peak ${mb(peak)}, after writing ${mb(final)}`);
    console.log(`bound (limit + empty RSS) x 1.2 = ${mb(limit)}: peak ${peak <= limit ? 'within' : 'OVER'}, final ${final <= limit ? 'within' : 'OVER'}`);
    console.log(`held ${full.totals.keys} keys, ${mb(full.totals.bytes)} accounted; evictions ${full.totals.evictions}`);
    console.log(heaps(full));
    console.log(restarts(full));
    console.log(`most recent 1,000 keys readable: ${readable} of 1000`);
  } finally {
    await target.stop();
  }
}

const KEYS = 1_000_000;
const VALUE_BYTES = 100;
const WARM_UP = 200_000;
const MIXED = 1_000_000;

async function perKeyAndLeak(parts: readonly string[]): Promise<void> {
  const target: Target = await startCache('cache', ['--replicas', '1']);
  try {
    const empty = await settledRss(target.pid);
    const key = (i: number): string => `key-${i}`;
    const written = await load(target.url, KEYS, (i) => ({ method: 'POST', path: `/set?key=${key(i)}&value=${valueOf(i, VALUE_BYTES)}` }));
    const full = await stats(target.url);
    const filled = await settledRss(target.pid);
    let raw = 0;
    for (let i = 0; i < KEYS; i++) raw += key(i).length + VALUE_BYTES;
    if (parts.includes('per-key')) {
      console.log(`\n## per-key: ${KEYS} keys, ${VALUE_BYTES}-byte values, --replicas 1, 3 nodes`);
      console.log(`written at ${Math.round(written.requests.average)} req/s; ${written['2xx']} answered 2xx, ${written.non2xx} other, ${written.errors} errors`);
      console.log(`held ${full.totals.keys} keys, evictions ${full.totals.evictions}; ${heaps(full)}`);
      console.log(`RSS empty ${mb(empty)}, with the keys ${mb(filled)}: ${((filled - empty) / KEYS).toFixed(0)} bytes per key`);
      console.log(`raw key + value bytes: ${(raw / KEYS).toFixed(1)} per key, so ${((filled - empty) / raw).toFixed(2)}x the raw bytes`);
    }
    if (!parts.includes('leak')) return;
    // Same keys, new values on the writes: the data stays the same size, so RSS should not grow.
    let round = 0;
    const mixed = (i: number): { method: 'GET' | 'POST'; path: string } => {
      const k = Math.floor(Math.random() * KEYS);
      return i % 10 === 9 ? { method: 'POST', path: `/set?key=${key(k)}&value=${valueOf(k + round, VALUE_BYTES)}` } : { method: 'GET', path: `/get?key=${key(k)}` };
    };
    round = 1;
    await load(target.url, WARM_UP, mixed);
    const warm = await settledRss(target.pid);
    round = 2;
    const result = await load(target.url, MIXED, mixed);
    const after = await settledRss(target.pid);
    const end = await stats(target.url);
    console.log(`\n## leak: ${WARM_UP} requests of warm-up, then ${MIXED} mixed (90% GET, 10% SET of the same ${KEYS} keys)`);
    console.log(`mixed at ${Math.round(result.requests.average)} req/s; ${result['2xx']} answered 2xx, ${result.non2xx} other, ${result.errors} errors`);
    console.log(`RSS after warm-up ${mb(warm)}, after the mixed requests ${mb(after)}: ${(((after - warm) / warm) * 100).toFixed(1)}% growth`);
    console.log(`held ${end.totals.keys} keys; ${heaps(end)}`);
    console.log(restarts(end));
  } finally {
    await target.stop();
  }
}

if (only === undefined || only === 'bound') await bound();
if (only === undefined || only !== 'bound') await perKeyAndLeak(only === undefined ? ['per-key', 'leak'] : [only]);
