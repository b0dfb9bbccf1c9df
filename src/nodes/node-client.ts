import { nodeUnavailable, type CacheError } from '../errors.js';
import { NO_COUNTS, Op, Status, type BatchReply, type Command, type CrashKind, type RingAnnouncement, type NodeInfo, type Result, type StoreCounts } from '../core/protocol.js';

/** Most value bytes in one message to a node; see {@link NodeClient.send}. */
export const MAX_BATCH_BYTES = 2 * 1024 * 1024;
import { SharedReader } from './shared-reader.js';
import type { NodeTransport } from './transport.js';
import { batchRequest } from '../core/batch.js';

/** Receives one command's outcome, and the id of the node that gave it. */
export type ResultCallback = (error: CacheError | null, result: Result | undefined, node: string) => void;

/**
 * The main thread's handle on one node. Commands issued during one event-loop turn are queued and
 * sent as one batch from a setImmediate callback, that is after the poll phase has handed every
 * readable socket its request; one reply then settles them all. (A microtask would flush after
 * each request instead: node runs microtasks between I/O callbacks.)
 * The hot path is callback-based: no promise per command.
 */
export class NodeClient {
  readonly id: string;
  readonly #transport: NodeTransport;
  readonly #ringVersion: () => number;
  #commands: Command[] = [];
  #callbacks: ResultCallback[] = [];
  #scheduled = false;
  /** Value bytes queued for the next message. */
  #bytes = 0;
  #nextBatchId = 1;
  #alive = true;
  /** The node's shared memory as far as its replies have brought it: reads without a message. */
  readonly reader: SharedReader;
  /** An {@link Op.Shared} is on its way: its reply brings the whole of the shared memory. */
  #sharing = false;
  /** Batches sent and the commands they carried: commands per batch is the batching factor. */
  batchesSent = 0;
  commandsSent = 0;
  /** Keys the node held after its latest reply. */
  keysHeld = 0;
  /**
   * The node's counters as its latest {@link info} reported them: what stays in the server's
   * totals when this thread dies or leaves. (Carried by every reply they cost a SET 1-2% of
   * throughput; the totals only ever show counts that an Info reported, so they never go down.)
   */
  #counts: Readonly<StoreCounts> = NO_COUNTS;

  constructor(id: string, transport: NodeTransport, ringVersion: () => number) {
    this.id = id;
    this.reader = new SharedReader(id);
    this.#transport = transport;
    this.#ringVersion = ringVersion;
    transport.onDeath(() => {
      this.#alive = false;
    });
    this.resync();
  }

  /**
   * Asks for all of the node's shared memory, once at a time: at the start (a reply consumed by
   * the transport may have carried the first table) and when the table in hand is retired.
   */
  resync(): void {
    if (this.#sharing) return;
    this.#sharing = true;
    this.send([Op.Shared], () => {
      this.#sharing = false;
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  get threadId(): number {
    return this.#transport.threadId;
  }

  /** Tells the thread the current ring directly (it may have started after the broadcast). */
  announce(ring: RingAnnouncement): void {
    this.#transport.announce(ring);
  }

  /** `listener` runs once if this thread dies (not when it is closed). */
  onDeath(listener: (reason: string) => void): void {
    this.#transport.onDeath(listener);
  }

  /**
   * Makes the thread die the way `how` says (POST /debug/crash): `terminate` from here, the
   * others from inside the thread.
   */
  crash(how: CrashKind): void {
    if (how === 'terminate') this.#transport.kill();
    else this.send([Op.Crash, how], () => undefined);
  }

  send(command: Command, callback: ResultCallback): void {
    if (!this.#alive) {
      callback(nodeUnavailable(), undefined, this.id);
      return;
    }
    if (command[0] === Op.Set) {
      // A turn's values travel in messages of at most MAX_BATCH_BYTES, so that a burst of large
      // values never lands in a node's heap at once (its heap limit leaves room for one message).
      if (this.#bytes > 0 && this.#bytes + command[2].length > MAX_BATCH_BYTES) this.#flush();
      this.#bytes += command[2].length;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onImmediate);
    }
    this.#commands.push(command);
    this.#callbacks.push(callback);
  }

  /** The node's counters: its latest Info's, and the reads answered here from its shared memory. */
  get counts(): Readonly<StoreCounts> {
    return this.#withReads(this.#counts);
  }

  /** The node's figures (undefined if it refused), riding its next batch; its counts are kept. */
  async info(): Promise<NodeInfo | undefined> {
    const result = await this.run([Op.Info]);
    if (result.status !== Status.Ok || result.info === undefined) return undefined;
    this.#counts = result.info;
    return this.#withReads(result.info);
  }

  #withReads<T extends StoreCounts>(counts: Readonly<T>): T {
    return { ...counts, hits: counts.hits + this.reader.hits, misses: counts.misses + this.reader.misses };
  }

  run(command: Command): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.send(command, (error, result) => (error === null ? resolve(result!) : reject(error)));
    });
  }

  /** Stops the thread; queued and in-flight commands fail with NODE_UNAVAILABLE. */
  async close(): Promise<void> {
    this.#alive = false;
    await this.#transport.close();
  }

  readonly #onImmediate = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    this.#bytes = 0;
    if (this.#commands.length === 0) return;
    const commands = this.#commands;
    const callbacks = this.#callbacks;
    this.#commands = [];
    this.#callbacks = [];
    if (!this.#alive) {
      this.#failAll(callbacks);
      return;
    }
    this.batchesSent++;
    this.commandsSent += commands.length;
    this.#transport
      .exchange(batchRequest(this.#nextBatchId++, this.#ringVersion(), commands))
      .then(
        (reply: BatchReply) => {
          this.keysHeld = reply.keysHeld;
          if (reply.shared !== undefined) this.reader.apply(reply.shared);
          for (let i = 0; i < callbacks.length; i++) callbacks[i]!(null, reply.results[i], this.id);
        },
        () => this.#failAll(callbacks),
      );
  }

  #failAll(callbacks: ResultCallback[]): void {
    const error = nodeUnavailable();
    for (const callback of callbacks) callback(error, undefined, this.id);
  }
}
