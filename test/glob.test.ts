import t from 'tap';
import { Glob } from '../src/core/glob.js';
import { formatFloat, mutate, parseFloat64, parseInt64, SetIf } from '../src/core/mutation.js';
import { scanOrder } from '../src/core/scan-order.js';

t.test("Redis's glob: * ? [...] [^...] ranges and escapes", async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['*', 'anything', true],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h*llo', 'heeeello', true],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h[b-a]llo', 'hallo', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['*:1', 'user:1', true],
    ['user:*', 'user:', true],
    ['[abc', 'a', true],
    ['', '', true],
    ['', 'x', false],
  ];
  for (const [pattern, text, expected] of cases) t.equal(new Glob(pattern).matches(text), expected, `${pattern} ~ ${text}`);
  t.equal(new Glob('MAXMEM*', true).matches('maxmemory'), true, 'no case, for CONFIG GET');
});

t.test('a pattern of many stars cannot take exponential time', async (t) => {
  const text = 'a'.repeat(10_000);
  const glob = new Glob(`${'a*'.repeat(50)}b`);
  t.equal(glob.matches(text), false, 'answers (a backtracking matcher would not, in any useful time)');
  t.equal(new Glob(`${'a*'.repeat(50)}`).matches(text), true);
});

t.test('integers and floats read as Redis reads them', async (t) => {
  t.equal(parseInt64('9223372036854775807'), 2n ** 63n - 1n);
  t.equal(parseInt64('9223372036854775808'), undefined);
  for (const bad of ['', ' 1', '1 ', '+1', '01', '-0', '1.0', '0x10']) t.equal(parseInt64(bad), undefined, `'${bad}' is not an integer`);
  t.equal(parseFloat64('1.5e3'), 1500);
  t.equal(parseFloat64('+inf'), Infinity);
  for (const bad of ['', ' 1', 'nan', '1x']) t.equal(parseFloat64(bad), undefined, `'${bad}' is not a float`);
  t.equal(formatFloat(3), '3');
  t.equal(formatFloat(1e21), '1000000000000000000000');
  t.equal(formatFloat(-0), '0');
  t.equal(formatFloat(1.5e-8), '0.000000015');
});

t.test('mutations: what the key becomes and what the client is told', async (t) => {
  const now = 1_000;
  t.same(mutate(undefined, ['incr', '5'], now), { value: '5', next: { value: '5', expiresAt: 0 } });
  t.same(mutate({ value: '9223372036854775807', expiresAt: 0 }, ['incr', '1'], now), { refused: 'overflow' });
  t.same(mutate({ value: 'abc', expiresAt: 0 }, ['incr', '1'], now), { refused: 'not-integer' });
  t.same(mutate({ value: 'ab', expiresAt: 5_000 }, ['append', 'c', 10], now), { count: 3, next: { value: 'abc', expiresAt: 5_000 } });
  t.same(mutate({ value: 'ab', expiresAt: 0 }, ['append', 'cde', 4], now), { refused: 'too-long' });
  t.same(mutate(undefined, ['setrange', 3, 'x', 100], now), { count: 4, next: { value: '\0\0\0x', expiresAt: 0 } });
  t.same(mutate(undefined, ['setrange', 3, '', 100], now), { count: 0 }, 'an empty patch on no key leaves no key');
  t.same(mutate({ value: 'v', expiresAt: 0 }, ['set', 'w', 500, SetIf.Always], now), { value: 'v', count: 1, next: null }, 'a time in the past removes');
  t.same(mutate(undefined, ['setbit', 7, 1, 100], now), { count: 0, next: { value: '\x01', expiresAt: 0 } });
  t.ok(scanOrder(1) === 2 ** 31 && scanOrder(0) === 0 && scanOrder(-1) === 2 ** 32 - 1, 'the scan order reverses the bits');
});
