/** Who holds a lock: a token made by the one who takes it. */
export type LockOwner = object;

/**
 * Keys held by one operation that must look atomic to every client: a read-modify-write while
 * its copies are written, a multi-key command (MSETNX, RENAME, COPY) while all its keys change.
 * A lock blocks every read and write of its key but its owner's; they wait, in order, and run
 * once it is released. All of it on the main thread, where every command of both front ends
 * passes: the nodes never see a lock. Nothing held costs a read more than one size check.
 */
export class KeyLocks {
  readonly #held = new Map<string, { owner: LockOwner; waiting: Array<() => void> }>();

  get size(): number {
    return this.#held.size;
  }

  /** Whether `key` is held by someone other than `owner`. */
  blocks(key: string, owner?: LockOwner): boolean {
    if (this.#held.size === 0) return false;
    const lock = this.#held.get(key);
    return lock !== undefined && lock.owner !== owner;
  }

  /** Who holds `key`, if nothing waits for it: a holder may let a command of its own kind in beside it. */
  joinable(key: string): LockOwner | undefined {
    const lock = this.#held.get(key);
    return lock !== undefined && lock.waiting.length === 0 ? lock.owner : undefined;
  }

  /** If `key` is held by someone other than `owner`, queues `then` for its release and returns true. */
  wait(key: string, then: () => void, owner?: LockOwner): boolean {
    const lock = this.#held.get(key);
    if (lock === undefined || lock.owner === owner) return false;
    lock.waiting.push(then);
    return true;
  }

  /**
   * Takes every one of `keys` for `owner`, then runs `run` (at once if none is held). The free
   * ones are taken at once and the held ones as they are released, so that a command that comes
   * after the operation on any of its keys waits behind it (a connection's next write of one of
   * them must not overtake it while it waits for another). An operation queues for all its keys
   * in one step, so every key's queue is in the order the operations came, and none waits for one
   * that came after it: no two wait for each other.
   */
  acquire(keys: readonly string[], owner: LockOwner, run: () => void): void {
    const wanted = new Set(keys);
    if (wanted.size === 0) return run();
    let missing = wanted.size;
    const take = (key: string): void => {
      if (this.wait(key, () => take(key), owner)) return;
      if (!this.#held.has(key)) this.#held.set(key, { owner, waiting: [] });
      if (--missing === 0) run();
    };
    for (const key of wanted) take(key);
  }

  /** Takes `keys` for `owner` now: for a caller that has just seen them free. */
  hold(keys: readonly string[], owner: LockOwner): void {
    for (const key of keys) this.#held.set(key, { owner, waiting: [] });
  }

  /** Releases `keys`; what waited on them runs, in the order it came. */
  release(keys: readonly string[]): void {
    const waiting: Array<() => void> = [];
    for (const key of keys) {
      const lock = this.#held.get(key);
      if (lock === undefined) continue;
      this.#held.delete(key);
      waiting.push(...lock.waiting);
    }
    for (const next of waiting) next();
  }
}
