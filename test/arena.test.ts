import t from 'tap';
import { Arena, MAX_PAGE_BYTES } from '../workers/arena.js';

const bytes = (length: number, seed = 0): string => {
  const buffer = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buffer[i] = (i * 31 + seed) & 0xff;
  return buffer.toString('latin1');
};

t.test('values of every size come back byte for byte', async (t) => {
  const arena = new Arena();
  const sizes = [0, 1, 31, 32, 33, 100, 1000, 4096, 65_537, MAX_PAGE_BYTES, MAX_PAGE_BYTES + 1, 3 * MAX_PAGE_BYTES];
  const handles = sizes.map((size, i) => arena.store(bytes(size, i), 'key'));
  sizes.forEach((size, i) => {
    t.equal(arena.length(handles[i]!), size);
    if (arena.read(handles[i]!) !== bytes(size, i)) t.fail(`${size} bytes changed`);
  });
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');
  t.equal(arena.read(arena.store(all, 'key')), all, 'bytes 0x00-0xFF');
});

t.test('a slot wastes at most a fifth of it (and 8 bytes of rounding)', async (t) => {
  for (let length = 1; length <= 200_000; length += 7) {
    const slot = Arena.slotBytes(length);
    if (slot < length || (length >= 32 && slot > length * 1.25 + 8)) t.fail(`${length} -> ${slot}`);
  }
  t.equal(Arena.slotBytes(5 * MAX_PAGE_BYTES), 5 * MAX_PAGE_BYTES, 'beyond a page: exactly the value');
});

t.test('freed slots are reused: churn does not grow the arena', async (t) => {
  const arena = new Arena();
  const live: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    live.push(arena.store(bytes(100, i), 'key'));
    if (live.length > 1_000) arena.free(live.shift()!);
  }
  t.ok(arena.bytes <= MAX_PAGE_BYTES, `${arena.bytes} bytes of pages for 1,000 live values`);
  t.equal(arena.read(live.at(-1)!), bytes(100, 99_999));
});

t.test('the limit: no slot beyond it, until something is freed; empty pages serve other sizes', async (t) => {
  const arena = new Arena({ limit: 8192, pageBytes: 4096 });
  const small: number[] = [];
  for (let h = arena.store(bytes(100), 'key'); h >= 0; h = arena.store(bytes(100), 'key')) small.push(h);
  t.equal(small.length, 2 * Math.floor(4096 / Arena.slotBytes(100)), 'two pages of 120-byte slots');
  t.equal(arena.store(bytes(1000), 'key'), -1, 'no page left for another size');
  for (const h of small.splice(0, Math.floor(4096 / Arena.slotBytes(100)))) arena.free(h);
  const large = arena.store(bytes(1000), 'key');
  t.ok(large >= 0, 'a page emptied by frees goes to another size');
  t.equal(arena.read(large), bytes(1000));
  t.equal(arena.bytes, 8192);
  t.equal(new Arena({ limit: 1000, pageBytes: 4096 }).store(bytes(10), 'key'), -1, 'a page larger than the limit');
  arena.clear();
  t.ok(arena.store(bytes(3000), 'key') >= 0, 'clear frees every page');
  t.throws(() => new Arena({ pageBytes: 5000 }), /power of two/);
});

t.test('slots in use are listed by use: stores and touches to the head, the oldest at the tail', async (t) => {
  const arena = new Arena();
  const a = arena.store('1', 'a');
  const b = arena.store('22', 'b');
  const c = arena.store('x'.repeat(5000), 'c');
  t.equal(arena.keyOf(arena.oldest()), 'a');
  arena.touch(a);
  t.equal(arena.keyOf(arena.oldest()), 'b', 'a touch moves a slot away from the tail');
  arena.free(b);
  t.equal(arena.keyOf(arena.oldest()), 'c', 'across size classes');
  arena.touch(c);
  arena.touch(c);
  t.equal(arena.keyOf(arena.oldest()), 'a');
  arena.free(a);
  t.equal(arena.oldest(), c);
  arena.free(c);
  t.equal(arena.oldest(), -1, 'empty');
  arena.store('y', 'd');
  arena.clear();
  t.equal(arena.oldest(), -1, 'clear empties the list');
});
