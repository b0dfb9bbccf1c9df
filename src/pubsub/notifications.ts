import { BroadcastChannel } from 'node:worker_threads';
import { textToBytes } from '../bytes.js';
import { KEY_EVENTS_CHANNEL, type KeyEventBatch } from '../core/protocol.js';
import type { PubSubHub } from './hub.js';

/** Redis's notify-keyspace-events letters this server knows; `A` is `g$lshzxetd`. */
const LETTERS = /^[KEg$lshzxetdmnA]*$/;
/** Each event's class letter: generic, string, expired, evicted. */
const CLASS_OF: Record<string, string> = { del: 'g', expire: 'g', persist: 'g', rename_from: 'g', rename_to: 'g', copy_to: 'g', expired: 'x', evicted: 'e' };

/** A usage or CONFIG SET error: the letters are not Redis's. */
export class NotifyFlagsError extends Error {}

/** Throws {@link NotifyFlagsError} unless `flags` are Redis's notify-keyspace-events letters. */
export function checkNotifyFlags(flags: string): void {
  if (!LETTERS.test(flags)) throw new NotifyFlagsError(`notify-keyspace-events takes Redis's letters K E g $ l s h z x e t d m n A, got '${flags}'`);
}

/**
 * Keyspace notifications, as Redis's notify-keyspace-events: the nodes report each key change
 * once (workers/key-events.ts) on the key-events BroadcastChannel while the flags ask for any,
 * and this publishes them on the hub as `__keyspace@0__:<key>` (message: the event) and
 * `__keyevent@0__:<event>` (message: the key), for the classes the flags name.
 */
export class Notifications {
  readonly #hub: PubSubHub;
  readonly #report: (on: boolean) => void;
  #flags = '';
  #channel: BroadcastChannel | undefined;

  /** `report` tells the nodes to report key changes, or to stop. */
  constructor(hub: PubSubHub, report: (on: boolean) => void) {
    this.#hub = hub;
    this.#report = report;
  }

  /** The flags as CONFIG GET shows them. */
  get flags(): string {
    return this.#flags;
  }

  /** Sets the flags (Redis's letters; '' turns it off); throws {@link NotifyFlagsError} for a letter it does not know. */
  set(flags: string): void {
    checkNotifyFlags(flags);
    const expanded = flags.replace('A', 'g$lshzxetd');
    this.#flags = [...new Set(expanded)].join('');
    const on = /[KE]/.test(this.#flags) && /[g$xe]/.test(this.#flags);
    if (on && this.#channel === undefined) {
      this.#channel = new BroadcastChannel(KEY_EVENTS_CHANNEL);
      this.#channel.onmessage = (event) => this.#publish((event as { data: KeyEventBatch }).data);
      this.#channel.unref();
    } else if (!on && this.#channel !== undefined) {
      this.#channel.close();
      this.#channel = undefined;
    }
    this.#report(on);
  }

  close(): void {
    this.#channel?.close();
  }

  #publish(batch: KeyEventBatch): void {
    const flags = this.#flags;
    const keyspace = flags.includes('K');
    const keyevent = flags.includes('E');
    for (let i = 0; i < batch.events.length; i += 2) {
      const event = batch.events[i]!;
      if (!flags.includes(CLASS_OF[event] ?? '$')) continue;
      const key = textToBytes(batch.events[i + 1]!);
      if (keyspace) this.#hub.publish(`__keyspace@0__:${key}`, event);
      if (keyevent) this.#hub.publish(`__keyevent@0__:${event}`, key);
    }
  }
}
