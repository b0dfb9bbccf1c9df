import type { Glob } from '../core/glob.js';

/** A published message: its id (one increasing sequence for the server), channel and payload (byte strings). */
export interface Message {
  id: number;
  channel: string;
  data: string;
  /**
   * Relayed from --backend, where each subscription of the relay brings its own copy: null for the
   * copy of a channel subscription, the pattern for that pattern's. Absent: published here, for all.
   */
  via?: string | null;
}

/** Most channels with a history at once; past it the one published to least recently loses its. */
const MAX_CHANNELS = 10_000;
/** Most bytes all histories together hold: past it, the channels published to least recently lose theirs first. */
export const MAX_HISTORY_BYTES = 64 * 1024 * 1024;

/** What a resuming subscriber missed: the messages still held, and how many are gone. */
export interface Missed {
  messages: Message[];
  lost: number;
  /** `lost` is a lower bound (more were dropped than the history remembers the ids of). */
  atLeast: boolean;
}

/** One channel's recent messages, oldest first, and the ids of those it let go. */
class ChannelHistory {
  messages: Message[] = [];
  bytes = 0;
  /** Ids of dropped messages, newest last, twice as many as the history holds messages. */
  dropped: number[] = [];
  /** More were dropped than `dropped` remembers. */
  forgotten = false;
}

/**
 * The recent messages of each channel, so that an SSE client that reconnects with
 * `Last-Event-ID` gets what it missed (--pubsub-history messages per channel, and no more bytes
 * than one subscriber may hold, --subscriber-buffer: a longer replay would only get it dropped),
 * or is told how many it lost. At most {@link MAX_CHANNELS} channels keep one, and all of them
 * together at most {@link MAX_HISTORY_BYTES}: a client publishing to many channels cannot make
 * the server hold more.
 */
export class History {
  readonly #perChannel: number;
  readonly #maxBytes: number;
  /** In the order they were last published to (a Map keeps insertion order). */
  readonly #channels = new Map<string, ChannelHistory>();
  #bytes = 0;

  constructor(perChannel: number, maxBytes: number) {
    this.#perChannel = perChannel;
    this.#maxBytes = maxBytes;
  }

  record(message: Message): void {
    if (this.#perChannel === 0) return;
    let history = this.#channels.get(message.channel);
    if (history === undefined) {
      history = new ChannelHistory();
      if (this.#channels.size >= MAX_CHANNELS) {
        const [name, oldest] = this.#channels.entries().next().value!;
        this.#bytes -= oldest.bytes;
        this.#channels.delete(name);
      }
    } else {
      this.#channels.delete(message.channel);
    }
    this.#channels.set(message.channel, history);
    history.messages.push(message);
    history.bytes += message.data.length;
    this.#bytes += message.data.length;
    while (history.messages.length > this.#perChannel || (history.bytes > this.#maxBytes && history.messages.length > 1)) this.#dropOldest(history);
    // All channels together: the least recently published to give up their messages first.
    for (const [, oldest] of this.#channels) {
      if (this.#bytes <= MAX_HISTORY_BYTES) break;
      while (oldest.messages.length > (oldest === history ? 1 : 0) && this.#bytes > MAX_HISTORY_BYTES) this.#dropOldest(oldest);
    }
  }

  #dropOldest(history: ChannelHistory): void {
    const gone = history.messages.shift()!;
    history.bytes -= gone.data.length;
    this.#bytes -= gone.data.length;
    history.dropped.push(gone.id);
    if (history.dropped.length > 2 * this.#perChannel) {
      history.dropped.shift();
      history.forgotten = true;
    }
  }

  /** What a subscriber of `channel`, or of every channel `glob` matches, missed after message `lastId`. */
  since(lastId: number, channel: string | null, glob: Glob | null, pattern: string | null = null): Missed {
    const missed: Missed = { messages: [], lost: 0, atLeast: false };
    const via = channel !== null ? null : pattern;
    for (const [name, history] of this.#channels) {
      if (channel !== null ? name !== channel : !glob!.matches(name)) continue;
      for (const message of history.messages) if (message.id > lastId && (message.via === undefined || message.via === via)) missed.messages.push(message);
      missed.lost += history.dropped.filter((id) => id > lastId).length;
      // Older drops than those remembered may be after `lastId` too.
      if (history.forgotten && (history.dropped[0] ?? 0) > lastId) missed.atLeast = true;
    }
    missed.messages.sort((a, b) => a.id - b.id);
    return missed;
  }
}
