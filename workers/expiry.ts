/**
 * Keys to look at when their time comes, bucketed by 100 ms of expiry time: adding is O(1) plus
 * O(log buckets) for a new bucket, and each tick visits only keys that are due. A key may sit in
 * several buckets (it was set again with another TTL); the caller checks the store before
 * removing anything, so a stale entry here costs one look-up. Memory: one array slot per TTL'd
 * write until its bucket is processed.
 */
export class ExpiryWheel {
  static readonly BUCKET_MS = 100;
  readonly #buckets = new Map<number, string[]>();
  /** Bucket indexes as a binary min-heap: the next bucket due is always at the top. */
  #heap: number[] = [];
  /** Position inside the top bucket that a previous, budget-limited call reached. */
  #cursor = 0;

  add(key: string, expiresAt: number): void {
    // A key added now always lands after every bucket already due (ceil of a later time is
    // above the floor of an earlier one), so a partly visited bucket never grows.
    const index = Math.ceil(expiresAt / ExpiryWheel.BUCKET_MS);
    const bucket = this.#buckets.get(index);
    if (bucket !== undefined) {
      bucket.push(key);
      return;
    }
    this.#buckets.set(index, [key]);
    this.#push(index);
  }

  /** Calls `visit` for keys in buckets due at `now`, oldest first, for at most `budgetMs`. */
  due(now: number, budgetMs: number, visit: (key: string) => void): void {
    const dueIndex = Math.floor(now / ExpiryWheel.BUCKET_MS);
    const deadline = performance.now() + budgetMs;
    while (this.#heap.length > 0 && this.#heap[0]! <= dueIndex) {
      const index = this.#heap[0]!;
      const keys = this.#buckets.get(index)!;
      while (this.#cursor < keys.length) {
        visit(keys[this.#cursor++]!);
        // Reading the clock every 256 keys keeps its cost out of the loop.
        if ((this.#cursor & 0xff) === 0 && performance.now() > deadline) return;
      }
      this.#buckets.delete(index);
      this.#pop();
      this.#cursor = 0;
    }
  }

  /** Keys waiting (with repeats). */
  get pending(): number {
    let total = 0;
    for (const keys of this.#buckets.values()) total += keys.length;
    return total - this.#cursor;
  }

  clear(): void {
    this.#buckets.clear();
    this.#heap = [];
    this.#cursor = 0;
  }

  #push(value: number): void {
    const heap = this.#heap;
    let i = heap.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= value) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = value;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]! < heap[child]!) child++;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
