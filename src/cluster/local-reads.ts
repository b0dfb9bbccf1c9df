import type { Logger } from 'pino';
import type { Placement } from '../core/placement.js';
import { Op, Status, type Command, type Result } from '../core/protocol.js';
import { sharedClock } from '../core/shared-layout.js';
import { Lookup, Want, type SharedReader } from '../nodes/shared-reader.js';
import type { Front } from './front.js';
import type { KeyLocks } from './key-locks.js';
import type { NodeRecord } from './members.js';

const NOT_FOUND: Result = { status: Status.NotFound };

/**
 * Reads answered on this thread from the shared memory of the node a read goes to (placement's
 * rule; a node not alive is never read), without a message. What shared memory cannot answer is
 * left to the data path's messages. Counted as the node counts the reads it answers itself: a
 * GET or a HEAD is a hit or a miss of that node, a TTL lookup is neither.
 */
export class LocalReads {
  readonly #placement: Placement<NodeRecord>;
  readonly #log: Logger | undefined;
  readonly #locks: KeyLocks;
  /**
   * With --backend, the near cache, which every command then goes through (the data path asks
   * here): a local miss is not an answer (the backend may hold the key), and nothing is answered
   * here while it is not serving its copies.
   */
  front: Front | undefined;

  constructor(placement: Placement<NodeRecord>, log: Logger | undefined, locks: KeyLocks) {
    this.#placement = placement;
    this.#log = log;
    this.#locks = locks;
  }

  /**
   * The node's reader when it holds `key` (its `value`, `valueBytes`, `expiresAt` and `node` say
   * what it read, until the next read), null when it does not, undefined when only a message can
   * tell. The hot routes call this first: no command, no callback, no result object.
   */
  read(key: string, want: Want, counted = true): SharedReader | null | undefined {
    // A key held by an atomic operation is read once it is done (by message, in order).
    if (this.#locks.blocks(key)) return undefined;
    if (this.front !== undefined && !this.front.serving) return undefined;
    if (this.front === undefined) return this.#readAt(this.#placement.reader(key), key, want, counted);
    // A miss here is not the answer: the near cache asks again (and counts it once) and then the backend.
    const reader = this.#readAt(this.#placement.reader(key), key, want, false);
    if (reader === null) return undefined;
    if (reader !== undefined && counted) reader.hits++;
    return reader;
  }

  /** A Get, Exists or Ttl command answered as `node` (placement's reader of `key`) would, or undefined (send it). */
  result(node: NodeRecord, key: string, command: Command): Result | undefined {
    const op = command[0];
    if (op !== Op.Get && op !== Op.Exists && op !== Op.Ttl) return undefined;
    const reader = this.#readAt(node, key, op === Op.Get ? Want.Bytes : Want.Nothing, op !== Op.Ttl);
    if (reader === undefined) return undefined;
    if (reader === null) return NOT_FOUND;
    if (op === Op.Get) return { status: Status.Ok, value: reader.value };
    if (op === Op.Exists) return { status: Status.Ok, valueBytes: reader.valueBytes };
    return { status: Status.Ok, ttl: reader.expiresAt === 0 ? null : Math.max(0, reader.expiresAt - sharedClock()) };
  }

  #readAt(node: NodeRecord | undefined, key: string, want: Want, counted: boolean): SharedReader | null | undefined {
    if (node === undefined || !node.client.alive) return undefined;
    const reader = node.client.reader;
    const found = reader.read(key, want);
    if (found === Lookup.Unknown) {
      // The table in hand was replaced: ask for the new one (its reply brings it).
      if (reader.stale) node.client.resync();
      return undefined;
    }
    if (this.#log !== undefined) {
      const op = want !== Want.Nothing ? 'get' : counted ? 'exists' : 'ttl';
      this.#log.debug({ op, key, node: node.id, status: found === Lookup.Found ? 'ok' : 'not-found', via: 'shared-memory' });
    }
    if (found === Lookup.Missing) {
      if (counted) reader.misses++;
      return null;
    }
    if (counted) reader.hits++;
    return reader;
  }
}
