import { performance } from 'node:perf_hooks';
import { Cluster, ReplyError, type Redis } from './ioredis.js';
import type { Logger } from 'pino';
import { backendUnavailable, CacheError, ErrorCode, notReplicated, wrongType } from '../errors.js';
import { connect, type Connection } from './connect.js';
import { BroadcastTracking, RedirectTracking, type TrackingEvents } from './tracking.js';
import type { BackendAddress } from './url.js';

/** An error reply of Redis (the command was refused), not a connection's failure. */
export function isReplyError(error: unknown): error is Error {
  return error instanceof ReplyError;
}

/**
 * A refusal by the backend as the cache's error: WRONGTYPE as WRONG_TYPE, any other (CROSSSLOT on
 * a Cluster, a command the backend does not allow) as a 400 with Redis's words; anything else as
 * it is.
 */
export function asBackendError(error: unknown): unknown {
  if (!isReplyError(error)) return error;
  if (error.message.startsWith('WRONGTYPE')) return wrongType();
  // A Cluster moving its slots (a failover): the command did not run; a retry goes to the new master.
  if (MOVING.test(error.message)) return backendUnavailable();
  return new CacheError(ErrorCode.BadRequest, `The backend refused it: ${error.message}`);
}

const MOVING = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /;

const FETCH = "local v = redis.call('GET', KEYS[1]) if not v then return false end return {v, redis.call('PTTL', KEYS[1])}";

/** The command defineCommand adds for {@link FETCH}. */
interface Fetcher {
  nearFetchBuffer(key: string): Promise<Reply>;
}

/** What a reply of the backend can be, read as Buffers (values are bytes). */
export type Reply = Buffer | number | null | Reply[];

export type LinkEvents = TrackingEvents;

type Args = Array<string | Buffer | number>;

/**
 * The connections to --backend, through ioredis (chosen over node-redis for its Cluster client,
 * which routes each command by its key's slot and follows failovers, and its reconnection with
 * back-off): `data` carries every command, pipelined in order, to one server or to a Cluster's
 * masters; with --backend-wait, writes have a connection of their own, each followed by WAIT
 * (which holds up its connection, so reads do not queue behind it). Tracking (which keys Redis
 * reports when they change) is src/backend/tracking.ts's.
 */
export class BackendLink {
  readonly #data: Connection;
  readonly #writer: Connection | undefined;
  readonly #tracking: RedirectTracking | BroadcastTracking;
  readonly #waitReplicas: number;
  readonly #waitMs: number;
  readonly #log: Logger | undefined;
  readonly cluster: boolean;
  /** The database the keys are in (0 on a Cluster). */
  readonly db: number;
  #up: boolean | undefined;
  #lastError: string | undefined;
  /** Calls made, and their total time, for the figures. */
  calls = 0;
  callMs = 0;

  constructor(address: BackendAddress, timeoutMs: number, waitReplicas: number, events: LinkEvents, log: Logger | undefined) {
    this.#log = log;
    this.#waitReplicas = waitReplicas;
    // WAIT's own limit a little under the command timeout, so that its count comes back in time.
    this.#waitMs = Math.max(1, Math.floor(timeoutMs * 0.8));
    this.cluster = address.kind === 'cluster';
    this.db = address.db;
    this.#data = connect(address, timeoutMs, 'distributed-cache');
    // EVALSHA, and EVAL once when the server does not know the script yet (ioredis's defineCommand).
    this.#data.defineCommand('nearFetch', { numberOfKeys: 1, lua: FETCH });
    this.#writer = waitReplicas > 0 ? connect(address, timeoutMs, 'distributed-cache-writes') : undefined;
    const reported: TrackingEvents = {
      invalidate: (keys) => events.invalidate(keys),
      untracked: () => {
        this.#state(false);
        events.untracked();
      },
      tracked: () => {
        this.#state(true);
        events.tracked();
      },
    };
    this.#tracking =
      this.#data instanceof Cluster ? new BroadcastTracking(address, timeoutMs, this.#data, reported) : new RedirectTracking(address, timeoutMs, this.#data, reported);
    for (const connection of [this.#data, ...(this.#writer === undefined ? [] : [this.#writer])]) {
      // ioredis reports each failed attempt; the state change is logged once, with the last reason.
      connection.on('error', (error: Error) => (this.#lastError = error.message));
      connection.on('close', () => this.#state(false));
      connection.connect().catch(() => undefined);
    }
  }

  /** Whether Redis reports every change to the keys kept (tracking on, since `epoch`). */
  get tracked(): boolean {
    return this.#tracking.tracked;
  }

  /** Changes at every loss of tracking: work begun before it must not keep what it read. */
  get epoch(): number {
    return this.#tracking.epoch;
  }

  get up(): boolean {
    return this.#data.status === 'ready';
  }

  /**
   * One command on the data connection; fails at once with BACKEND_UNAVAILABLE while it is down,
   * or after --backend-timeout. A Redis error reply rejects with ioredis's ReplyError.
   */
  call(name: string, args: Args): Promise<Reply> {
    return this.#timed(this.#data, async () => (await this.#data.callBuffer(name, ...args)) as Reply);
  }

  /** A write: {@link call}, or with --backend-wait on the writes' connection, answered once WAIT confirms it. */
  write(name: string, args: Args): Promise<Reply> {
    const writer = this.#writer;
    if (writer === undefined) return this.call(name, args);
    return this.#timed(writer, async () => {
      // One pipeline: on a Cluster it goes to the key's master, WAIT with it.
      const results = (await writer.pipeline().callBuffer(name, ...args).call('WAIT', this.#waitReplicas, this.#waitMs).exec()) ?? [];
      const [written, waited] = results as Array<[Error | null, unknown] | undefined>;
      if (written === undefined || waited === undefined) throw backendUnavailable();
      if (written[0] !== null) {
        // The pipeline went to a master that no longer has the slot: learn the new layout first.
        if (writer instanceof Cluster && MOVING.test(written[0].message)) writer.refreshSlotsCache();
        throw written[0];
      }
      if (waited[0] !== null || Number(waited[1]) < this.#waitReplicas) throw notReplicated(this.#waitReplicas);
      return written[1] as Reply;
    });
  }

  /**
   * A key's value and its milliseconds left (-1: no expiry) in one step (a script: one command
   * where MULTI GET PTTL EXEC is four, for a near-cache miss); null if the backend lacks it.
   * Keys a script reads are tracked like any other read of the connection.
   */
  async fetch(key: string): Promise<[value: Buffer, pttl: number] | null> {
    const reply = await this.#timed(this.#data, () => (this.#data as Connection & Fetcher).nearFetchBuffer(key));
    return Array.isArray(reply) ? [reply[0] as Buffer, Number(reply[1])] : null;
  }

  /** How many masters hold the keys: a Cluster's, or 1. */
  get masterCount(): number {
    return this.#masters().length;
  }

  /** One command on each master (KEYS, DBSIZE, FLUSHDB on a Cluster): their replies, masters in address order. */
  onEach(name: string, args: Args): Promise<Reply[]> {
    return this.#timed(this.#data, () => Promise.all(this.#masters().map(async (node) => (await node.callBuffer(name, ...args)) as Reply)));
  }

  /** One command on the `index`th master, in address order (a step of SCAN over a Cluster). */
  onMaster(index: number, name: string, args: Args): Promise<Reply> {
    return this.#timed(this.#data, async () => {
      const node = this.#masters()[index];
      if (node === undefined) throw backendUnavailable();
      return (await node.callBuffer(name, ...args)) as Reply;
    });
  }

  #masters(): Connection[] {
    if (!(this.#data instanceof Cluster)) return [this.#data];
    const key = (node: Redis): string => `${node.options.host}:${node.options.port}`;
    return this.#data.nodes('master').sort((a, b) => key(a).localeCompare(key(b)));
  }

  async close(): Promise<void> {
    this.#tracking.close();
    const connections = [this.#data, ...(this.#writer === undefined ? [] : [this.#writer])];
    await Promise.all(connections.map((connection) => connection.quit().catch(() => undefined)));
    for (const connection of connections) connection.disconnect();
  }

  /** Runs `work` on `connection`, timed; any failure but Redis's own refusal (or WAIT's) is BACKEND_UNAVAILABLE. */
  async #timed<T>(connection: Connection, work: () => Promise<T>): Promise<T> {
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

  /** Logs the state once per change. */
  #state(up: boolean): void {
    if (this.#up === up) return;
    this.#up = up;
    if (up) this.#log?.info('backend connected, tracking on');
    else this.#log?.warn({ reason: this.#lastError ?? 'connection closed' }, 'backend unreachable: misses and writes answer 503 until it is back');
  }
}
