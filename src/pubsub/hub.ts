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

/**
 * With --backend, pub/sub goes through the backend's (src/backend/relay.ts), so that a subscriber
 * of any cache server hears a message published on any other: clients' messages are published
 * there, and the hub subscribes there to what its subscribers are on.
 */
export interface Relay {
  /** The first subscriber of a channel (or pattern) here came (`on`), or the last one left. */
  watch(kind: 'channel' | 'pattern', name: string, on: boolean): void;
  /** Publishes a client's message; resolves with the backend's count of receivers. */
  publish(channel: string, data: string): Promise<number>;
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
  /** What each subscriber is on: its connection's leaving undoes exactly these, whatever the number of channels. */
  readonly #of = new Map<Subscriber, { channels: Set<string>; patterns: Set<string> }>();
  readonly #history: History;
  /** Ids start from the clock (in microseconds), so that they still increase after a restart. */
  #nextId = Date.now() * 1000;
  #published = 0;
  #delivered = 0;
  #dropped = 0;
  /** With --backend: where clients' messages go, and what is subscribed to there. */
  relay: Relay | undefined;

  /** `historyPerChannel` messages of each channel are kept for resuming subscribers (--pubsub-history), within `historyBytes` a channel. */
  constructor(historyPerChannel = 1000, historyBytes = 8 * 1024 * 1024) {
    this.#history = new History(historyPerChannel, historyBytes);
  }

  /** What a subscriber of `channel` (or of `pattern`) missed after message `lastId`, from the history. */
  since(lastId: number, channel: string | null, pattern: string | null): Missed {
    return this.#history.since(lastId, channel, pattern === null ? null : new Glob(pattern), pattern);
  }

  /** How many channels and patterns `subscriber` is on (Redis's count in each confirmation). */
  countOf(subscriber: Subscriber): number {
    const of = this.#of.get(subscriber);
    return of === undefined ? 0 : of.channels.size + of.patterns.size;
  }

  /** Subscribes to a channel; the subscriber's number of channels and patterns after it. */
  subscribe(subscriber: Subscriber, channel: string): number {
    let set = this.#channels.get(channel);
    if (set === undefined) {
      this.#channels.set(channel, (set = new Set()));
      this.relay?.watch('channel', channel, true);
    }
    set.add(subscriber);
    this.#mine(subscriber).channels.add(channel);
    return this.countOf(subscriber);
  }

  psubscribe(subscriber: Subscriber, pattern: string): number {
    let entry = this.#patterns.get(pattern);
    if (entry === undefined) {
      this.#patterns.set(pattern, (entry = { glob: new Glob(pattern), subscribers: new Set() }));
      this.relay?.watch('pattern', pattern, true);
    }
    entry.subscribers.add(subscriber);
    this.#mine(subscriber).patterns.add(pattern);
    return this.countOf(subscriber);
  }

  unsubscribe(subscriber: Subscriber, channel: string): number {
    const set = this.#channels.get(channel);
    if (set !== undefined && set.delete(subscriber) && set.size === 0) {
      this.#channels.delete(channel);
      this.relay?.watch('channel', channel, false);
    }
    this.#of.get(subscriber)?.channels.delete(channel);
    return this.#settle(subscriber);
  }

  punsubscribe(subscriber: Subscriber, pattern: string): number {
    const entry = this.#patterns.get(pattern);
    if (entry !== undefined && entry.subscribers.delete(subscriber) && entry.subscribers.size === 0) {
      this.#patterns.delete(pattern);
      this.relay?.watch('pattern', pattern, false);
    }
    this.#of.get(subscriber)?.patterns.delete(pattern);
    return this.#settle(subscriber);
  }

  /** Everything `subscriber` is subscribed to goes (its connection closed). */
  forget(subscriber: Subscriber): void {
    const of = this.#of.get(subscriber);
    if (of === undefined) return;
    for (const channel of [...of.channels]) this.unsubscribe(subscriber, channel);
    for (const pattern of [...of.patterns]) this.punsubscribe(subscriber, pattern);
  }

  /** The channels `subscriber` is on, and its patterns (UNSUBSCRIBE with no arguments). */
  channelsOf(subscriber: Subscriber): { channels: string[]; patterns: string[] } {
    const of = this.#of.get(subscriber);
    return { channels: [...(of?.channels ?? [])], patterns: [...(of?.patterns ?? [])] };
  }

  /**
   * A client's PUBLISH (either front end): here, or through the backend with --backend (its count
   * of receivers then: each cache server with subscribers of the channel counts once).
   */
  publishFromClient(channel: string, data: string): number | Promise<number> {
    return this.relay === undefined ? this.publish(channel, data) : this.relay.publish(channel, data);
  }

  /**
   * Delivers to every subscriber of the channel and of each matching pattern; how many received
   * it. `via` (a message the relay brings): only the channel's subscribers (null), or only that
   * pattern's.
   */
  publish(channel: string, data: string, via?: string | null): number {
    const message: Message = via === undefined ? { id: this.#nextId++, channel, data } : { id: this.#nextId++, channel, data, via };
    this.#published++;
    this.#history.record(message);
    let receivers = 0;
    const overLimit: Subscriber[] = [];
    const send = (subscriber: Subscriber, pattern: string | null): void => {
      if (subscriber.deliver(message, pattern)) receivers++;
      else overLimit.push(subscriber);
    };
    if (via === undefined || via === null) for (const subscriber of this.#channels.get(channel) ?? []) send(subscriber, null);
    if (via === undefined) {
      for (const [pattern, entry] of this.#patterns) if (entry.glob.matches(channel)) for (const subscriber of entry.subscribers) send(subscriber, pattern);
    } else if (via !== null) for (const subscriber of this.#patterns.get(via)?.subscribers ?? []) send(subscriber, via);
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
    for (const subscriber of [...this.#of.keys()]) {
      this.forget(subscriber);
      subscriber.drop();
    }
  }

  stats(): PubSubStats {
    return {
      channels: this.#channels.size,
      patterns: this.#patterns.size,
      subscribers: this.#of.size,
      published: this.#published,
      delivered: this.#delivered,
      dropped: this.#dropped,
    };
  }

  #drop(subscriber: Subscriber): void {
    if (!this.#of.has(subscriber)) return;
    this.#dropped++;
    this.forget(subscriber);
    subscriber.drop();
  }

  #mine(subscriber: Subscriber): { channels: Set<string>; patterns: Set<string> } {
    let of = this.#of.get(subscriber);
    if (of === undefined) this.#of.set(subscriber, (of = { channels: new Set(), patterns: new Set() }));
    return of;
  }

  /** A subscriber on nothing is no longer one; its count. */
  #settle(subscriber: Subscriber): number {
    const count = this.countOf(subscriber);
    if (count === 0) this.#of.delete(subscriber);
    return count;
  }
}
