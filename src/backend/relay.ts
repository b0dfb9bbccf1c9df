import { Buffer } from 'node:buffer';
import type { PubSubHub, Relay } from '../pubsub/hub.js';
import { connect, type Connection } from './connect.js';
import type { BackendLink } from './link.js';
import type { BackendAddress } from './url.js';

/**
 * Pub/sub through --backend, so that it spans every cache server on the backend: a client's
 * PUBLISH is the backend's PUBLISH (on the data connection, after the writes before it), and a
 * connection of its own is subscribed to each channel and pattern that has a subscriber here.
 * Each of its subscriptions brings its own copy of a message, as Redis sends them, and the hub
 * hands that copy to that subscription's subscribers only, so a client on a channel and a
 * matching pattern hears it twice, as from Redis. While the backend is down PUBLISH answers
 * BACKEND_UNAVAILABLE; subscriptions are made again when it is back (messages meanwhile are
 * lost, as with Redis's pub/sub).
 */
export class BackendRelay implements Relay {
  readonly #link: BackendLink;
  readonly #subscriber: Connection;

  constructor(address: BackendAddress, timeoutMs: number, link: BackendLink, hub: PubSubHub) {
    this.#link = link;
    // Subscriptions asked for while it is down wait for it, and all are made again after a reconnect.
    this.#subscriber = connect(address, timeoutMs, 'distributed-cache-pubsub', true);
    this.#subscriber.connect().catch(() => undefined);
    this.#subscriber.on('error', () => undefined);
    this.#subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => void hub.publish(channel.toString('latin1'), message.toString('latin1'), null));
    this.#subscriber.on('pmessageBuffer', (pattern: Buffer, channel: Buffer, message: Buffer) => void hub.publish(channel.toString('latin1'), message.toString('latin1'), pattern.toString('latin1')));
  }

  watch(kind: 'channel' | 'pattern', name: string, on: boolean): void {
    // Channel names are byte strings here (one character per byte), as on the RESP port.
    const wire = Buffer.from(name, 'latin1');
    // Lower case: ioredis knows its subscriber-mode commands by their lower-case names.
    const command = kind === 'channel' ? (on ? 'subscribe' : 'unsubscribe') : on ? 'psubscribe' : 'punsubscribe';
    this.#subscriber.call(command, wire).catch(() => undefined);
  }

  async publish(channel: string, data: string): Promise<number> {
    return Number(await this.#link.call('PUBLISH', [Buffer.from(channel, 'latin1'), Buffer.from(data, 'latin1')]));
  }

  close(): void {
    this.#subscriber.disconnect();
  }
}
