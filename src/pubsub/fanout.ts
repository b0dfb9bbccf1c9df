import { Buffer } from 'node:buffer';
import type { Message } from './history.js';

/**
 * A message to a thousand subscribers is a thousand deliveries, but mostly the same bytes: every
 * subscriber of a channel gets the same messages in the same order. Encoding each delivery and
 * joining each subscriber's turn of them (a string per subscriber, flattened and encoded again
 * by its socket's write) cost 10 million string joins a second at 10,000 messages a second to
 * 1,000 subscribers: in a profile of that load, half the HTTP thread's time went to flattening
 * those strings and collecting them. Here a message is encoded once per format and subscription
 * into its topic's log, a subscriber's turn is a range of that log, and a range is joined into
 * bytes once for all the subscribers that share it (the {@link Range} of each).
 */

/** How a format's text is bytes: SSE's events are text (UTF-8), RESP's replies byte strings (one char a byte). */
export type Encoding = 'utf8' | 'latin1';

/** The messages of one subscription (a channel, or a pattern) in one format, during one turn of the event loop. */
class TopicLog {
  readonly texts: string[] = [];
  last: Message | undefined;
  /** Ranges already joined, by `from`, `to` and whether HTTP's chunk framing is around them. */
  readonly #joined = new Map<number, Buffer>();

  constructor(readonly encoding: Encoding) {}

  bytes(from: number, to: number, chunked: boolean): Buffer {
    const key = (from * 0x100000 + to) * 2 + (chunked ? 1 : 0);
    let bytes = this.#joined.get(key);
    if (bytes === undefined) {
      const text = this.texts.slice(from, to).join('');
      // HTTP/1.1's chunk framing, so that a stream's socket is written without ServerResponse's own.
      bytes = chunked ? Buffer.from(`${Buffer.byteLength(text, this.encoding).toString(16)}\r\n${text}\r\n`, this.encoding) : Buffer.from(text, this.encoding);
      this.#joined.set(key, bytes);
    }
    return bytes;
  }
}

/**
 * The logs of one format (SSE's events, RESP2's messages, RESP3's pushes), one per subscription.
 * They live for one turn of the event loop: the next turn starts new ones, and an old one goes
 * with the last range that still holds it.
 */
export class Fanout {
  readonly #encode: (message: Message, pattern: string | null) => string;
  readonly #encoding: Encoding;
  readonly #logs = new Map<string, TopicLog>();
  #clearing = false;
  /** The log the last message went to, for the next subscriber of the same message. */
  #lastMessage: Message | undefined;
  #lastPattern: string | null = null;
  #lastLog: TopicLog | undefined;

  constructor(encoding: Encoding, encode: (message: Message, pattern: string | null) => string) {
    this.#encoding = encoding;
    this.#encode = encode;
  }

  /**
   * `message` for the subscribers of `pattern` (null: of its channel), in `range`. False when it
   * is not the next of the range's messages (another subscription's, a resumed stream's history,
   * a new turn's): the caller takes the range's bytes out first ({@link Range.take}) and adds again.
   */
  add(range: Range, message: Message, pattern: string | null): boolean {
    // The hub hands a message to all the subscribers of a subscription one after the other.
    if (message !== this.#lastMessage || pattern !== this.#lastPattern || this.#lastLog === undefined) {
      this.#lastMessage = message;
      this.#lastPattern = pattern;
      this.#lastLog = this.#logOf(message, pattern);
    }
    const log = this.#lastLog;
    return range.extend(log, log.texts.length - 1);
  }

  #logOf(message: Message, pattern: string | null): TopicLog {
    const topic = pattern === null ? `c${message.channel}` : `p${pattern}`;
    let log = this.#logs.get(topic);
    if (log === undefined) {
      this.#logs.set(topic, (log = new TopicLog(this.#encoding)));
      if (!this.#clearing) {
        this.#clearing = true;
        setImmediate(() => {
          this.#clearing = false;
          this.#logs.clear();
          this.#lastLog = undefined;
        });
      }
    }
    if (log.last !== message) {
      log.last = message;
      log.texts.push(this.#encode(message, pattern));
    }
    return log;
  }
}

/** One subscriber's messages not yet written: consecutive messages of one log. */
export class Range {
  #log: TopicLog | undefined;
  #from = 0;
  #to = 0;
  /** Bytes in it (near enough: characters), for the subscriber's output limit. */
  size = 0;

  get empty(): boolean {
    return this.#log === undefined;
  }

  extend(log: TopicLog, index: number): boolean {
    if (this.#log === undefined) {
      this.#log = log;
      this.#from = index;
    } else if (this.#log !== log || this.#to !== index) return false;
    this.#to = index + 1;
    this.size += log.texts[index]!.length;
    return true;
  }

  /** Its bytes (shared with every subscriber of the same range: not to be changed), and it is empty again. */
  take(chunked = false): Buffer | undefined {
    const log = this.#log;
    if (log === undefined) return undefined;
    this.#log = undefined;
    this.size = 0;
    return log.bytes(this.#from, this.#to, chunked);
  }

  /** Its text, and it is empty again (a RESP reply that must follow it in the connection's output). */
  takeText(): string {
    const log = this.#log;
    if (log === undefined) return '';
    this.#log = undefined;
    this.size = 0;
    return log.texts.slice(this.#from, this.#to).join('');
  }

  clear(): void {
    this.#log = undefined;
    this.size = 0;
  }
}
