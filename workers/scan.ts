import { performance } from 'node:perf_hooks';
import { Placement } from '../src/core/placement.js';
import type { Handoff, ScanPlan, ScanProgress } from '../src/core/protocol.js';
import { HashRing } from '../src/core/ring.js';
import type { Store } from './store.js';

/**
 * One pass of a node over its own keys for a membership change, in chunks the main thread asks
 * for one at a time, so that neither this thread nor the main thread is busy for long.
 *
 * The pass walks the store's live key iterator, so starting it costs nothing and every key held
 * when it starts (and still held) is looked at. A key written after that is written to its new owners directly,
 * and the main thread drops the handoff of any key written since the pass began; a key deleted
 * since is not found and skipped. The node works out ownership itself, on the rings the main
 * thread sent (their points, not rehashed), so only the keys that move cross to the main thread.
 */
export class Scan {
  readonly #store: Store;
  readonly #self: string;
  readonly #plan: ScanPlan;
  /** The rings of the plan, read as the main thread reads them: the sender of a key is its reader. */
  readonly #placement: Placement<string>;
  readonly #filling: ReadonlySet<string>;
  readonly #keys: Iterator<string>;
  /** Keys held when the pass began (for progress), and looked at so far. */
  readonly #total: number;
  #scanned = 0;
  #done = false;
  /** When the main thread last asked for a chunk: a pass it gave up on is ended after a while. */
  lastUsed = performance.now();

  constructor(store: Store, self: string, plan: ScanPlan) {
    this.#store = store;
    this.#self = self;
    this.#plan = plan;
    const next = HashRing.fromLayout(plan.next);
    const previous = sameMembers(plan.previous.members, plan.next.members) ? null : HashRing.fromLayout(plan.previous);
    const complete = new Set(plan.complete);
    const isComplete = (id: string): string | undefined => (complete.has(id) ? id : undefined);
    // Live is not asked for: a scan decides who sends, not who receives.
    this.#placement = new Placement(next, plan.replicas, { complete: isComplete, live: isComplete }, previous);
    this.#filling = new Set(plan.filling);
    this.#keys = store.keys();
    this.#total = store.size;
  }

  /** Ends the pass (it ran to its end, or is given up). */
  end(): void {
    this.#done = true;
    this.#keys.return?.();
  }

  /** Looks at up to `maxKeys` more keys, stopping early once `maxBytes` of values are handed off. */
  next(maxKeys: number, maxBytes: number): ScanProgress {
    this.lastUsed = performance.now();
    const handoffs: Handoff[] = [];
    let dropped = 0;
    let bytes = 0;
    for (let looked = 0; looked < maxKeys && bytes < maxBytes && !this.#done; looked++) {
      const next = this.#keys.next();
      if (next.done === true) {
        this.end();
        break;
      }
      const key = next.value;
      this.#scanned++;
      if (this.#plan.kind === 'purge') {
        if (!this.#placement.ring.owners(key, this.#plan.replicas).includes(this.#self) && this.#store.drop(key)) dropped++;
        continue;
      }
      const targets = this.#targets(key);
      if (targets.length === 0) continue;
      const entry = this.#store.entry(key);
      if (entry === undefined) continue;
      handoffs.push([key, entry.value, entry.ttlMs, targets]);
      bytes += entry.value.length;
    }
    return { total: this.#total, scanned: this.#scanned, handoffs, dropped, done: this.#done };
  }

  /**
   * The owners under the new ring that lack `key`, if this node is the one to send it: the node
   * a read of the key goes to ({@link Placement.reader}). Exactly one node sends each key, and
   * only to owners that did not hold it before or are being filled from scratch.
   */
  #targets(key: string): string[] {
    if (this.#placement.reader(key) !== this.#self) return [];
    const replicas = this.#plan.replicas;
    const before = (this.#placement.previous ?? this.#placement.ring).owners(key, replicas);
    const after = this.#placement.ring.owners(key, replicas);
    return after.filter((id) => id !== this.#self && (this.#filling.has(id) || !before.includes(id)));
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}
