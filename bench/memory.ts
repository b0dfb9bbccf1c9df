/**
 * `npm run bench:memory`: RSS of the whole server process under --max-memory.
 * Writes 1,000,000 keys with 100-byte values through `POST /set` (autocannon, 50 connections)
 * into a server started with --max-memory 64mb, sampling the process's RSS every 250 ms; then
 * reports RSS against the empty process, evictions, and whether the most recently written keys
 * all read back. KEYS, MAX_MEMORY (e.g. 128mb), REPLICAS, VALUE_BYTES and TTL (seconds) in the
 * environment change the run; `VALUE_BYTES=1 TTL=3600` is the case that costs the heap most per
 * accounted byte.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { startCache } from './targets.js';

const KEYS = Number(process.env['KEYS'] ?? 1_000_000);
const MAX_MEMORY = process.env['MAX_MEMORY'] ?? '64mb';
const REPLICAS = process.env['REPLICAS'] ?? '2';
const VALUE_BYTES = Number(process.env['VALUE_BYTES'] ?? 100);
const TTL = process.env['TTL'];
const MIB = 1024 * 1024;

interface Stats {
  totals: { keys: number; bytes: number; evictions: number };
  process: { rssBytes: number; mainHeapUsedBytes: number };
  nodes: Array<{ id: string; heapUsedBytes: number; heapTotalBytes: number; arenaBytes: number; restarts: number; lastFailure: { reason: string } | null }>;
}

const value = (i: number): string => `${i}`.padStart(VALUE_BYTES, 'v').slice(-VALUE_BYTES);
const mb = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MB`;
const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

async function stats(url: string): Promise<Stats> {
  return (await (await fetch(`${url}/stats`)).json()) as Stats;
}

const target = await startCache('cache', ['--max-memory', MAX_MEMORY, '--replicas', REPLICAS]);
try {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const empty = rssOf(target.pid);
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssOf(target.pid)), 250);
  let next = 0;
  const result = await autocannon({
    url: target.url,
    connections: 50,
    amount: KEYS,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const i = next++;
          return { ...request, path: `/set?key=key-${i}&value=${value(i)}${TTL === undefined ? '' : `&ttl=${TTL}`}` };
        },
      },
    ],
  });
  clearInterval(sampler);
  const full = await stats(target.url);
  const final = rssOf(target.pid);
  const peak = Math.max(...samples, final);
  const recent = Array.from({ length: 1000 }, (_, j) => `key-${KEYS - 1 - j}`);
  const read = (await (await fetch(`${target.url}/mget`, { method: 'POST', body: JSON.stringify({ keys: recent }) })).json()) as {
    values: Record<string, string | null>;
  };
  const readable = recent.filter((key) => read.values[key] === value(Number(key.slice(4)))).length;
  const bound = (parseInt(MAX_MEMORY, 10) * MIB + empty) * 1.2;
  console.log(`${KEYS} writes of ${VALUE_BYTES}-byte values${TTL === undefined ? '' : ` with ttl ${TTL} s`} via POST /set at ${Math.round(result.requests.average)} req/s; ${result['2xx']} answered 2xx, ${result.non2xx} other, ${result.errors} errors`);
  console.log(`--max-memory ${MAX_MEMORY} --replicas ${REPLICAS}: empty RSS ${mb(empty)}, peak ${mb(peak)}, after writing ${mb(final)}`);
  console.log(`bound (limit + empty RSS) x 1.2 = ${mb(bound)}: peak ${peak <= bound ? 'within' : 'OVER'}, final ${final <= bound ? 'within' : 'OVER'}`);
  console.log(`held ${full.totals.keys} keys, ${mb(full.totals.bytes)} accounted; evictions ${full.totals.evictions}`);
  console.log(`node heaps: ${full.nodes.map((n) => `${n.id} ${mb(n.heapUsedBytes)} used / ${mb(n.heapTotalBytes)}, arena ${mb(n.arenaBytes)}`).join('; ')}; main heap ${mb(full.process.mainHeapUsedBytes)}`);
  const restarts = full.nodes.reduce((sum, n) => sum + n.restarts, 0);
  console.log(`node restarts: ${restarts}${restarts > 0 ? ` (${full.nodes.map((n) => n.lastFailure?.reason).filter(Boolean).join('; ')})` : ''}`);
  console.log(`most recent 1,000 keys readable: ${readable} of 1000`);
} finally {
  await target.stop();
}
