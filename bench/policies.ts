import { SampledLru as NodeEviction, type UseTicks } from '../workers/eviction.js';

/**
 * Eviction policies for a read-through cache of `capacity` keys, as pure simulations: `access`
 * answers whether the key was held, and on a miss stores it (evicting one key if full). They
 * compare what the node could do once readers on another thread can no longer reorder its LRU
 * list, only mark an entry as used with one store (bench/recency.ts).
 */
export interface Policy {
  readonly name: string;
  access(key: number): boolean;
}

/** The reference: exact LRU, every hit moves its key to the front. */
export class ExactLru implements Policy {
  readonly name = 'exact LRU';
  readonly #order = new Map<number, true>();
  constructor(readonly capacity: number) {}

  access(key: number): boolean {
    if (this.#order.delete(key)) {
      this.#order.set(key, true);
      return true;
    }
    if (this.#order.size >= this.capacity) this.#order.delete(this.#order.keys().next().value!);
    this.#order.set(key, true);
    return false;
  }
}

/** Slots of keys, for the policies that keep their marks in typed arrays as shared memory would. */
abstract class Slotted implements Policy {
  abstract readonly name: string;
  protected readonly keys: Int32Array;
  protected readonly index = new Map<number, number>();
  protected used = 0;

  constructor(readonly capacity: number) {
    this.keys = new Int32Array(capacity);
  }

  access(key: number): boolean {
    const slot = this.index.get(key);
    if (slot !== undefined) {
      this.mark(slot);
      return true;
    }
    let free: number;
    if (this.used < this.capacity) free = this.used++;
    else {
      free = this.victim();
      this.index.delete(this.keys[free]!);
    }
    this.keys[free] = key;
    this.index.set(key, free);
    this.inserted(free);
    return false;
  }

  /** What a reader does on a hit: one store into the entry's own mark. */
  protected abstract mark(slot: number): void;
  /** The slot to evict, chosen by the node (the only writer). */
  protected abstract victim(): number;
  protected abstract inserted(slot: number): void;
}

/** CLOCK: one reference bit per entry, set by readers; the hand clears bits until it finds one unset. */
export class Clock extends Slotted {
  readonly name = 'CLOCK (1 bit)';
  readonly #referenced: Uint8Array;
  #hand = 0;

  constructor(capacity: number) {
    super(capacity);
    this.#referenced = new Uint8Array(capacity);
  }

  protected mark(slot: number): void {
    this.#referenced[slot] = 1;
  }

  protected victim(): number {
    for (;;) {
      const slot = this.#hand;
      this.#hand = (this.#hand + 1) % this.capacity;
      if (this.#referenced[slot] === 0) return slot;
      this.#referenced[slot] = 0;
    }
  }

  protected inserted(slot: number): void {
    this.#referenced[slot] = 0;
  }
}

/**
 * The node's own eviction (workers/eviction.ts: Redis's sampled LRU, `samples` buckets and a
 * pool of 16) over slots whose ticks move once every `accessesPerTick` accesses: a node's ticks
 * are milliseconds, so at 100,000 reads a second about a hundred reads share one.
 */
export class SampledLru extends Slotted implements UseTicks {
  readonly name: string;
  readonly #ticks: Uint32Array;
  readonly #eviction: NodeEviction;
  readonly #accessesPerTick: number;
  #accesses = 0;

  constructor(capacity: number, samples: number, random: () => number = Math.random, accessesPerTick = 1) {
    super(capacity);
    this.name = `sampled LRU (${samples} samples, pool of 16${accessesPerTick > 1 ? `, ${accessesPerTick} accesses a tick` : ''})`;
    this.#ticks = new Uint32Array(capacity);
    this.#eviction = new NodeEviction(samples, 16, random);
    this.#accessesPerTick = accessesPerTick;
  }

  lastUsed(slot: number): number {
    return slot < this.used ? this.#ticks[slot]! : -1;
  }

  protected mark(slot: number): void {
    this.#ticks[slot] = this.#tick(1);
  }

  protected victim(): number {
    return this.#eviction.victim(this, this.#tick(0));
  }

  protected inserted(slot: number): void {
    this.#ticks[slot] = this.#tick(1);
  }

  #tick(accesses: number): number {
    this.#accesses += accesses;
    return Math.floor(this.#accesses / this.#accessesPerTick) >>> 0;
  }
}
