import type { HashRing } from './ring.js';

/**
 * What placement needs to know of the nodes: which hold every key they own (state `up`), and
 * which take writes (any state but `down`). Each returns the caller's handle on the node, or
 * undefined: the main thread passes its node records, a node's scan passes ids.
 */
export interface NodeLookup<T> {
  complete(id: string): T | undefined;
  live(id: string): T | undefined;
}

/**
 * Who reads and who writes a key: the one home of that rule, used by the main thread to route
 * every request and by each node's scan to decide which node hands a key over.
 *
 * Each key lives on `replicas` nodes, its owners on the ring. While keys move after a join or a
 * leave, the ring before the change (`previous`) counts too: a read goes to the first complete
 * owner under the previous ring (they hold every key), then under the current one; a write goes
 * to every live owner under both. Pure: the rings and the lookup are all it reads; the version
 * moves with every change of the rings.
 */
export class Placement<T> {
  readonly replicas: number;
  readonly #lookup: NodeLookup<T>;
  #ring: HashRing;
  #previous: HashRing | null;
  #version: number;

  constructor(ring: HashRing, replicas: number, lookup: NodeLookup<T>, previous: HashRing | null = null, version = 1) {
    this.#ring = ring;
    this.replicas = replicas;
    this.#lookup = lookup;
    this.#previous = previous;
    this.#version = version;
  }

  get ring(): HashRing {
    return this.#ring;
  }

  /** The ring before the change in progress, while keys move; null otherwise. */
  get previous(): HashRing | null {
    return this.#previous;
  }

  get version(): number {
    return this.#version;
  }

  /** Where a read of `key` goes: the first complete owner, the owners before a change first. */
  reader(key: string): T | undefined {
    if (this.#previous !== null) {
      const before = this.#firstComplete(this.#previous.owners(key, this.replicas));
      if (before !== undefined) return before;
    }
    return this.#firstComplete(this.#ring.owners(key, this.replicas));
  }

  /** Where a write of `key` goes: every live owner, and during a change every live owner before it. */
  writers(key: string): T[] {
    const targets: T[] = [];
    this.#addLive(targets, this.#ring.owners(key, this.replicas));
    if (this.#previous !== null) this.#addLive(targets, this.#previous.owners(key, this.replicas));
    return targets;
  }

  /** Every key range has a complete owner (during a change: under the ring before it). */
  readable(): boolean {
    const ring = this.#previous ?? this.#ring;
    return ring.ownerLists(this.replicas).every((owners) => this.#firstComplete(owners) !== undefined);
  }

  /**
   * The share of `id`'s key ranges that no other node holds complete: if `id` dies, those keys
   * are gone.
   */
  unreplicatedShare(id: string): number {
    const ranges = (this.#previous ?? this.#ring).ownerLists(this.replicas).filter((owners) => owners.includes(id));
    if (ranges.length === 0) return 0;
    const lost = ranges.filter((owners) => owners.every((owner) => owner === id || this.#lookup.complete(owner) === undefined));
    return lost.length / ranges.length;
  }

  /** A new ring version: `change` edits a copy of the ring; the current one stays as `previous` until {@link finish}. */
  begin(change: (next: HashRing) => void): void {
    const next = this.#ring.clone();
    change(next);
    this.#previous = this.#ring;
    this.#ring = next;
    this.#version++;
  }

  /** Every key has reached its owners under the new ring: the previous one goes (a new version). */
  finish(): void {
    this.#previous = null;
    this.#version++;
  }

  // Indexed loops, not for-of: V8 did not inline the owner lists' iterator (ArrayIteratorPrototypeNext
  // was 1.3% of the HTTP thread's time under GETs).
  #firstComplete(ids: readonly string[]): T | undefined {
    for (let i = 0; i < ids.length; i++) {
      const node = this.#lookup.complete(ids[i]!);
      if (node !== undefined) return node;
    }
    return undefined;
  }

  #addLive(targets: T[], owners: readonly string[]): void {
    for (let i = 0; i < owners.length; i++) {
      const node = this.#lookup.live(owners[i]!);
      if (node !== undefined && !targets.includes(node)) targets.push(node);
    }
  }
}
