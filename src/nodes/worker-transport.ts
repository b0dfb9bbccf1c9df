import { Worker } from 'node:worker_threads';
import { nodeUnavailable } from '../errors.js';
import type { BatchReply, BatchRequest, FromWorker, NodeConfig, RingAnnouncement } from '../core/protocol.js';
import { heapLimits } from './heap-limits.js';
import { START_TIMEOUT_MS, TransportLifecycle, type NodeTransport } from './transport.js';

const ENTRY_SCRIPT = new URL('../../workers/worker-entry.js', import.meta.url);

interface Pending {
  resolve: (reply: BatchReply) => void;
  reject: (error: Error) => void;
}

/** A node as a plain worker_thread; replies are matched to requests by batch id. */
export class WorkerTransport extends TransportLifecycle implements NodeTransport {
  readonly threadId: number;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();

  private constructor(worker: Worker) {
    super();
    this.#worker = worker;
    this.threadId = worker.threadId;
    worker.on('message', (message: FromWorker) => {
      if (message.type !== 'batch') return;
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      pending.resolve(message);
    });
    worker.on('error', (error) => this.die(`crashed: ${error.message}`));
    worker.on('exit', (code) => this.die(`exited with code ${code}`));
  }

  static start(config: NodeConfig): Promise<WorkerTransport> {
    // An explicit execArgv: otherwise the thread inherits the parent's loaders and flags (under
    // a test runner that makes start-up several times slower).
    const worker = new Worker(ENTRY_SCRIPT, { workerData: config, execArgv: [], resourceLimits: heapLimits(config) });
    return new Promise((resolve, reject) => {
      const fail = (reason: string): void => {
        clearTimeout(timer);
        void worker.terminate();
        reject(new Error(`${config.id} failed to start: ${reason}`));
      };
      const timer = setTimeout(() => fail(`not ready after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
      const onError = (error: Error): void => fail(error.message);
      const onExit = (code: number): void => fail(`exited with code ${code}`);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.once('message', (message: FromWorker) => {
        clearTimeout(timer);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (message.type === 'ready') resolve(new WorkerTransport(worker));
        else fail(`sent ${message.type} before ready`);
      });
    });
  }

  exchange(request: BatchRequest): Promise<BatchReply> {
    if (this.dead) return Promise.reject(nodeUnavailable());
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { resolve, reject });
      this.#worker.postMessage(request);
    });
  }

  announce(ring: RingAnnouncement): void {
    if (!this.dead) this.#worker.postMessage(ring);
  }

  kill(): void {
    void this.#worker.terminate();
  }

  protected async stop(): Promise<void> {
    await this.#worker.terminate();
  }

  protected released(): void {
    const error = nodeUnavailable();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
