import type { BatchReply, BatchRequest, RingAnnouncement } from '../core/protocol.js';

/**
 * How the main thread drives one node thread. Two implementations exist, a plain Worker over its
 * own port (src/nodes/worker-transport.ts) and a one-thread piscina pool
 * (src/nodes/piscina-transport.ts); both pass the same test suite (test/transport.test.ts) and
 * `npm run bench -- --piscina` measures them side by side. src/nodes/start.ts picks one.
 */
export interface NodeTransport {
  readonly threadId: number;
  /** Sends one batch; resolves with its reply, rejects with NODE_UNAVAILABLE if the thread dies. */
  exchange(request: BatchRequest): Promise<BatchReply>;
  /** Tells this thread the current ring directly (a thread started late missed the broadcast). */
  announce(ring: RingAnnouncement): void;
  /** `listener` runs once if the thread dies or is replaced while not being closed. */
  onDeath(listener: (reason: string) => void): void;
  /** Ends the thread abruptly, as a crash would: death listeners run, pending exchanges reject. */
  kill(): void;
  /** Stops the thread. Pending exchanges reject. */
  close(): Promise<void>;
}

/** How long a new node thread may take to report ready before start-up fails. */
export const START_TIMEOUT_MS = 10_000;

/**
 * The life of a node thread, shared by both transports: it dies once, its death listeners run
 * unless it was being closed, and nothing is sent to it after that.
 */
export abstract class TransportLifecycle {
  readonly #deathListeners: Array<(reason: string) => void> = [];
  #closing = false;
  #dead = false;

  protected get dead(): boolean {
    return this.#dead;
  }

  onDeath(listener: (reason: string) => void): void {
    this.#deathListeners.push(listener);
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.stop();
  }

  /** Ends the thread for {@link close}. */
  protected abstract stop(): Promise<void>;

  /** What the transport lets go of when its thread is gone; `closing` if close() caused it. */
  protected abstract released(closing: boolean): void;

  /** The thread has ended or been replaced: once, whatever reported it first. */
  protected die(reason: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.released(this.#closing);
    if (!this.#closing) for (const listener of this.#deathListeners) listener(reason);
  }
}
