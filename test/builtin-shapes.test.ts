import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Loading the server's modules (and the libraries they load) leaves every builtin prototype that
 * was a fast object in a bare Node a fast object. One in V8's dictionary mode makes every method
 * call on its instances a generic lookup on every hot path (src/backend/ioredis.ts: ioredis did
 * it to String.prototype). Checked in a child process with V8's own test, %HasFastProperties.
 */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

const modules = readdirSync(SRC, { withFileTypes: true, recursive: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.js') && join(entry.parentPath, entry.name) !== join(SRC, 'main.js'))
  .map((entry) => pathToFileURL(join(entry.parentPath, entry.name)).href);

const PROBE = `
const prototypes = {
  String: String.prototype, Object: Object.prototype, Array: Array.prototype, Function: Function.prototype,
  Number: Number.prototype, Map: Map.prototype, Set: Set.prototype, Promise: Promise.prototype,
  Uint8Array: Uint8Array.prototype, TypedArray: Object.getPrototypeOf(Uint8Array.prototype), Buffer: Buffer.prototype,
  Int32Array: Int32Array.prototype, Float64Array: Float64Array.prototype, RegExp: RegExp.prototype, Error: Error.prototype,
};
const fast = () => Object.keys(prototypes).filter((name) => %HasFastProperties(prototypes[name]));
const before = fast();
for (const url of JSON.parse(process.env.MODULES)) await import(url);
const after = fast();
console.log(JSON.stringify({ before, lost: before.filter((name) => !after.includes(name)) }));
`;

t.test('no builtin prototype is left in dictionary mode by the modules the server loads', async (t) => {
  t.ok(modules.length > 50, `the server's modules are found (${modules.length})`);
  const child = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', PROBE], {
    env: { ...process.env, MODULES: JSON.stringify(modules) },
    encoding: 'utf8',
  });
  t.equal(child.status, 0, child.stderr);
  const { before, lost } = JSON.parse(child.stdout.trim().split('\n').pop()!) as { before: string[]; lost: string[] };
  t.ok(before.includes('String'), 'String.prototype is a fast object in a bare Node');
  t.same(lost, [], 'still fast after loading every module');
});
