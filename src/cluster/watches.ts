import { Op, Status, type Command, type Result } from '../core/protocol.js';
import type { ResultCallback } from '../nodes/node-client.js';
import type { LockOwner } from './key-locks.js';

/** One client's WATCH: spoiled once a key it watches has been changed. */
class Watch {
  spoiled = false;
}

interface Watched {
  readonly watches: Set<Watch>;
  /** Writes of the key sent and not yet answered. */
  inFlight: number;
  /** What waits for those writes to be answered ({@link Watches.settled}). */
  settled: Array<() => void>;
}

/**
 * The keys clients WATCH, and the writes that change them: every write of either front end
 * passes the data path on the main thread, which tells this registry of each write of a watched
 * key once it is answered (a change spoils every watch of the key, as Redis's touchWatchedKey).
 * A change made inside the nodes (expiry, eviction, a flush) is not seen here: an EXEC compares
 * whether each key is held with what it was at WATCH (src/resp/transaction.ts). Nothing is
 * tracked while no key is watched: the data path pays one size check a write.
 */
export class Watches {
  readonly #keys = new Map<string, Watched>();

  get size(): number {
    return this.#keys.size;
  }

  add(key: string, watch: Watch): void {
    const watched = this.#keys.get(key);
    if (watched !== undefined) watched.watches.add(watch);
    else this.#keys.set(key, { watches: new Set([watch]), inFlight: 0, settled: [] });
  }

  remove(key: string, watch: Watch): void {
    const watched = this.#keys.get(key);
    if (watched === undefined) return;
    watched.watches.delete(watch);
    if (watched.watches.size === 0 && watched.inFlight === 0) this.#keys.delete(key);
  }

  /**
   * `callback`, told of the write `command` of `key` first when the key is watched: counted in
   * flight until it is answered, then spoiling the key's watches if it changed the key (a write
   * whose outcome is unknown counts as a change).
   */
  track(key: string, command: Command, callback: ResultCallback): ResultCallback {
    const watched = this.#keys.get(key);
    if (watched === undefined) return callback;
    watched.inFlight++;
    return (error, result, node) => {
      if (error !== null || changed(command, result!)) for (const watch of watched.watches) watch.spoiled = true;
      if (--watched.inFlight === 0) {
        const settled = watched.settled;
        watched.settled = [];
        if (watched.watches.size === 0) this.#keys.delete(key);
        for (const then of settled) then();
      }
      callback(error, result, node);
    };
  }

  /** Resolves once no write of `keys` sent so far is still unanswered. */
  settled(keys: readonly string[]): Promise<void> {
    const busy = keys.map((key) => this.#keys.get(key)).filter((watched) => watched !== undefined && watched.inFlight > 0);
    return Promise.all(busy.map((watched) => new Promise<void>((resolve) => watched!.settled.push(resolve)))).then(() => undefined);
  }
}

/** Whether a write's answer says it changed its key (Redis signals only a change). */
function changed(command: Command, result: Result): boolean {
  if (result.status !== Status.Ok) return false;
  return command[0] !== Op.Update || result.next !== undefined;
}

/** The keys one client WATCHes, and whether each was held when it was watched. */
export class WatchedKeys {
  readonly #watches: Watches;
  #watch = new Watch();
  readonly #held = new Map<string, boolean>();

  constructor(watches: Watches) {
    this.#watches = watches;
  }

  get keys(): string[] {
    return [...this.#held.keys()];
  }

  /** Watches `key` from now on (a key already watched keeps its first state, as Redis). */
  watching(key: string): boolean {
    if (this.#held.has(key)) return false;
    this.#watches.add(key, this.#watch);
    this.#held.set(key, false);
    return true;
  }

  /** Whether `key` was held when watched (set once the WATCH has read it). */
  held(key: string, held: boolean): void {
    if (this.#held.has(key)) this.#held.set(key, held);
  }

  /** UNWATCH: nothing watched, nothing spoiled. */
  clear(): void {
    for (const key of this.#held.keys()) this.#watches.remove(key, this.#watch);
    this.#held.clear();
    this.#watch = new Watch();
  }

  /**
   * Whether EXEC may go on, with every watched key held by `owner` (so no write of them starts
   * meanwhile): once the writes sent before are answered, none changed a key, and each key is
   * held as it was when watched (an expiry, an eviction or a flush in between is a change too;
   * a key that had already expired stays absent and is not).
   */
  async stands(owner: LockOwner, heldNow: (key: string, owner: LockOwner) => Promise<boolean | undefined>): Promise<boolean> {
    const keys = this.keys;
    if (keys.length === 0) return true;
    await this.#watches.settled(keys);
    if (this.#watch.spoiled) return false;
    const held = await Promise.all(keys.map((key) => heldNow(key, owner)));
    return keys.every((key, i) => held[i] === this.#held.get(key));
  }
}
