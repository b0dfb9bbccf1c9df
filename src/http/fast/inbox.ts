import { Buffer } from 'node:buffer';
/**
 * A fast-path connection's bytes read and not yet used. The usual chunk holds whole requests and
 * is read in place, never copied; only what is left of it (a request cut across chunks) is copied
 * into a buffer of the connection's own, which grows by doubling, so a head or body that arrives
 * in many small pieces costs linear time and at most twice its size. A chunk is the read buffer
 * that all connections share (src/socket-reads.ts): it must be let go of (keep, take) before the
 * read's call returns.
 */
export class Inbox {
  /** `bytes[0..length)` are the bytes not yet used. */
  bytes: Buffer = EMPTY;
  length = 0;
  /** Whether `bytes` is the connection's own (else the socket's chunk, never written into). */
  #owned = false;

  /** `bytes[start..end)` as bytes that outlive this read: a view of the connection's own, else a copy. */
  lasting(start: number, end: number): Buffer {
    const view = this.bytes.subarray(start, end);
    return this.#owned ? view : Buffer.from(view);
  }

  add(chunk: Buffer): void {
    if (this.length === 0) {
      this.bytes = chunk;
      this.#owned = false;
      this.length = chunk.length;
      return;
    }
    // Bytes kept between chunks are always the connection's own (see keep).
    if (this.length + chunk.length > this.bytes.length) {
      const grown = Buffer.allocUnsafe(2 * (this.length + chunk.length));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    chunk.copy(this.bytes, this.length);
    this.length += chunk.length;
  }

  /** Drops the bytes before `at`; what is left is copied out of the socket's chunk. */
  keep(at: number): void {
    const rest = this.length - at;
    if (rest <= 0) return this.clear();
    if (at === 0 && this.#owned) return;
    const kept = Buffer.allocUnsafe(Math.max(2 * rest, 1024));
    this.bytes.copy(kept, 0, at, this.length);
    this.bytes = kept;
    this.#owned = true;
    this.length = rest;
  }

  /** The bytes not yet used, as a buffer of their own, and none left here. */
  take(): Buffer {
    const taken = this.#owned ? this.bytes.subarray(0, this.length) : Buffer.from(this.bytes.subarray(0, this.length));
    this.clear();
    return taken;
  }

  clear(): void {
    this.bytes = EMPTY;
    this.length = 0;
    this.#owned = false;
  }
}

const EMPTY = Buffer.alloc(0);
