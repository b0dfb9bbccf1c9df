/**
 * The expiry times of a store's keys that have one, and where active expiry goes on in them.
 * Unlike a queue ordered by time, this holds nothing for a key once it is gone (a queue kept
 * every TTL'd write until its time came: with one-hour TTLs under eviction churn that was 470
 * bytes per live key). Pure: times are on the store's clock.
 */
export class ExpiryIndex {
  readonly #at = new Map<string, number>();
  /** Where the sweep goes on at its next call. */
  #sweep: Iterator<[string, number]> | undefined;

  get size(): number {
    return this.#at.size;
  }

  get(key: string): number | undefined {
    return this.#at.get(key);
  }

  has(key: string): boolean {
    return this.#at.has(key);
  }

  set(key: string, at: number): void {
    this.#at.set(key, at);
  }

  delete(key: string): void {
    this.#at.delete(key);
  }

  clear(): void {
    this.#at.clear();
    this.#sweep = undefined;
  }

  /**
   * Looks at up to `maxKeys` keys, going on from where the previous call stopped and starting
   * over after the last, and calls `expire` for each whose time is at or before `now` (`expire`
   * must delete it here). A lap ends a call: the next lap starts with a call only if nothing was
   * looked at yet.
   */
  sweep(maxKeys: number, now: number, expire: (key: string) => void): void {
    for (let looked = 0; looked < maxKeys && this.#at.size > 0; looked++) {
      let next = this.#sweep?.next();
      if (next === undefined || next.done === true) {
        this.#sweep = undefined;
        if (looked > 0) break;
        this.#sweep = this.#at.entries();
        next = this.#sweep.next();
        if (next.done === true) break;
      }
      const [key, at] = next.value;
      if (at <= now) expire(key);
    }
  }
}
