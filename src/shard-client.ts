import { nodeUnavailable } from './errors.js';
import type { BatchReply, Command, Result } from './protocol.js';
import type { ShardTransport } from './transport.js';

/**
 * The main thread's handle on one shard. Commands issued during one event-loop turn are queued and
 * sent as one batch from a setImmediate callback, that is after the poll phase has handed every
 * readable socket its request; one reply then settles them all. (A microtask would flush after
 * each request instead: node runs microtasks between I/O callbacks.)
 */
export class ShardClient {
  readonly id: string;
  readonly transport: ShardTransport;
  readonly #ringVersion: () => number;
  #commands: Command[] = [];
  #resolvers: Array<(result: Result) => void> = [];
  #rejecters: Array<(error: Error) => void> = [];
  #scheduled = false;
  #nextBatchId = 1;
  #alive = true;
  /** Batches sent, for tests and /stats: commands per batch is the batching factor. */
  batchesSent = 0;
  commandsSent = 0;

  constructor(id: string, transport: ShardTransport, ringVersion: () => number) {
    this.id = id;
    this.transport = transport;
    this.#ringVersion = ringVersion;
    transport.onDeath(() => {
      this.#alive = false;
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  run(command: Command): Promise<Result> {
    if (!this.#alive) return Promise.reject(nodeUnavailable());
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
    this.#commands.push(command);
    return new Promise<Result>((resolve, reject) => {
      this.#resolvers.push(resolve);
      this.#rejecters.push(reject);
    });
  }

  /** Stops the thread; queued and in-flight commands fail with NODE_UNAVAILABLE. */
  async close(): Promise<void> {
    this.#alive = false;
    await this.transport.close();
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const commands = this.#commands;
    const resolvers = this.#resolvers;
    const rejecters = this.#rejecters;
    this.#commands = [];
    this.#resolvers = [];
    this.#rejecters = [];
    if (!this.#alive) {
      rejectAll(rejecters);
      return;
    }
    this.batchesSent++;
    this.commandsSent += commands.length;
    this.transport
      .exchange({ type: 'batch', id: this.#nextBatchId++, ringVersion: this.#ringVersion(), commands })
      .then(
        (reply: BatchReply) => {
          for (let i = 0; i < resolvers.length; i++) resolvers[i]!(reply.results[i]!);
        },
        () => rejectAll(rejecters),
      );
  };
}

function rejectAll(rejecters: Array<(error: Error) => void>): void {
  const error = nodeUnavailable();
  for (const reject of rejecters) reject(error);
}
