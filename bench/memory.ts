/**
 * `npm run bench:memory`: RSS of the whole server process under --max-memory.
 * Writes 1,000,000 keys with 100-byte values (mset, 10,000 per request) into a server started
 * with --max-memory 64mb, then reports RSS against the empty process, evictions, and whether the
 * most recently written keys all read back.
 */
import { startCache } from './targets.js';

const KEYS = Number(process.env['KEYS'] ?? 1_000_000);
const MAX_MEMORY = process.env['MAX_MEMORY'] ?? '64mb';
const PER_REQUEST = Number(process.env['PER_REQUEST'] ?? 10_000);
const MIB = 1024 * 1024;

interface Stats {
  totals: { keys: number; bytes: number; evictions: number };
  process: { rssBytes: number; mainHeapUsedBytes: number; externalBytes: number };
  nodes: Array<{ id: string; heapUsedBytes: number; heapTotalBytes: number }>;
}

const value = (i: number): string => `${i}`.padStart(100, 'v');

async function stats(url: string): Promise<Stats> {
  return (await (await fetch(`${url}/stats`)).json()) as Stats;
}

const target = await startCache('cache', ['--max-memory', MAX_MEMORY]);
try {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const empty = (await stats(target.url)).process.rssBytes;
  let peak = empty;
  for (let start = 0; start < KEYS; start += PER_REQUEST) {
    const entries: Record<string, string> = {};
    for (let i = start; i < Math.min(KEYS, start + PER_REQUEST); i++) entries[`key-${i}`] = value(i);
    const response = await fetch(`${target.url}/mset`, { method: 'POST', body: JSON.stringify({ entries }) });
    if (response.status !== 200) throw new Error(`mset answered ${response.status}: ${await response.text()}`);
    if ((start / PER_REQUEST) % 10 === 0) peak = Math.max(peak, (await stats(target.url)).process.rssBytes);
  }
  const full = await stats(target.url);
  peak = Math.max(peak, full.process.rssBytes);
  const recent = Array.from({ length: 1000 }, (_, j) => `key-${KEYS - 1 - j}`);
  const read = (await (await fetch(`${target.url}/mget`, { method: 'POST', body: JSON.stringify({ keys: recent }) })).json()) as {
    values: Record<string, string | null>;
  };
  const readable = recent.filter((key) => read.values[key] === value(Number(key.slice(4)))).length;
  const limit = parseInt(MAX_MEMORY, 10) * MIB;
  const bound = (limit + empty) * 1.2;
  const mb = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MB`;
  console.log(`keys written: ${KEYS} (100-byte values), --max-memory ${MAX_MEMORY}`);
  console.log(`empty RSS ${mb(empty)}; after writing ${mb(full.process.rssBytes)}; peak sampled ${mb(peak)}`);
  console.log(`bound (limit + empty RSS) x 1.2 = ${mb(bound)}: ${peak <= bound ? 'within' : 'OVER'}`);
  console.log(`held ${full.totals.keys} keys, ${mb(full.totals.bytes)} accounted; evictions ${full.totals.evictions}`);
  console.log(`node heaps: ${full.nodes.map((n) => `${n.id} ${mb(n.heapUsedBytes)} used / ${mb(n.heapTotalBytes)}`).join(', ')}`);
  console.log(`main thread heap ${mb(full.process.mainHeapUsedBytes)}, external ${mb(full.process.externalBytes)}`);
  console.log(`most recent 1,000 keys readable: ${readable} of 1000`);
} finally {
  await target.stop();
}
