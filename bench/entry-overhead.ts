/**
 * Measures what one entry costs in a node's heap beyond its key and value bytes, the figure
 * behind ENTRY_OVERHEAD_BYTES in workers/store.ts. Run: node --expose-gc dist/bench/entry-overhead.js
 */
import { Store } from '../workers/store.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const ENTRIES = 1_000_000;
const VALUE_BYTES = 100;

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

for (const ttl of [0, 60_000]) {
  const store = new Store();
  // Flat one-byte strings, as values arrive in a node after crossing the thread boundary.
  const keys = Array.from({ length: ENTRIES }, (_, i) => Buffer.from(`key-${i}`).toString('latin1'));
  const values = Array.from({ length: ENTRIES }, (_, i) => Buffer.from(`${i}`.padStart(VALUE_BYTES, 'v')).toString('latin1'));
  const before = heapUsed();
  for (let i = 0; i < ENTRIES; i++) store.set(keys[i]!, values[i]!, ttl);
  const after = heapUsed();
  // The key and value strings existed before; what the store adds is its own structures.
  const added = (after - before) / ENTRIES;
  const payload = (keys.reduce((n, k) => n + k.length, 0) + ENTRIES * VALUE_BYTES) / ENTRIES;
  // A string in V8 costs its bytes plus a 16-byte header (rounded to 8): count those too.
  const stringHeaders = 2 * 16;
  console.log(
    `ttl ${ttl ? 'set' : 'none'}: store structures ${added.toFixed(0)} B/entry; ` +
      `with string headers ${(added + stringHeaders).toFixed(0)} B/entry beyond ${payload.toFixed(0)} B of key + value`,
  );
  store.clear();
}
