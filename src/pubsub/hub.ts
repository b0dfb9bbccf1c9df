import { Glob } from '../core/glob.js';
import { History, type Message, type Missed } from './history.js';

export type { Message } from './history.js';

/**
 * One subscriber (a RESP connection, an SSE stream). `deliver` must not wait: it queues the
 * message on its connection and answers false when that connection is past its output limit,
 * and the hub then drops it.
 */
export interface Subscriber {
  deliver(message: Message, pattern: string | null): boolean;
  /** The hub gives up on it (over its limit, or the server is shutting down): it closes. */
  drop(): void;
}

/** The hub's counters (INFO, /stats). */
export interface PubSubStats {
  channels: number;
  patterns: number;
  subscribers: number;
  published: number;
  delivered: number;
  /** Subscribers disconnected at their output limit. */
  dropped: number;
}

/**
 * Client pub/sub, for both front ends, on the main thread where both live: channels and Redis
 * glob patterns, each with its subscribers. Publishing never waits for a subscriber: each
 * delivery is a write queued on its connection, and one whose connection holds more than its
 * limit (--subscriber-buffer) is dropped, as Redis's client-output-buffer-limit pubsub does.
 * A subscriber is registered only while its connection lives: the front ends unsubscribe it from
 * everything when it closes.
 */
export class PubSubHub {
  readonly #channels = new Map<string, Set<Subscriber>>();
  readonly #patterns = new Map<string, { glob: Glob; subscribers: Set<Subscriber> }>();
  /** How many channels and patterns each subscriber has. */
  readonly #counts = new Map<Subscriber, number>();
  readonly #history: History;
  /** Ids start from the clock (in microseconds), so that they still increase after a restart. */
  #nextId = Date.now() * 1000;
  #published = 0;
  #delivered = 0;
  #dropped = 0;

  /** `historyPerChannel` messages of each channel are kept for resuming subscribers (--pubsub-history), within `historyBytes` a channel. */
  constructor(historyPerChannel = 1000, historyBytes = 8 * 1024 * 1024) {
    this.#history = new History(historyPerChannel, historyBytes);
  }

  /** What a subscriber of `channel` (or of `pattern`) missed after message `lastId`, from the history. */
  since(lastId: number, channel: string | null, pattern: string | null): Missed {
    return this.#history.since(lastId, channel, pattern === null ? null : new Glob(pattern));
  }

  /** Subscribes to a channel; the subscriber's number of channels and patterns after it. */
  subscribe(subscriber: Subscriber, channel: string): number {
    let set = this.#channels.get(channel);
    if (set === undefined) this.#channels.set(channel, (set = new Set()));
    return this.#add(subscriber, set);
  }

  psubscribe(subscriber: Subscriber, pattern: string): number {
    let entry = this.#patterns.get(pattern);
    if (entry === undefined) this.#patterns.set(pattern, (entry = { glob: new Glob(pattern), subscribers: new Set() }));
    return this.#add(subscriber, entry.subscribers);
  }

  unsubscribe(subscriber: Subscriber, channel: string): number {
    const set = this.#channels.get(channel);
    if (set !== undefined && this.#remove(subscriber, set) && set.size === 0) this.#channels.delete(channel);
    return this.#counts.get(subscriber) ?? 0;
  }

  punsubscribe(subscriber: Subscriber, pattern: string): number {
    const entry = this.#patterns.get(pattern);
    if (entry !== undefined && this.#remove(subscriber, entry.subscribers) && entry.subscribers.size === 0) this.#patterns.delete(pattern);
    return this.#counts.get(subscriber) ?? 0;
  }

  /** Everything `subscriber` is subscribed to goes (its connection closed). */
  forget(subscriber: Subscriber): void {
    if (!this.#counts.has(subscriber)) return;
    for (const channel of [...this.#channels.keys()]) this.unsubscribe(subscriber, channel);
    for (const pattern of [...this.#patterns.keys()]) this.punsubscribe(subscriber, pattern);
    this.#counts.delete(subscriber);
  }

  /** The channels `subscriber` is on, and its patterns (UNSUBSCRIBE with no arguments). */
  channelsOf(subscriber: Subscriber): { channels: string[]; patterns: string[] } {
    const channels = [...this.#channels].filter(([, set]) => set.has(subscriber)).map(([channel]) => channel);
    const patterns = [...this.#patterns].filter(([, entry]) => entry.subscribers.has(subscriber)).map(([pattern]) => pattern);
    return { channels, patterns };
  }

  /** Delivers to every subscriber of the channel and of each matching pattern; how many received it. */
  publish(channel: string, data: string): number {
    const message: Message = { id: this.#nextId++, channel, data };
    this.#published++;
    this.#history.record(message);
    let receivers = 0;
    const overLimit: Subscriber[] = [];
    const send = (subscriber: Subscriber, pattern: string | null): void => {
      if (subscriber.deliver(message, pattern)) receivers++;
      else overLimit.push(subscriber);
    };
    for (const subscriber of this.#channels.get(channel) ?? []) send(subscriber, null);
    for (const [pattern, entry] of this.#patterns) if (entry.glob.matches(channel)) for (const subscriber of entry.subscribers) send(subscriber, pattern);
    this.#delivered += receivers;
    for (const subscriber of overLimit) this.#drop(subscriber);
    return receivers;
  }

  /** PUBSUB CHANNELS [pattern]: the channels with at least one subscriber. */
  activeChannels(pattern?: string): string[] {
    const glob = pattern === undefined ? undefined : new Glob(pattern);
    return [...this.#channels.keys()].filter((channel) => glob === undefined || glob.matches(channel));
  }

  /** PUBSUB NUMSUB: subscribers of a channel (patterns not counted, as in Redis). */
  subscribersOf(channel: string): number {
    return this.#channels.get(channel)?.size ?? 0;
  }

  /** Every subscriber leaves (the server is shutting down). */
  close(): void {
    for (const subscriber of [...this.#counts.keys()]) {
      this.forget(subscriber);
      subscriber.drop();
    }
  }

  stats(): PubSubStats {
    return {
      channels: this.#channels.size,
      patterns: this.#patterns.size,
      subscribers: this.#counts.size,
      published: this.#published,
      delivered: this.#delivered,
      dropped: this.#dropped,
    };
  }

  #drop(subscriber: Subscriber): void {
    if (!this.#counts.has(subscriber)) return;
    this.#dropped++;
    this.forget(subscriber);
    subscriber.drop();
  }

  #add(subscriber: Subscriber, set: Set<Subscriber>): number {
    if (!set.has(subscriber)) {
      set.add(subscriber);
      this.#counts.set(subscriber, (this.#counts.get(subscriber) ?? 0) + 1);
    }
    return this.#counts.get(subscriber)!;
  }

  #remove(subscriber: Subscriber, set: Set<Subscriber>): boolean {
    if (!set.delete(subscriber)) return false;
    const left = (this.#counts.get(subscriber) ?? 1) - 1;
    if (left === 0) this.#counts.delete(subscriber);
    else this.#counts.set(subscriber, left);
    return true;
  }
}
