import { Kind } from './command.js';

/** A command as its connection's order sees it: its kind, and how to start it. */
export interface Ordered {
  readonly kind: Kind;
  start(): void;
}

/**
 * When each command of one connection may start ({@link Kind}): reads wait for the writes
 * before them, barriers for everything before them, and nothing passes a command held before
 * it. Redis runs a connection's commands one after another; here writes are sent on while
 * earlier ones are still with the nodes (each node applies what it is sent in order), which is
 * what makes a pipeline fast, and reads wait for what they must see.
 */
export class CommandOrder {
  /** Commands started and not answered, by kind. */
  #reads = 0;
  #writes = 0;
  #barriers = 0;
  /** Commands not started yet, in order, from `#heldAt` (a queue without shift's copying). */
  #held: Ordered[] = [];
  #heldAt = 0;
  #releasing = false;

  /** Starts `command` now if it may, else holds it until it may. */
  arrived(command: Ordered): void {
    if (this.#heldAt === this.#held.length && this.#mayStart(command.kind)) this.#start(command);
    else this.#held.push(command);
  }

  /** `command` has its answer: what waited on it may start. */
  finished(command: Ordered): void {
    const kind = command.kind;
    if (kind === Kind.Read) this.#reads--;
    else if (kind === Kind.Write || kind === Kind.ReadWrite) this.#writes--;
    else if (kind === Kind.Barrier) this.#barriers--;
    // One loop starts what was held: a held command that answers at once comes back here, and
    // must not start the next itself (a deep pipeline would recurse once per command).
    if (this.#releasing) return;
    this.#releasing = true;
    while (this.#heldAt < this.#held.length && this.#mayStart(this.#held[this.#heldAt]!.kind)) this.#start(this.#held[this.#heldAt++]!);
    if (this.#heldAt === this.#held.length) {
      this.#held = [];
      this.#heldAt = 0;
    }
    this.#releasing = false;
  }

  /** The connection is gone: nothing held will start. */
  clear(): void {
    this.#held = [];
    this.#heldAt = 0;
  }

  #mayStart(kind: Kind): boolean {
    if (this.#barriers > 0) return false;
    if (kind === Kind.Read || kind === Kind.ReadWrite) return this.#writes === 0;
    if (kind === Kind.Barrier) return this.#writes === 0 && this.#reads === 0;
    return true;
  }

  #start(command: Ordered): void {
    const kind = command.kind;
    if (kind === Kind.Read) this.#reads++;
    else if (kind === Kind.Write || kind === Kind.ReadWrite) this.#writes++;
    else if (kind === Kind.Barrier) this.#barriers++;
    command.start();
  }
}
