import { Piscina } from 'piscina';
import { nodeUnavailable } from '../errors.js';
import { Op, type BatchReply, type BatchRequest, type NodeConfig, type RingAnnouncement } from '../core/protocol.js';
import { heapLimits } from './heap-limits.js';
import { START_TIMEOUT_MS, TransportLifecycle, type NodeTransport } from './transport.js';
import { batchRequest } from '../core/batch.js';

const ENTRY_SCRIPT = new URL('../../workers/piscina-entry.js', import.meta.url).href;

/**
 * A node as a one-thread piscina pool. The store lives in the thread, so the pool runs exactly
 * one thread that never idles out. `atomics: 'disabled'`: with piscina's default 'sync' an idle
 * thread blocks in Atomics.wait and its cluster-channel messages never run.
 * Piscina replaces a dead thread with an empty one; that replacement is treated as the node's
 * death, so a lost store is never mistaken for a live one.
 */
export class PiscinaTransport extends TransportLifecycle implements NodeTransport {
  readonly threadId: number;
  readonly #pool: Piscina<BatchRequest, BatchReply>;

  private constructor(pool: Piscina<BatchRequest, BatchReply>, threadId: number) {
    super();
    this.#pool = pool;
    this.threadId = threadId;
    pool.on('workerDestroy', () => this.die('thread destroyed'));
    pool.on('error', (error: Error) => this.die(`crashed: ${error.message}`));
  }

  static async start(config: NodeConfig): Promise<PiscinaTransport> {
    const pool = new Piscina<BatchRequest, BatchReply>({
      filename: ENTRY_SCRIPT,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'disabled',
      // A batch the thread cannot take yet goes back to the head of piscina's queue, not its tail
      // (the default): from the tail, a later batch overtakes it and its writes land after the
      // later ones (without it, 200 queued SETs of one key left the 128th value; see
      // test/transport.test.ts).
      stricterFIFO: true,
      // Batches are synchronous in the thread; letting several wait at the thread keeps the
      // main thread from queueing them behind each other's round trip.
      concurrentTasksPerWorker: 16,
      workerData: config,
      execArgv: [],
      resourceLimits: heapLimits(config),
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const probe = pool.run(batchRequest(0, config.ring.version, [[Op.Info]]));
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready after ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      });
      const reply = await Promise.race([probe, timeout]);
      const first = reply.results[0];
      const threadId = first?.status === 0 && first.info ? first.info.threadId : -1;
      return new PiscinaTransport(pool, threadId);
    } catch (error) {
      await pool.destroy();
      throw new Error(`${config.id} failed to start: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  exchange(request: BatchRequest): Promise<BatchReply> {
    if (this.dead) return Promise.reject(nodeUnavailable());
    return this.#pool.run(request).catch(() => {
      this.die('task failed');
      throw nodeUnavailable();
    });
  }

  announce(_ring: RingAnnouncement): void {
    // A piscina thread has no port of its own to the main thread outside of tasks; it learns
    // the ring from the cluster channel and from the version every batch carries.
  }

  kill(): void {
    for (const thread of this.#pool.threads) void thread.terminate();
  }

  protected async stop(): Promise<void> {
    await this.#pool.destroy();
  }

  protected released(closing: boolean): void {
    // Piscina would keep the empty thread it starts in place of the dead one; the node is
    // restarted as a new pool instead. (While closing, the pool is being destroyed already.)
    if (!closing) void this.#pool.destroy();
  }
}
