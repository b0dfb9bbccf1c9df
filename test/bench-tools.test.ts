import t from 'tap';
import { chart } from '../bench/chart.js';
import { Clock, ExactLru, SampledLru, type Policy } from '../bench/policies.js';
import { zipf } from '../bench/workload.js';

t.test('zipf draws every index in range, skewed as 1/rank^0.99', async (t) => {
  const draw = zipf(1000);
  const counts = new Map<number, number>();
  const draws = 200_000;
  for (let i = 0; i < draws; i++) {
    const k = draw();
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  t.ok([...counts.keys()].every((k) => Number.isInteger(k) && k >= 0 && k < 1000), 'indexes in [0, 1000)');
  const sorted = [...counts.values()].sort((a, b) => b - a);
  // Expected: the hottest index 12.9% of the draws, the ten hottest 38.2%.
  t.ok(Math.abs(sorted[0]! / draws - 0.129) < 0.01, `hottest ${((sorted[0]! / draws) * 100).toFixed(1)}%`);
  const ten = sorted.slice(0, 10).reduce((a, b) => a + b, 0) / draws;
  t.ok(Math.abs(ten - 0.382) < 0.015, `ten hottest ${(ten * 100).toFixed(1)}%`);
  t.ok(counts.size > 900, `${counts.size} distinct indexes drawn`);
});

t.test('the chart draws one bar per row, scaled to the floor, with names escaped', async (t) => {
  const svg = chart('a <title>', 'setup', [
    { scenario: 'GET', target: 'floor', rps: 20_000, ratio: 1 },
    { scenario: 'GET', target: 'cache & co', rps: 10_000, ratio: 0.5 },
    { scenario: 'SET', target: 'floor', rps: 18_000, ratio: 1 },
  ], new Map([['floor', '#c00']]));
  t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.equal(svg.match(/<rect x=/g)?.length, 3, 'three bars');
  t.match(svg, /cache &amp; co/);
  t.match(svg, /a &lt;title&gt;/);
  t.match(svg, /0\.50x · 10,000 req\/s/);
  const widths = [...svg.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
  t.equal(widths[1]! * 2, widths[0], 'a half-floor bar is half as long');
});

t.test('the eviction policies: exact LRU and CLOCK on a trace worked out by hand, sampling within range', async (t) => {
  const hits = (policy: Policy, trace: number[]): boolean[] => trace.map((key) => policy.access(key));
  // Two slots. LRU: 1 and 2 miss, 1 hits (now newest), 3 evicts 2, 2 misses and evicts 1, 3 hits.
  t.same(hits(new ExactLru(2), [1, 2, 1, 3, 2, 3]), [false, false, true, false, false, true]);
  // CLOCK: the hit marks 1; 3 clears that mark and takes 2's slot; 2 then takes 1's (unmarked
  // now), so 3 still hits and 1 is gone.
  t.same(hits(new Clock(2), [1, 2, 1, 3, 2, 3, 1]), [false, false, true, false, false, true, false]);
  // Sampled LRU with every slot sampled is exact LRU.
  const slots = [0, 1, 2];
  let next = 0;
  const exactSampling = new SampledLru(3, 3, () => slots[next++ % 3]! / 3);
  const trace = [1, 2, 3, 1, 4, 2, 5, 1, 3];
  t.same(hits(exactSampling, trace), hits(new ExactLru(3), trace));
});
