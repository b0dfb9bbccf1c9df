import { Buffer } from 'node:buffer';
import type { KeyspaceOps, ScanStep } from '../cluster/keyspace.js';
import type { MultiKeyOps } from '../cluster/multi-key.js';
import { asBackendError, type BackendLink, type Reply } from './link.js';

const bytes = (value: string): Buffer => Buffer.from(value, 'latin1');
const texts = (reply: Reply): string[] => (Array.isArray(reply) ? reply.map((key) => (key as Buffer).toString('utf8')) : []);

/** Runs `work`, its backend refusals as the cache's errors (src/backend/link.ts). */
async function mapped<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw asBackendError(error);
  }
}

/** MSET with one expiry for all (/mset's ttl): one script, so as atomic as MSET. */
const MSET_PX = "for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i], 'PX', ARGV[#ARGV]) end return #KEYS";

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
    if (ttlMs > 0) await mapped(this.#link.write('EVAL', [MSET_PX, keys.length, ...keys, ...entries.map(([, value]) => bytes(value)), ttlMs]));
    else await mapped(this.#link.write('MSET', entries.flatMap(([key, value]) => [key, bytes(value)])));
    await this.#drop(keys);
    return entries.length;
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const removed = Number(await mapped(this.#link.write('DEL', [...keys])));
    await this.#drop(keys);
    return removed;
  }

  async setIfNoneHeld(entries: ReadonlyArray<readonly [key: string, value: string]>): Promise<boolean> {
    const written = (await mapped(this.#link.write('MSETNX', entries.flatMap(([key, value]) => [key, bytes(value)])))) === 1;
    await this.#drop(entries.map(([key]) => key));
    return written;
  }

  async rename(from: string, to: string, onlyIfAbsent: boolean): Promise<'missing' | 'exists' | 'moved'> {
    let outcome: 'missing' | 'exists' | 'moved';
    try {
      const reply = await this.#link.write(onlyIfAbsent ? 'RENAMENX' : 'RENAME', [from, to]);
      outcome = onlyIfAbsent && reply === 0 ? 'exists' : 'moved';
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('ERR no such key')) throw asBackendError(error);
      outcome = 'missing';
    }
    await this.#drop([from, to]);
    return outcome;
  }

  async copy(from: string, to: string, replace: boolean): Promise<boolean> {
    const copied = (await mapped(this.#link.write('COPY', replace ? [from, to, 'REPLACE'] : [from, to]))) === 1;
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
    return (await this.#link.onEach('KEYS', [pattern ?? '*'])).flatMap(texts);
  }

  /**
   * One step of the backend's own SCAN. On a Cluster the masters are scanned one after the other:
   * the cursor is the master's own cursor times the number of masters, plus which master (for
   * one server, Redis's cursor as it is). A failover during a scan may repeat or skip keys.
   */
  async scan(cursor: number, count: number, pattern: string | null): Promise<ScanStep> {
    const masters = this.#link.masterCount;
    const index = cursor % masters;
    const reply = await this.#link.onMaster(index, 'SCAN', [Math.floor(cursor / masters), ...(pattern === null ? [] : ['MATCH', pattern]), 'COUNT', count]);
    const [next, keys] = Array.isArray(reply) ? reply : [];
    const own = Number((next as Buffer | undefined)?.toString() ?? 0);
    const following = own !== 0 ? own * masters + index : index + 1 < masters ? index + 1 : 0;
    return { cursor: following, keys: texts(keys ?? null) };
  }

  async randomKey(): Promise<string | null> {
    const found = (await this.#link.onEach('RANDOMKEY', [])).filter((reply): reply is Buffer => Buffer.isBuffer(reply));
    return found.length === 0 ? null : found[Math.floor(Math.random() * found.length)]!.toString('utf8');
  }

  /** The backend's keys, and those with an expiry (DBSIZE, INFO keyspace, /stats): every master's INFO keyspace. */
  async counts(): Promise<{ keys: number; expires: number }> {
    const line = new RegExp(`^db${this.#link.db}:keys=(\\d+),expires=(\\d+)`, 'm');
    const counts = { keys: 0, expires: 0 };
    for (const reply of await this.#link.onEach('INFO', ['keyspace'])) {
      const match = line.exec(Buffer.isBuffer(reply) ? reply.toString() : '');
      counts.keys += Number(match?.[1] ?? 0);
      counts.expires += Number(match?.[2] ?? 0);
    }
    return counts;
  }
}
