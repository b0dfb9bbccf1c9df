import process from 'node:process';
import type { Socket } from 'node:net';
import { Range, type Fanout } from '../pubsub/fanout.js';
import type { Message } from '../pubsub/hub.js';

/**
 * A connection's output: replies in the order of their commands whatever order they come in
 * (each command has a slot), messages of no command (pub/sub, MONITOR) between them, and one
 * write for all of a turn of the event loop. A run of pub/sub messages with no reply due before
 * it is kept as a {@link Range}, whose bytes are shared with every subscriber that got the same
 * run (src/pubsub/fanout.ts), and is written after the replies before it.
 */
export class ReplyOutput {
  readonly #socket: Socket;
  /** Whether the connection ends once the replies due are written. */
  readonly #ending: () => boolean;
  readonly #written$: () => void;
  /** Slots handed out, and the first not yet written; replies that came early wait in `#early`. */
  #nextSlot = 0;
  #written = 0;
  readonly #early = new Map<number, string>();
  #out = '';
  /** Pub/sub messages after `#out`, not yet written. */
  readonly #messages = new Range();
  #flushing = false;
  #closed = false;

  /** `afterWrite`: each turn's write is out (the connection decides whether to read on). */
  constructor(socket: Socket, ending: () => boolean, afterWrite: () => void) {
    this.#socket = socket;
    this.#ending = ending;
    this.#written$ = afterWrite;
  }

  /** The next reply's place. */
  slot(): number {
    return this.#nextSlot++;
  }

  /** Replies due and not yet written (a deep pipeline, or slow commands). */
  get waiting(): number {
    return this.#nextSlot - this.#written;
  }

  /** Characters held here, not yet handed to the socket. */
  get size(): number {
    return this.#out.length + this.#messages.size;
  }

  /** The reply of `slot`: written in its place. */
  put(slot: number, encoded: string): void {
    if (slot !== this.#written) {
      this.#early.set(slot, encoded);
      return;
    }
    if (!this.#messages.empty) this.#out += this.#messages.takeText();
    this.#out += encoded;
    this.#written++;
    for (let next = this.#early.get(this.#written); next !== undefined; next = this.#early.get(this.#written)) {
      this.#early.delete(this.#written);
      this.#out += next;
      this.#written++;
    }
    this.schedule();
  }

  /** A message of no command: after the replies already due, before any later one. */
  push(encoded: string): void {
    this.put(this.slot(), encoded);
  }

  /** A pub/sub message, as `fanout` encodes it (or `encoded()` when a reply is due before it). */
  message(fanout: Fanout, message: Message, pattern: string | null, encoded: () => string): void {
    if (this.#written !== this.#nextSlot) return this.push(encoded());
    if (this.#messages.empty) this.schedule();
    if (fanout.add(this.#messages, message, pattern)) return;
    this.#out += this.#messages.takeText();
    fanout.add(this.#messages, message, pattern);
  }

  /** One write for all the replies of this turn of the event loop. */
  schedule(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    process.nextTick(() => this.#flush());
  }

  /** The connection is gone: nothing more is written. */
  close(): void {
    this.#closed = true;
    this.#early.clear();
    this.#messages.clear();
    this.#out = '';
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#closed) return;
    const out = this.#out;
    this.#out = '';
    if (this.#ending() && this.#written === this.#nextSlot) return void this.#socket.end(out + this.#messages.takeText(), 'latin1');
    if (out.length > 0) this.#socket.write(out, 'latin1');
    const messages = this.#messages.take();
    if (messages !== undefined) this.#socket.write(messages);
    this.#written$();
  }
}
