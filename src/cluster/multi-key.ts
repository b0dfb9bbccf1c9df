import { statusError, type CacheError } from '../errors.js';
import { Op, Status, type Command, type Result } from '../core/protocol.js';
import { countdown } from './replies.js';
import type { DataPath } from './data-path.js';
import type { LockOwner } from './key-locks.js';

/** What the front ends use of the multi-key commands (with --backend, src/backend/backend-keys.ts). */
export type MultiKeyOps = Pick<MultiKey, 'setMany' | 'deleteMany' | 'setIfNoneHeld' | 'rename' | 'copy'>;

/**
 * The commands that change several keys as one step, as Redis promises (MSETNX, RENAME,
 * RENAMENX, COPY). Their keys may live on different nodes, so the step is made atomic on the
 * main thread, which every command of both front ends passes through: the command takes the
 * locks of all its keys ({@link DataPath.exclusive}), reads, writes every copy, and only then lets
 * any other read or write of those keys go on. A node dying halfway fails the command with the
 * writes made so far kept (Redis makes no promise for a crash either).
 */
export class MultiKey {
  readonly #data: DataPath;

  constructor(data: DataPath) {
    this.#data = data;
  }

  /**
   * Writes many keys (for /mset and MSET) as one atomic step: their locks are held until every
   * copy is written, so no client sees some of them written and others not. Resolves with their
   * count, or fails with the first error (the writes that went through stay written).
   */
  setMany(entries: ReadonlyArray<readonly [key: string, value: string]>, ttlMs: number, holder?: LockOwner): Promise<number> {
    return new Promise((resolve, reject) => {
      if (entries.length === 0) return resolve(0);
      this.#data.exclusive(
        entries.map(([key]) => key),
        (owner, release) => {
          let failed = false;
          const done = countdown(entries.length, () => {
            release();
            resolve(entries.length);
          });
          for (const [key, value] of entries) {
            this.#data.dispatch(key, [Op.Set, key, value, ttlMs], (error, result) => {
              if (error === null && result!.status === Status.Ok) return done();
              if (!failed) reject(error ?? statusError(result!.status));
              failed = true;
              done();
            }, owner);
          }
        },
        holder,
      );
    });
  }

  /** DEL of several keys (and /mdel) as one step: how many were held. */
  deleteMany(keys: readonly string[], holder?: LockOwner): Promise<number> {
    return this.#holding(keys, holder, async (send) => {
      const results = await Promise.all(keys.map((key) => send(key, [Op.Delete, key])));
      return results.filter((result) => result.status === Status.Ok).length;
    });
  }

  /** MSETNX: writes every entry if none of the keys is held; false (and nothing written) otherwise. */
  setIfNoneHeld(entries: ReadonlyArray<readonly [key: string, value: string]>, holder?: LockOwner): Promise<boolean> {
    return this.#holding(
      entries.map(([key]) => key),
      holder,
      async (send) => {
        const held = await Promise.all(entries.map(([key]) => send(key, [Op.Exists, key])));
        if (held.some((result) => result.status === Status.Ok)) return false;
        await Promise.all(entries.map(([key, value]) => send(key, [Op.Set, key, value, 0])));
        return true;
      },
    );
  }

  /**
   * RENAME / RENAMENX: moves `from`'s value and expiry to `to`. 'missing' if `from` is not
   * held, 'exists' if `onlyIfAbsent` and `to` is, else 'moved' (also when both are one key).
   */
  rename(from: string, to: string, onlyIfAbsent: boolean, holder?: LockOwner): Promise<'missing' | 'exists' | 'moved'> {
    return this.#holding([from, to], holder, async (send) => {
      const source = await send(from, [Op.Dump, from]);
      if (source.status !== Status.Ok) return 'missing';
      if (from === to) return onlyIfAbsent ? 'exists' : 'moved';
      if (onlyIfAbsent && (await send(to, [Op.Exists, to])).status === Status.Ok) return 'exists';
      // The copy before the removal: a node failing between them leaves two, never none.
      await send(to, [Op.Set, to, source.value!, source.ttl ?? 0, 'rename_to']);
      await send(from, [Op.Delete, from, 'rename_from']);
      return 'moved';
    });
  }

  /** COPY: `from`'s value and expiry to `to` (over a held `to` only with `replace`); whether it copied. */
  copy(from: string, to: string, replace: boolean, holder?: LockOwner): Promise<boolean> {
    return this.#holding([from, to], holder, async (send) => {
      const source = await send(from, [Op.Dump, from]);
      if (source.status !== Status.Ok || from === to) return false;
      if (!replace && (await send(to, [Op.Exists, to])).status === Status.Ok) return false;
      await send(to, [Op.Set, to, source.value!, source.ttl ?? 0, 'copy_to']);
      return true;
    });
  }

  /** Runs `body` holding `keys` (or as `holder`, which holds them); its sends go through as their owner. */
  #holding<T>(keys: readonly string[], holder: LockOwner | undefined, body: (send: (key: string, command: Command) => Promise<Result>) => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#data.exclusive(keys, (owner, release) => {
        body((key, command) => this.#send(key, command, owner)).then(
          (value) => {
            release();
            resolve(value);
          },
          (error: unknown) => {
            release();
            reject(error as Error);
          },
        );
      }, holder);
    });
  }

  #send(key: string, command: Command, owner: LockOwner): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.#data.dispatch(
        key,
        command,
        (error: CacheError | null, result) => {
          if (error !== null) return reject(error);
          if (result!.status !== Status.Ok && result!.status !== Status.NotFound) return reject(statusError(result!.status));
          resolve(result!);
        },
        owner,
      );
    });
  }
}
