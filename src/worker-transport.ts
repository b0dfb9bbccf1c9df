import { Worker } from 'node:worker_threads';
import { nodeUnavailable } from './errors.js';
import type { BatchReply, BatchRequest, FromWorker, RingAnnouncement, ShardConfig } from './protocol.js';
import { heapLimits, START_TIMEOUT_MS, type ShardTransport } from './transport.js';

const SHARD_SCRIPT = new URL('../workers/shard.js', import.meta.url);

interface Pending {
  resolve: (reply: BatchReply) => void;
  reject: (error: Error) => void;
}

/** A shard as a plain worker_thread; replies are matched to requests by batch id. */
export class WorkerTransport implements ShardTransport {
  readonly threadId: number;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #deathListeners: Array<(reason: string) => void> = [];
  #closing = false;
  #dead = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.threadId = worker.threadId;
    worker.on('message', (message: FromWorker) => {
      if (message.type !== 'batch') return;
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      pending.resolve(message);
    });
    worker.on('error', (error) => this.#die(`crashed: ${error.message}`));
    worker.on('exit', (code) => this.#die(`exited with code ${code}`));
  }

  static start(config: ShardConfig): Promise<WorkerTransport> {
    // An explicit execArgv: otherwise the thread inherits the parent's loaders and flags (under
    // a test runner that makes start-up several times slower).
    const worker = new Worker(SHARD_SCRIPT, { workerData: config, execArgv: [], resourceLimits: heapLimits(config) });
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
    if (this.#dead) return Promise.reject(nodeUnavailable());
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { resolve, reject });
      this.#worker.postMessage(request);
    });
  }

  announce(ring: RingAnnouncement): void {
    if (!this.#dead) this.#worker.postMessage(ring);
  }

  onDeath(listener: (reason: string) => void): void {
    this.#deathListeners.push(listener);
  }

  kill(): void {
    void this.#worker.terminate();
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#worker.terminate();
  }

  #die(reason: string): void {
    if (this.#dead) return;
    this.#dead = true;
    const error = nodeUnavailable();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    if (!this.#closing) for (const listener of this.#deathListeners) listener(reason);
  }
}
