/**
 * Measures what one entry costs a node beyond its key bytes and its item's arena slot, the figure
 * behind ENTRY_OVERHEAD_BYTES in src/core/limits.ts: V8 heap per entry, the shared index table per
 * entry and the arena per entry, right after filling and after churn (1,000,000 writes into a
 * store capped at 100,000 entries).
 * Run: node --expose-gc dist/bench/entry-overhead.js
 */
import { Store } from '../workers/store.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const VALUE = 'v'.repeat(100);

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

function measure(label: string, entries: number, writes: number, ttl: number): void {
  const before = heapUsed();
  const store = new Store({ maxEntries: entries });
  let keyBytes = 0;
  for (let i = 0; i < writes; i++) store.set(`key-${i}`, VALUE, ttl);
  for (let i = writes - store.size; i < writes; i++) keyBytes += `key-${i}`.length;
  const perEntry = (heapUsed() - before) / store.size;
  const beyond = perEntry - keyBytes / store.size;
  console.log(
    `${label}, ttl ${ttl ? 'set' : 'none'}: ${store.size} entries, heap ${perEntry.toFixed(0)} B/entry ` +
      `(${beyond.toFixed(0)} B beyond the key bytes), index ${(store.stats().indexBytes / store.size).toFixed(0)} B/entry, ` +
      `arena ${(store.stats().arenaBytes / store.size).toFixed(0)} B/entry for 100-byte values`,
  );
  store.clear();
}

for (const ttl of [0, 3_600_000]) {
  measure('filled', 1_000_000, 1_000_000, ttl);
  measure('after churn', 100_000, 1_000_000, ttl);
}
