/**
 * Every HTTP test file again with CACHE_FAST_PATH=off: its servers run with --no-fast-path, so
 * node:http answers every request, and both paths are held to the same tests. Each file runs as
 * its own process, its results part of this run's.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';

const HTTP_TESTS = [
  'seed-api',
  'keys-api',
  'ops-api',
  'batch-api',
  'http-contract',
  'hardening',
  'pipelining',
  'limits',
  'header-budget',
  'fuzz',
  'pubsub',
  'slowloris',
];

for (const name of HTTP_TESTS) {
  const file = fileURLToPath(new URL(`./${name}.test.js`, import.meta.url));
  t.spawn(process.execPath, [file], { env: { ...process.env, CACHE_FAST_PATH: 'off' } }, `${name} with --no-fast-path`);
}
