/**
 * The requests of `npm run bench`: which keys, which values, and how each scenario draws them.
 *
 * Every connection gets its own list of requests, drawn at random when autocannon sets the
 * connection up, and cycles through it. autocannon builds each listed request once, so the load
 * generator costs the same per request as with one fixed request (floor, one host: 35-45k req/s
 * either way), where a per-request `setupRequest` rebuilds each request and held the generator
 * to 28-30k req/s, below what the floor can answer.
 */
import type { Request } from 'autocannon';

/** Keys preloaded for the seed routes: key-0 .. key-99999. */
export const KEYS = 100_000;
/** Keys preloaded with 1 KiB values for the /keys scenarios. */
export const KIB_KEYS = 1000;
/** Requests in each connection's list. */
const PER_CONNECTION = 1000;

export const key = (i: number): string => `key-${i}`;
export const value = (i: number): string => `value-${i}`.padEnd(32, '.');
export const kibKey = (i: number): string => `kib-${i}`;
export const KIB_VALUE = 'k'.repeat(1024);

const JSON_HEADERS = { 'content-type': 'application/json' };
const uniform = (n: number): number => Math.floor(Math.random() * n);

/**
 * Zipf-distributed key indexes (exponent `s`, 0.99 as in YCSB): rank r is drawn with probability
 * proportional to 1/r^s, and ranks map to keys through a shuffle, so the hot keys are spread over
 * the ring rather than being key-0, key-1, ... At 100,000 keys the hottest key gets 8% of the
 * draws, the hottest 100 keys 41% and the hottest 1,000 60%.
 */
export function zipf(n: number, s = 0.99): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let rank = 1; rank <= n; rank++) {
    sum += 1 / rank ** s;
    cdf[rank - 1] = sum;
  }
  const keyOfRank = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = uniform(i + 1);
    [keyOfRank[i], keyOfRank[j]] = [keyOfRank[j]!, keyOfRank[i]!];
  }
  return () => {
    const u = Math.random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return keyOfRank[lo]!;
  };
}

export interface Scenario {
  name: string;
  /** One connection's requests. */
  requests(): Request[];
  /** The scenario's answers are 404 by design (misses). */
  expects404?: boolean;
}

const list = (make: () => Request): Request[] => Array.from({ length: PER_CONNECTION }, make);
const get = (i: number): Request => ({ method: 'GET', path: `/get?key=${key(i)}` });
const set = (i: number): Request => ({ method: 'POST', path: `/set?key=${key(i)}&value=${value(i + 1)}` });
const zipfKey = zipf(KEYS);

export const SCENARIOS: Scenario[] = [
  { name: 'GET hit, uniform', requests: () => list(() => get(uniform(KEYS))) },
  { name: 'GET hit, Zipf', requests: () => list(() => get(zipfKey())) },
  { name: 'GET miss', requests: () => list(() => ({ method: 'GET', path: `/get?key=absent-${uniform(1e9)}` })), expects404: true },
  { name: 'SET', requests: () => list(() => set(uniform(KEYS))) },
  { name: '90/10 GET/SET', requests: () => list(() => (Math.random() < 0.1 ? set : get)(uniform(KEYS))) },
  { name: 'PUT /keys 1 KiB', requests: () => list(() => ({ method: 'PUT', path: `/keys/${kibKey(uniform(KIB_KEYS))}`, body: KIB_VALUE })) },
  { name: 'GET /keys 1 KiB', requests: () => list(() => ({ method: 'GET', path: `/keys/${kibKey(uniform(KIB_KEYS))}` })) },
  {
    name: 'mget 100 keys',
    // Bodies are larger here: 20 distinct ones per connection.
    requests: () =>
      Array.from({ length: 20 }, () => ({
        method: 'POST',
        path: '/mget',
        headers: JSON_HEADERS,
        body: JSON.stringify({ keys: Array.from({ length: 100 }, () => key(uniform(KEYS))) }),
      })),
  },
];

/** Writes every key the scenarios read, through `POST /mset` in batches of 10,000. */
export async function preload(url: string): Promise<void> {
  const batches: Array<Record<string, string>> = [];
  for (let start = 0; start < KEYS; start += 10_000) {
    batches.push(Object.fromEntries(Array.from({ length: Math.min(10_000, KEYS - start) }, (_, j) => [key(start + j), value(start + j)])));
  }
  batches.push(Object.fromEntries(Array.from({ length: KIB_KEYS }, (_, i) => [kibKey(i), KIB_VALUE])));
  for (const entries of batches) {
    const response = await fetch(`${url}/mset`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ entries }) });
    if (!response.ok) throw new Error(`preload of ${url} failed: ${response.status} ${await response.text()}`);
  }
}
