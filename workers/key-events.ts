import { BroadcastChannel } from 'node:worker_threads';
import type { Mutation, Outcome } from '../src/core/mutation.js';
import { KEY_EVENTS_CHANNEL, type KeyEventBatch, type RingAnnouncement } from '../src/core/protocol.js';
import { HashRing } from '../src/core/ring.js';

/**
 * A node's reports of key changes, for keyspace notifications: only while they are on (the
 * ring announcement says), and only for the keys whose first owner on the ring is this node, so
 * each change is reported once however many copies apply it. A turn's reports leave in one
 * message on {@link KEY_EVENTS_CHANNEL}, which only the main thread listens to.
 */
export class KeyEventReporter {
  readonly #id: string;
  #ring: HashRing | undefined;
  #events: string[] = [];
  #channel: BroadcastChannel | undefined;

  constructor(id: string, ring: RingAnnouncement) {
    this.#id = id;
    this.update(ring);
  }

  get on(): boolean {
    return this.#ring !== undefined;
  }

  update(ring: RingAnnouncement): void {
    this.#ring = ring.keyEvents === true ? new HashRing(ring.nodes) : undefined;
    if (this.#ring !== undefined) this.#channel ??= new BroadcastChannel(KEY_EVENTS_CHANNEL);
  }

  /** `event` happened to `key` here. */
  note(event: string, key: string): void {
    if (this.#ring !== undefined && this.#ring.owner(key) === this.#id) this.#events.push(event, key);
  }

  /** What a read-modify-write did, in Redis's event names. */
  noteUpdate(key: string, mutation: Mutation, outcome: Outcome): void {
    if (this.#ring === undefined || outcome.next === undefined) return;
    const next = outcome.next;
    switch (mutation[0]) {
      case 'set':
        this.note('set', key);
        if (next !== null && next.expiresAt !== 0) this.note('expire', key);
        return;
      case 'incr':
        return this.note('incrby', key);
      case 'incrfloat':
        return this.note('incrbyfloat', key);
      case 'append':
      case 'setrange':
      case 'setbit':
        return this.note(mutation[0], key);
      default:
        // GETDEL, GETEX, EXPIRE, PERSIST: what became of the key's life.
        this.note(next === null ? 'del' : next.expiresAt === 0 ? 'persist' : 'expire', key);
    }
  }

  /** Sends the turn's reports, if any. */
  flush(): void {
    if (this.#events.length === 0) return;
    this.#channel?.postMessage({ type: 'key-events', events: this.#events } satisfies KeyEventBatch);
    this.#events = [];
  }

  close(): void {
    this.#channel?.close();
  }
}
