import type { KeyspaceOps, ScanStep } from '../cluster/keyspace.js';
import type { MultiKeyOps } from '../cluster/multi-key.js';
import type { BackendLink, Reply } from './link.js';

const bytes = (value: string): Buffer => Buffer.from(value, 'latin1');
const texts = (reply: Reply): string[] => (Array.isArray(reply) ? reply.map((key) => (key as Buffer).toString('utf8')) : []);

/** Drops the local copies of keys a command changed, then resolves (read-your-writes on this server). */
export type Drop = (keys: readonly string[]) => Promise<void>;

/**
 * The multi-key commands with --backend: each is one Redis command (or one MULTI), so Redis makes
 * it atomic for every client of the backend, not only for this server's; the local copies of its
 * keys are dropped before it is answered.
 */
export class BackendMultiKey implements MultiKeyOps {
  readonly #link: BackendLink;
  readonly #drop: Drop;

  constructor(link: BackendLink, drop: Drop) {
    this.#link = link;
    this.#drop = drop;
  }

  async setMany(entries: ReadonlyArray<readonly [key: string, value: string]>, ttlMs: number): Promise<number> {
    if (entries.length === 0) return 0;
    const keys = entries.map(([key]) => key);
    if (ttlMs > 0) await this.#link.writeTransaction(entries.map(([key, value]) => ['SET', key, bytes(value), 'PX', ttlMs]));
    else await this.#link.write('MSET', entries.flatMap(([key, value]) => [key, bytes(value)]));
    await this.#drop(keys);
    return entries.length;
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const removed = Number(await this.#link.write('DEL', [...keys]));
    await this.#drop(keys);
    return removed;
  }

  async setIfNoneHeld(entries: ReadonlyArray<readonly [key: string, value: string]>): Promise<boolean> {
    const written = (await this.#link.write('MSETNX', entries.flatMap(([key, value]) => [key, bytes(value)]))) === 1;
    await this.#drop(entries.map(([key]) => key));
    return written;
  }

  async rename(from: string, to: string, onlyIfAbsent: boolean): Promise<'missing' | 'exists' | 'moved'> {
    let outcome: 'missing' | 'exists' | 'moved';
    try {
      const reply = await this.#link.write(onlyIfAbsent ? 'RENAMENX' : 'RENAME', [from, to]);
      outcome = onlyIfAbsent && reply === 0 ? 'exists' : 'moved';
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('ERR no such key')) throw error;
      outcome = 'missing';
    }
    await this.#drop([from, to]);
    return outcome;
  }

  async copy(from: string, to: string, replace: boolean): Promise<boolean> {
    const copied = (await this.#link.write('COPY', replace ? [from, to, 'REPLACE'] : [from, to])) === 1;
    await this.#drop([to]);
    return copied;
  }
}

/** KEYS, SCAN and RANDOMKEY with --backend: the backend's keys, not the local copies. */
export class BackendKeyspace implements KeyspaceOps {
  readonly #link: BackendLink;

  constructor(link: BackendLink) {
    this.#link = link;
  }

  async keys(pattern: string | null): Promise<string[]> {
    return texts(await this.#link.call('KEYS', [pattern ?? '*']));
  }

  /** One step of the backend's own SCAN: its cursor is handed through as it is. */
  async scan(cursor: number, count: number, pattern: string | null): Promise<ScanStep> {
    const reply = await this.#link.call('SCAN', [cursor, ...(pattern === null ? [] : ['MATCH', pattern]), 'COUNT', count]);
    const [next, keys] = Array.isArray(reply) ? reply : [];
    return { cursor: Number((next as Buffer | undefined)?.toString() ?? 0), keys: texts(keys ?? null) };
  }

  async randomKey(): Promise<string | null> {
    const reply = await this.#link.call('RANDOMKEY', []);
    return Buffer.isBuffer(reply) ? reply.toString('utf8') : null;
  }
}
