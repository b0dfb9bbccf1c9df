/**
 * `npm run bench:recency`: the hit ratio of eviction policies whose readers only mark an entry
 * (CLOCK's bit, a sampled-LRU tick; the sampled LRU is the node's own, workers/eviction.ts) against exact LRU, on Zipf(0.99) reads of 100,000 keys with
 * the cache at 10% of them, read-through (a miss stores the key). What a node can use once the
 * HTTP thread reads its entries in shared memory and can no longer reorder its LRU list.
 *
 *   npm run bench:recency -- [--rounds N] [--keys N] [--accesses N]
 */
import { median, numberFlag } from './args.js';
import { Clock, ExactLru, SampledLru, type Policy } from './policies.js';
import { zipf } from './workload.js';

const ROUNDS = numberFlag('rounds', 3);
const KEYS = numberFlag('keys', 100_000);
const ACCESSES = numberFlag('accesses', 2_000_000);
const CAPACITY = Math.floor(KEYS / 10);

// The node evicts with SampledLru(5) on millisecond ticks: 100 accesses a tick stands for a
// node answering 100,000 reads a second.
const policies = (): Policy[] => [
  new ExactLru(CAPACITY),
  new Clock(CAPACITY),
  new SampledLru(CAPACITY, 5),
  new SampledLru(CAPACITY, 5, Math.random, 100),
  new SampledLru(CAPACITY, 10),
];
const ratios = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  const draw = zipf(KEYS);
  const trace = Int32Array.from({ length: ACCESSES * 1.25 }, draw);
  for (const policy of policies()) {
    // The first fifth warms the cache up; the rest is counted.
    let hits = 0;
    for (let i = 0; i < trace.length; i++) if (policy.access(trace[i]!) && i >= ACCESSES / 4) hits++;
    ratios.set(policy.name, [...(ratios.get(policy.name) ?? []), hits / ACCESSES]);
  }
}
const lru = ratios.get('exact LRU')!;
process.stdout.write(`Zipf(0.99) over ${KEYS.toLocaleString('en-US')} keys, cache of ${CAPACITY.toLocaleString('en-US')}, ${ACCESSES.toLocaleString('en-US')} counted reads, ${ROUNDS} rounds, medians\n\n`);
process.stdout.write('| policy | hit ratio | x exact LRU (paired) | rounds |\n| --- | ---: | ---: | --- |\n');
for (const [name, list] of ratios) {
  const paired = median(list.map((r, i) => r / lru[i]!));
  process.stdout.write(`| ${name} | ${median(list).toFixed(4)} | ${paired.toFixed(4)} | ${list.map((r) => r.toFixed(4)).join(', ')} |\n`);
}
