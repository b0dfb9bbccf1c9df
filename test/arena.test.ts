import t from 'tap';
import { Arena, pageOf } from '../workers/arena.js';
import { itemBytes, MAX_PAGE_BYTES, slotBytes } from '../src/core/slots.js';

const bytes = (length: number, seed = 0): string => {
  const buffer = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buffer[i] = (i * 31 + seed) & 0xff;
  return buffer.toString('latin1');
};

/** Stores `value` under key 'key' (3 bytes). */
const put = (arena: Arena, value: string): number => arena.store('key', 3, value);

t.test('items of every size come back byte for byte, key and value', async (t) => {
  const arena = new Arena();
  const sizes = [0, 1, 31, 32, 33, 100, 1000, 4096, 65_537, MAX_PAGE_BYTES - 5, MAX_PAGE_BYTES, 3 * MAX_PAGE_BYTES];
  const handles = sizes.map((size, i) => put(arena, bytes(size, i)));
  sizes.forEach((size, i) => {
    if (arena.read(handles[i]!, size) !== bytes(size, i)) t.fail(`${size} bytes changed`);
    if (arena.keyAt(handles[i]!) !== 'key') t.fail(`the key of ${size} bytes changed`);
  });
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');
  t.equal(arena.read(put(arena, all), 256), all, 'bytes 0x00-0xFF');
  const key = 'clé 🔑';
  t.equal(arena.keyAt(arena.store(key, Buffer.byteLength(key), 'v')), key, 'a UTF-8 key');
});

t.test('a slot wastes at most a fifth of it (and 8 bytes of rounding)', async (t) => {
  for (let length = 1; length <= 200_000; length += 7) {
    const slot = slotBytes(length);
    if (slot < length || (length >= 32 && slot > length * 1.25 + 8)) t.fail(`${length} -> ${slot}`);
  }
  t.equal(slotBytes(5 * MAX_PAGE_BYTES), 5 * MAX_PAGE_BYTES, 'beyond a page: exactly the item');
});

t.test('freed slots are reused: churn does not grow the arena', async (t) => {
  const arena = new Arena();
  const live: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    live.push(put(arena, bytes(100, i)));
    if (live.length > 1_000) arena.free(live.shift()!);
  }
  t.ok(arena.bytes <= MAX_PAGE_BYTES, `${arena.bytes} bytes of pages for 1,000 live values`);
  t.equal(arena.read(live.at(-1)!, 100), bytes(100, 99_999));
});

t.test('the limit: no slot beyond it, until something is freed; empty pages serve other sizes', async (t) => {
  const arena = new Arena({ limit: 8192, pageBytes: 4096 });
  const small: number[] = [];
  for (let h = put(arena, bytes(100)); h >= 0; h = put(arena, bytes(100))) small.push(h);
  const perPage = Math.floor(4096 / slotBytes(itemBytes(3, 100)));
  t.equal(small.length, 2 * perPage, 'two pages of slots');
  t.equal(put(arena, bytes(1000)), -1, 'no page left for another size');
  for (const h of small.splice(0, perPage)) arena.free(h);
  const large = put(arena, bytes(1000));
  t.ok(large >= 0, 'a page emptied by frees goes to another size');
  t.equal(arena.read(large, 1000), bytes(1000));
  t.equal(arena.bytes, 8192);
  t.equal(new Arena({ limit: 1000, pageBytes: 4096 }).store('k', 1, bytes(10)), -1, 'a page larger than the limit');
  arena.clear();
  t.ok(put(arena, bytes(3000)) >= 0, 'clear frees every page');
  t.throws(() => new Arena({ pageBytes: 5000 }), /power of two/);
});

t.test('the HTTP thread is told of each shared page once, and of pages let go; ids are never reused', async (t) => {
  const arena = new Arena({ limit: 4 * 4096, pageBytes: 4096 });
  t.equal(arena.takeUpdate(), undefined, 'nothing yet');
  const a = put(arena, bytes(100));
  const b = put(arena, bytes(2000));
  const made = arena.takeUpdate()!.pages!;
  t.same(made.map(([id]) => id), [pageOf(a), pageOf(b)]);
  t.ok(made.every(([, buffer]) => buffer instanceof SharedArrayBuffer && buffer.byteLength === 4096), 'shared pages');
  t.equal(arena.takeUpdate(), undefined, 'each page once');
  arena.free(a);
  const c = put(arena, bytes(500));
  t.equal(pageOf(c), pageOf(a), 'an emptied page serves another size under the same id');
  t.equal(arena.takeUpdate(), undefined, 'and is not new');
  arena.free(b);
  // 9,000 bytes: private memory; spare pages make room for it within the limit.
  const big = put(arena, bytes(9000));
  t.ok(big >= 0);
  t.equal(arena.read(big, 9000), bytes(9000));
  t.same(arena.takeUpdate(), { released: [pageOf(b)] }, 'the spare page is let go; private memory is never shared');
  arena.free(big);
  const d = put(arena, bytes(100));
  t.ok(pageOf(d) > pageOf(b), 'a new page gets a new id');
});

t.test('memory handed over is cut into pages before any page is made, and counted only as it is used', async (t) => {
  const arena = new Arena({ pageBytes: 4096 });
  const handed = new SharedArrayBuffer(16 + 2 * 4096 + 100);
  arena.reuse(handed, 16);
  t.equal(arena.bytes, 0, 'nothing counted yet');
  // Items of 3,000 bytes: one a page.
  const handles = [0, 1, 2].map((i) => put(arena, bytes(2990, i)));
  const made = arena.takeUpdate()!.pages!;
  t.same(
    made.map(([, buffer, offset, length]) => [buffer === handed, offset, length]),
    [
      [true, 16 + 4096, 4096],
      [true, 16, 4096],
      [false, 0, 4096],
    ],
    'two whole pages fit after the offset; the third page is new memory',
  );
  t.equal(arena.bytes, 3 * 4096);
  handles.forEach((handle, i) => t.equal(arena.read(handle, 2990), bytes(2990, i), `item ${i} reads back`));
  const view = Buffer.from(handed);
  t.equal(view.readUInt16LE(16 + 4096), 3, 'the first item (its key length) is in the handed-over memory');
});
