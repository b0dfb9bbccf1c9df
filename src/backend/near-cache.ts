import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { asCacheError, backendUnavailable, type CacheError } from '../errors.js';
import { Op, Status, type Command, type Result } from '../core/protocol.js';
import type { ResultCallback } from '../nodes/node-client.js';
import type { Front } from '../cluster/front.js';
import { refusalOf, writeCall, writeResult } from './commands.js';
import { asBackendError, BackendLink, isReplyError, type Reply } from './link.js';
import type { BackendAddress } from './url.js';

/** A key's value as the backend holds it, and the milliseconds it has left (null: no expiry). */
interface Entry {
  value: string;
  ttl: number | null;
}

export interface NearCacheOptions {
  /** --backend-timeout, --backend-wait, --serve-stale, --near-cache (false: no local copies). */
  timeoutMs: number;
  waitReplicas: number;
  serveStale: boolean;
  keepCopies: boolean;
}

export interface BackendStats {
  /** The data connection is up; tracking is on; local copies are answered from. */
  up: boolean;
  tracked: boolean;
  serving: boolean;
  misses: number;
  fetches: number;
  joins: number;
  invalidations: number;
  flushes: number;
  staleReads: number;
  /** Backend commands made, and the seconds they took together. */
  calls: number;
  callSeconds: number;
}

/** One backend read of a key, and the reads that wait for it (single flight). */
interface Flight {
  waiters: Array<(error: CacheError | null, entry: Entry | null) => void>;
  /** False once the key changed (or tracking was lost) while it was on its way: not kept. */
  keep: boolean;
  /**
   * What it read, while its local copy is on its way to the nodes: reads meanwhile are answered
   * from here, or each would find no copy yet and read the backend again.
   */
  landing?: Entry;
}

/** Sends a command to the nodes alone: the local copies (DataPath's own routing). */
export type LocalDispatch = (key: string, command: Command, callback: ResultCallback) => void;

const NOTHING = (): void => undefined;

/**
 * --backend: the nodes as a near cache of a Redis or Valkey server. A read is answered from the
 * local copy when there is one; otherwise from one backend read per key, whoever asks meanwhile
 * (the flight), kept locally with no more life than the backend gives it. A write is applied by
 * the backend, then the local copy is dropped, then answered: a read that starts after the answer
 * never sees the old copy. Copies are dropped when Redis reports a change (CLIENT TRACKING), and
 * all of them when tracking is lost, before any is answered from again.
 */
export class NearCache implements Front {
  readonly #link: BackendLink;
  readonly #local: LocalDispatch;
  readonly #flush: () => Promise<void>;
  readonly #flights = new Map<string, Flight>();
  readonly #options: NearCacheOptions;
  /** Copies are answered from and kept; never with --near-cache off. */
  #serving = false;
  /** --serve-stale: reads answered from a local copy while the backend was unreachable. */
  staleReads = 0;
  /** Reads the backend answered (joins included), reads that joined another's flight, backend reads made. */
  misses = 0;
  joins = 0;
  fetches = 0;
  invalidations = 0;
  flushes = 0;

  constructor(address: BackendAddress, options: NearCacheOptions, local: LocalDispatch, flush: () => Promise<void>, log: Logger | undefined) {
    this.#options = options;
    this.#local = local;
    this.#flush = flush;
    this.#link = new BackendLink(
      address,
      options.timeoutMs,
      options.waitReplicas,
      {
        invalidate: (keys) => this.#invalidate(keys),
        untracked: () => this.#untracked(),
        tracked: () => this.#tracked(),
      },
      log,
    );
  }

  /** Whether local copies may be answered from: tracking is on and the copies since it are all there are. */
  get serving(): boolean {
    return this.#serving;
  }

  get link(): BackendLink {
    return this.#link;
  }

  /** The figures of /stats, /metrics and INFO. */
  stats(): BackendStats {
    const link = this.#link;
    return {
      up: link.up,
      tracked: link.tracked,
      serving: this.#serving,
      misses: this.misses,
      fetches: this.fetches,
      joins: this.joins,
      invalidations: this.invalidations,
      flushes: this.flushes,
      staleReads: this.staleReads,
      calls: link.calls,
      callSeconds: link.callMs / 1000,
    };
  }

  dispatch(key: string, command: Command, callback: ResultCallback): void {
    switch (command[0]) {
      case Op.Set:
      case Op.Delete:
      case Op.Update:
        return this.#write(key, command, callback);
      case Op.Get:
      case Op.Exists:
      case Op.Ttl:
      case Op.Dump:
        return this.#read(key, command, callback);
      default:
        return this.#local(key, command, callback);
    }
  }

  close(): Promise<void> {
    this.#serving = false;
    return this.#link.close();
  }

  #read(key: string, command: Command, callback: ResultCallback): void {
    if (!this.#serving && this.#options.serveStale && !this.#link.up) return this.#stale(key, command, callback);
    if (!this.#serving) return this.#fetch(key, command, callback);
    this.#local(key, command, (error, result, node) => {
      if (error === null && result!.status === Status.Ok) return callback(null, result, node);
      this.#fetch(key, command, callback);
    });
  }

  /** The backend is down and --serve-stale: the local copy if there is one, marked; else 503. */
  #stale(key: string, command: Command, callback: ResultCallback): void {
    this.#local(key, command, (error, result, node) => {
      if (error !== null || result!.status !== Status.Ok) return callback(backendUnavailable(), undefined, 'backend');
      this.staleReads++;
      callback(null, { ...result!, stale: true }, node);
    });
  }

  #fetch(key: string, command: Command, callback: ResultCallback): void {
    this.misses++;
    const answer = (error: CacheError | null, entry: Entry | null): void => {
      if (error !== null) callback(error, undefined, 'backend');
      else callback(null, resultOf(command, entry), 'backend');
    };
    const flying = this.#flights.get(key);
    if (flying !== undefined) {
      this.joins++;
      if (flying.landing !== undefined) answer(null, flying.landing);
      else flying.waiters.push(answer);
      return;
    }
    const flight: Flight = { waiters: [answer], keep: this.#serving };
    this.#flights.set(key, flight);
    this.fetches++;
    const epoch = this.#link.epoch;
    const sent = performance.now();
    const done = (): void => void (this.#flights.get(key) === flight && this.#flights.delete(key));
    this.#link.fetch(key).then(
      (found) => {
        const entry = found === null ? null : { value: found[0].toString('latin1'), ttl: found[1] > 0 ? found[1] : null };
        if (entry !== null && flight.keep && this.#serving && epoch === this.#link.epoch) this.#land(key, flight, entry, sent, done);
        else done();
        for (const waiter of flight.waiters) waiter(null, entry);
      },
      (error: unknown) => {
        done();
        const failure = asCacheError(asBackendError(error));
        for (const waiter of flight.waiters) waiter(failure, null);
      },
    );
  }

  /** Keeps what `flight` read (at `sent`) as the local copy; `done` once the flight is over. */
  #land(key: string, flight: Flight, entry: Entry, sent: number, done: () => void): void {
    if (entry.ttl === null) {
      flight.landing = entry;
      return this.#local(key, [Op.Set, key, entry.value, 0], done);
    }
    // With an expiry the flight does not answer for it while landing (its TTL would stand still),
    // and the copy lives no longer than the backend's: its life counts from the request.
    done();
    const left = Math.floor(entry.ttl - (performance.now() - sent));
    if (left > 0) this.#local(key, [Op.Set, key, entry.value, left], NOTHING);
  }

  #write(key: string, command: Command, callback: ResultCallback): void {
    const call = writeCall(command)!;
    this.#link.write(call[0], call.slice(1)).then(
      (reply: Reply) => this.#dropThen(key, () => callback(null, writeResult(command, reply), 'backend')),
      (error: unknown) => {
        if (!isReplyError(error)) return callback(asCacheError(error), undefined, 'backend');
        const refused = refusalOf(error.message);
        // Nothing changed: the local copy, if any, is still the backend's value.
        if (refused === undefined) return callback(asCacheError(asBackendError(error)), undefined, 'backend');
        callback(null, { status: Status.Refused, refused }, 'backend');
      },
    );
  }

  /** Drops the local copy of `key` (and keeps no read of it on its way), then runs `then`. */
  #dropThen(key: string, then: () => void): void {
    this.#forget(key);
    this.#local(key, [Op.Delete, key], then);
  }

  #forget(key: string): void {
    const flight = this.#flights.get(key);
    if (flight === undefined) return;
    flight.keep = false;
    this.#flights.delete(key);
  }

  #invalidate(keys: string[] | null): void {
    if (keys === null) {
      this.invalidations++;
      this.#untracked();
      void this.#tracked();
      return;
    }
    this.invalidations += keys.length;
    for (const key of keys) this.#dropThen(key, NOTHING);
  }

  #untracked(): void {
    this.#serving = false;
    for (const flight of this.#flights.values()) flight.keep = false;
    this.#flights.clear();
  }

  /** Tracking is (back) on: every copy kept before goes, then copies are answered from again. */
  async #tracked(): Promise<void> {
    const epoch = this.#link.epoch;
    this.flushes++;
    await this.#flush();
    if (epoch === this.#link.epoch && this.#link.tracked && this.#options.keepCopies) this.#serving = true;
  }
}

function resultOf(command: Command, entry: Entry | null): Result {
  if (entry === null) return { status: Status.NotFound };
  switch (command[0]) {
    case Op.Exists:
      return { status: Status.Ok, valueBytes: entry.value.length };
    case Op.Ttl:
      return { status: Status.Ok, ttl: entry.ttl };
    case Op.Dump:
      return { status: Status.Ok, value: entry.value, ttl: entry.ttl ?? 0 };
    default:
      return { status: Status.Ok, value: entry.value };
  }
}
