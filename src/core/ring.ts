import { hash32 } from './hash.js';

/** Maps a string to a 32-bit unsigned integer. Must be deterministic across processes. */
export type HashFn = (input: string) => number;

export interface RingOptions {
  /**
   * Virtual nodes (points on the circle) per member. Default 1024.
   * The spread of shares shrinks with the square root of this number. Measured max/mean keys per
   * node over 100,000 keys: 160 points give 1.12 at 3 nodes and 1.11 at 8; 1024 give 1.01 and
   * 1.02. Each point costs 6 bytes and one hash at every membership change (about 10 ms for 8
   * nodes); a lookup is one binary search over all points (12 steps at 3 nodes, 13 at 8).
   */
  pointsPerNode?: number;
  /** Hash for both keys and points. Default {@link hash32}. */
  hash?: HashFn;
}

/** What a ring is made of: enough to rebuild it in another thread (typed arrays clone as bytes). */
export interface RingLayout {
  members: string[];
  pointsPerNode: number;
  /** Sorted point positions, and the index in `members` of each point's member. */
  points: Uint32Array;
  pointOwners: Uint16Array;
}

/**
 * A consistent-hash ring with virtual nodes (ketama style).
 *
 * Guarantees: a key's owner depends only on the key and the member set (not on the order members
 * were added); adding a member moves only keys that the new member now owns, and removing one moves
 * only the keys it owned. Members' shares are equal within the spread given at `pointsPerNode`.
 * Pure: no I/O, no timers; safe to share between modules.
 */
export class HashRing {
  readonly pointsPerNode: number;
  readonly #hash: HashFn;
  readonly #members: string[] = [];
  /** Sorted point positions, and the index in #members of the node at the same position. */
  #points: Uint32Array = new Uint32Array(0);
  #pointOwners: Uint16Array = new Uint16Array(0);
  /** Where each of the circle's {@link BUCKETS} equal arcs begins among the points ({@link bucketStarts}). */
  #starts: Uint32Array = NO_POINTS;
  /** Per replica count: each point's distinct owners, walking clockwise, filled in on first use. */
  readonly #ownerTables = new Map<number, Array<readonly string[] | undefined>>();

  constructor(members: Iterable<string> = [], options: RingOptions = {}) {
    const points = options.pointsPerNode ?? 1024;
    if (!Number.isInteger(points) || points < 1 || points > 65_536) {
      throw new RangeError(`pointsPerNode must be an integer from 1 to 65536, got ${points}`);
    }
    this.pointsPerNode = points;
    this.#hash = options.hash ?? hash32;
    for (const member of members) this.#insert(member);
    this.#rebuild();
  }

  /** Members in the order they were added. */
  get members(): readonly string[] {
    return this.#members;
  }

  get size(): number {
    return this.#members.length;
  }

  has(member: string): boolean {
    return this.#members.includes(member);
  }

  /** Adds a member. Throws if it is already present. */
  add(member: string): void {
    this.#insert(member);
    this.#rebuild();
  }

  /** Removes a member. Returns false if it was not present. */
  remove(member: string): boolean {
    const index = this.#members.indexOf(member);
    if (index < 0) return false;
    this.#members.splice(index, 1);
    this.#rebuild();
    return true;
  }

  /** The member that owns `key`. Throws on an empty ring. */
  owner(key: string): string {
    if (this.#members.length === 0) throw new Error('the ring has no members');
    return this.#members[this.#pointOwners[this.#firstPointAtOrAfter(this.#hash(key))]!]!;
  }

  /**
   * Up to `count` distinct members for `key`, walking clockwise from its point; the first is
   * {@link owner}. Replicas are placed on these. The array is shared (do not change it): each
   * point's list is worked out on its first lookup for a member set and count, so that the lookup
   * on the hot path allocates nothing.
   */
  owners(key: string, count: number): readonly string[] {
    if (this.#members.length === 0 || count <= 0) return [];
    return this.#ownersAt(this.#firstPointAtOrAfter(this.#hash(key)), count);
  }

  /** The owner list of every point on the circle, for checks over all key ranges. */
  ownerLists(count: number): Array<readonly string[]> {
    return Array.from({ length: this.#points.length }, (_, point) => this.#ownersAt(point, count));
  }

  /** The ring's points, to rebuild it elsewhere (another thread) without hashing again. */
  layout(): RingLayout {
    return { members: [...this.#members], pointsPerNode: this.pointsPerNode, points: this.#points, pointOwners: this.#pointOwners };
  }

  /** A ring from {@link layout}; it must come from a ring with the default hash. */
  static fromLayout(layout: RingLayout): HashRing {
    const ring = new HashRing([], { pointsPerNode: layout.pointsPerNode });
    ring.#members.push(...layout.members);
    ring.#points = layout.points;
    ring.#pointOwners = layout.pointOwners;
    ring.#starts = bucketStarts(layout.points);
    return ring;
  }

  /** An independent copy (the ring before a change, while keys move). */
  clone(): HashRing {
    const copy = new HashRing([], { pointsPerNode: this.pointsPerNode, hash: this.#hash });
    copy.#members.push(...this.#members);
    copy.#points = this.#points;
    copy.#pointOwners = this.#pointOwners;
    copy.#starts = this.#starts;
    return copy;
  }

  #ownersAt(point: number, count: number): readonly string[] {
    let table = this.#ownerTables.get(count);
    if (table === undefined) {
      table = new Array<readonly string[] | undefined>(this.#points.length);
      this.#ownerTables.set(count, table);
    }
    let list = table[point];
    if (list === undefined) {
      const total = this.#points.length;
      const wanted = Math.min(count, this.#members.length);
      const found: string[] = [];
      for (let seen = 0, at = point; seen < total && found.length < wanted; seen++, at = at + 1 === total ? 0 : at + 1) {
        const member = this.#members[this.#pointOwners[at]!]!;
        if (!found.includes(member)) found.push(member);
      }
      // Not frozen (the type is readonly): V8 loads a frozen array's elements through a generic
      // lookup, not inline (1.4% of the HTTP thread under GETs, placement's reads of these lists).
      list = found;
      table[point] = list;
    }
    return list;
  }

  #insert(member: string): void {
    if (member.length === 0) throw new RangeError('a member name must not be empty');
    if (this.#members.includes(member)) throw new Error(`${member} is already on the ring`);
    if (this.#members.length >= 0xffff) throw new RangeError('too many members');
    this.#members.push(member);
  }

  /**
   * Recomputes every point. Point names are `${member}#${index}`: without the separator
   * `node-1` + `10` and `node-11` + `0` would land on the same point.
   */
  #rebuild(): void {
    const count = this.#members.length * this.pointsPerNode;
    const positions = new Uint32Array(count);
    const memberOf = new Uint16Array(count);
    const order = new Uint32Array(count);
    for (let m = 0, p = 0; m < this.#members.length; m++) {
      for (let i = 0; i < this.pointsPerNode; i++, p++) {
        positions[p] = this.#hash(`${this.#members[m]}#${i}`);
        memberOf[p] = m;
        order[p] = p;
      }
    }
    // Ties (two points at one position) are broken by member name, so that the owner does not
    // depend on the order members joined.
    order.sort((a, b) => {
      const byPosition = positions[a]! - positions[b]!;
      if (byPosition !== 0) return byPosition;
      const nameA = this.#members[memberOf[a]!]!;
      const nameB = this.#members[memberOf[b]!]!;
      return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
    });
    this.#ownerTables.clear();
    this.#points = new Uint32Array(count);
    this.#pointOwners = new Uint16Array(count);
    for (let i = 0; i < count; i++) {
      this.#points[i] = positions[order[i]!]!;
      this.#pointOwners[i] = memberOf[order[i]!]!;
    }
    this.#starts = bucketStarts(this.#points);
  }

  /**
   * Index of the first point at or after `position`, wrapping to 0 past the last point: a binary
   * search within the points of `position`'s arc (0-1 points with 3 nodes), not of all of them
   * (3,072 with 3 nodes: owners() took 170-220 ns a key, most of it this search).
   */
  #firstPointAtOrAfter(position: number): number {
    const points = this.#points;
    const bucket = position >>> BUCKET_SHIFT;
    // Points before the arc's start are below it, the one at the next arc's start is past it.
    let low = this.#starts[bucket]!;
    let high = this.#starts[bucket + 1]!;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (points[mid]! < position) low = mid + 1;
      else high = mid;
    }
    return low === points.length ? 0 : low;
  }

}

/** The circle (2^32 positions) in 4,096 arcs: 16 KiB of starts a ring. */
const BUCKET_SHIFT = 20;
const BUCKETS = 2 ** (32 - BUCKET_SHIFT);
/** The starts of a ring without points (every arc starts at index 0), until its first rebuild. */
const NO_POINTS = new Uint32Array(BUCKETS + 1);

/** For each arc, the index of the first point at or past its start; one more entry: the points' count. */
function bucketStarts(points: Uint32Array): Uint32Array {
  const starts = new Uint32Array(BUCKETS + 1);
  for (let bucket = 0, p = 0; bucket <= BUCKETS; bucket++) {
    const start = bucket * 2 ** BUCKET_SHIFT;
    while (p < points.length && points[p]! < start) p++;
    starts[bucket] = p;
  }
  return starts;
}
