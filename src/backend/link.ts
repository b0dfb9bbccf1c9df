import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { backendUnavailable, CacheError, notReplicated } from '../errors.js';
import type { BackendAddress } from './url.js';

const INVALIDATE = '__redis__:invalidate';
/** The tracking connection is pinged this often, so that a dead one is noticed within a second or two. */
const PING_INTERVAL_MS = 1000;
/** Longest wait between reconnection attempts. */
const MAX_BACKOFF_MS = 2000;

/** An error reply of Redis (the command was refused), not a connection's failure. */
export function isReplyError(error: unknown): error is Error {
  return error instanceof ReplyError;
}

const FETCH = "local v = redis.call('GET', KEYS[1]) if not v then return false end return {v, redis.call('PTTL', KEYS[1])}";

/** The command defineCommand adds for {@link FETCH}. */
interface Fetcher {
  nearFetchBuffer(key: string): Promise<Reply>;
}

/** What a reply of the backend can be, read as Buffers (values are bytes). */
export type Reply = Buffer | number | null | Reply[];

export interface LinkEvents {
  /** Keys that changed in the backend (null: all of them, after FLUSHALL or a lost table). */
  invalidate(keys: string[] | null): void;
  /** Invalidations may have been missed (a connection dropped): every local copy must go. */
  untracked(): void;
  /** Tracking is on again, for the connection that reads: copies may be kept from now on. */
  tracked(): void;
}

/**
 * The connections to one --backend server, through ioredis (chosen over node-redis for its Cluster
 * client, the next step, and its reconnection with back-off). `data` carries every command,
 * pipelined in order; `tracker` is subscribed to Redis's invalidation channel, and `data` has
 * CLIENT TRACKING ON REDIRECT to it (RESP2's form: ioredis 6 speaks RESP3 but drops the
 * invalidation pushes, so both connections are told to use RESP2). Every key `data` reads is
 * then reported by Redis when anyone changes it. When either connection drops, invalidations
 * may be lost: `untracked` fires, and `tracked` only once both are back and tracking is on.
 */
export class BackendLink {
  readonly #data: Redis;
  readonly #tracker: Redis;
  /** With --backend-wait: the writes' own connection, each write followed by WAIT (which blocks its connection). */
  readonly #writer: Redis | undefined;
  readonly #waitReplicas: number;
  readonly #waitMs: number;
  readonly #events: LinkEvents;
  readonly #log: Logger | undefined;
  readonly #ping: NodeJS.Timeout;
  #tracked = false;
  /** Changes at every loss of tracking: work begun before it must not keep what it read. */
  epoch = 0;
  #up: boolean | undefined;
  #lastError: string | undefined;
  /** Calls made, and their total time, for the figures. */
  calls = 0;
  callMs = 0;

  constructor(address: BackendAddress, timeoutMs: number, waitReplicas: number, events: LinkEvents, log: Logger | undefined) {
    this.#events = events;
    this.#waitReplicas = waitReplicas;
    // WAIT's own limit a little under the command timeout, so that its count comes back in time.
    this.#waitMs = Math.max(1, Math.floor(timeoutMs * 0.8));
    this.#log = log;
    const options: RedisOptions = {
      host: address.host,
      port: address.port,
      ...(address.username === undefined ? {} : { username: address.username }),
      ...(address.password === undefined ? {} : { password: address.password }),
      db: address.db,
      protocol: 2,
      lazyConnect: true,
      // Nothing waits for a connection that is down: the request is answered 503 at once.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_BACKOFF_MS),
      // #track subscribes anew on every connection: it must ask CLIENT ID before it is subscribed.
      autoResubscribe: false,
    };
    this.#data = new Redis({ ...options, connectionName: 'distributed-cache' });
    // EVALSHA, and EVAL once when the server does not know the script yet (ioredis's defineCommand).
    this.#data.defineCommand('nearFetch', { numberOfKeys: 1, lua: FETCH });
    this.#tracker = new Redis({ ...options, connectionName: 'distributed-cache-tracking' });
    this.#writer = waitReplicas > 0 ? new Redis({ ...options, connectionName: 'distributed-cache-writes' }) : undefined;
    this.#writer?.on('error', () => undefined);
    this.#writer?.connect().catch(() => undefined);
    for (const connection of [this.#data, this.#tracker]) {
      connection.on('ready', () => void this.#track());
      connection.on('close', () => this.#lost());
      // ioredis reports each failed attempt; the state change is logged once, in #state, with the last reason.
      connection.on('error', (error: Error) => (this.#lastError = error.message));
    }
    this.#tracker.on('messageBuffer', (channel: Buffer, message: Reply) => {
      if (channel.toString() !== INVALIDATE) return;
      this.#events.invalidate(Array.isArray(message) ? message.map((key) => (key as Buffer).toString('utf8')) : null);
    });
    this.#ping = setInterval(() => {
      if (this.#tracker.status === 'ready') this.#tracker.ping().catch(() => this.#tracker.disconnect(true));
    }, PING_INTERVAL_MS).unref();
    this.#data.connect().catch(() => undefined);
    this.#tracker.connect().catch(() => undefined);
  }

  /** Whether both connections are up and every key read is being tracked. */
  get tracked(): boolean {
    return this.#tracked;
  }

  get up(): boolean {
    return this.#data.status === 'ready';
  }

  /**
   * One command on the data connection; fails at once with BACKEND_UNAVAILABLE while it is down,
   * or after --backend-timeout. A Redis error reply rejects with ioredis's ReplyError.
   */
  call(name: string, args: Array<string | Buffer | number>): Promise<Reply> {
    return this.#timed(this.#data, async () => (await this.#data.callBuffer(name, ...args)) as Reply);
  }

  /** A write: {@link call}, or with --backend-wait on the writes' connection, answered once WAIT confirms it. */
  write(name: string, args: Array<string | Buffer | number>): Promise<Reply> {
    const writer = this.#writer;
    if (writer === undefined) return this.call(name, args);
    return this.#timed(writer, async () => {
      const [reply] = await Promise.all([writer.callBuffer(name, ...args) as Promise<Reply>, this.#waited(writer)]);
      return reply;
    });
  }

  /** WAIT on `connection`, after what it was sent before: fails unless enough replicas confirmed. */
  async #waited(connection: Redis): Promise<void> {
    const confirmed = Number(await connection.call('WAIT', this.#waitReplicas, this.#waitMs));
    if (confirmed < this.#waitReplicas) throw notReplicated(this.#waitReplicas);
  }

  /**
   * A key's value and its milliseconds left (-1: no expiry) in one step (a script: one command
   * where MULTI GET PTTL EXEC is four, for a near-cache miss); null if the backend lacks it.
   * Keys a script reads are tracked like any other read of the connection.
   */
  async fetch(key: string): Promise<[value: Buffer, pttl: number] | null> {
    const reply = await this.#timed(this.#data, () => (this.#data as Redis & Fetcher).nearFetchBuffer(key));
    return Array.isArray(reply) ? [reply[0] as Buffer, Number(reply[1])] : null;
  }

  /** Several writes as one MULTI/EXEC (then WAIT, with --backend-wait): their replies (or ReplyErrors), in order. */
  writeTransaction(commands: Array<[name: string, ...args: Array<string | Buffer | number>]>): Promise<Array<Reply | Error>> {
    const connection = this.#writer ?? this.#data;
    return this.#timed(connection, async () => {
      const multi = connection.multi();
      for (const [name, ...args] of commands) multi.callBuffer(name, ...args);
      const [results] = await Promise.all([multi.exec(), this.#writer === undefined ? undefined : this.#waited(connection)]);
      if (results === null) throw backendUnavailable();
      return results.map(([error, reply]) => error ?? (reply as Reply));
    });
  }

  /** Runs `work` on `connection`, timed; any failure but Redis's own refusal (or WAIT's) is BACKEND_UNAVAILABLE. */
  async #timed<T>(connection: Redis, work: () => Promise<T>): Promise<T> {
    if (connection.status !== 'ready') throw backendUnavailable();
    const started = performance.now();
    try {
      return await work();
    } catch (error) {
      if (isReplyError(error) || error instanceof CacheError) throw error;
      throw backendUnavailable();
    } finally {
      this.calls++;
      this.callMs += performance.now() - started;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#ping);
    const connections = [this.#data, this.#tracker, ...(this.#writer === undefined ? [] : [this.#writer])];
    await Promise.all(connections.map((connection) => connection.quit().catch(() => undefined)));
    for (const connection of connections) connection.disconnect();
  }

  /** Both connections ready: redirect the data connection's tracking to the tracker's id. */
  async #track(): Promise<void> {
    if (this.#data.status !== 'ready' || this.#tracker.status !== 'ready') return;
    const epoch = this.epoch;
    try {
      const id = await this.#tracker.client('ID');
      await this.#tracker.subscribe(INVALIDATE);
      await this.#data.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id));
    } catch {
      // A connection dropped meanwhile: its 'ready' will come again.
      return;
    }
    if (epoch !== this.epoch || this.#tracked) return;
    this.#tracked = true;
    this.#state(true);
    this.#events.tracked();
  }

  #lost(): void {
    this.epoch++;
    if (this.#tracked || this.#up === undefined || this.#up) this.#events.untracked();
    this.#tracked = false;
    this.#state(false);
  }

  /** Logs the state once per change. */
  #state(up: boolean): void {
    if (this.#up === up) return;
    this.#up = up;
    if (up) this.#log?.info('backend connected, tracking on');
    else this.#log?.warn({ reason: this.#lastError ?? 'connection closed' }, 'backend unreachable: misses and writes answer 503 until it is back');
  }
}
