import { bytesToKey } from '../bytes.js';
import { keyIndexes, type KeyPositions } from './key-positions.js';

/** What the transaction needs of a command's spec: where its keys are. */
interface Keyed {
  readonly keys?: KeyPositions;
}

/** The commands a client queued between MULTI and EXEC, as Redis's multiState. */
export class Queued<Spec extends Keyed> {
  readonly commands: Array<{ readonly spec: Spec; readonly args: string[] }> = [];
  /** A command was refused while queuing: EXEC answers EXECABORT (Redis's CLIENT_DIRTY_EXEC). */
  aborted = false;
  /** The queued commands' arguments, in bytes (with 16 for each argument's own cost). */
  bytes = 0;

  /** Queues a command; an aborted transaction keeps nothing more, as Redis. */
  push(spec: Spec, args: string[]): void {
    if (this.aborted) return;
    this.commands.push({ spec, args });
    for (const arg of args) this.bytes += arg.length + 16;
  }

  /** Aborts the transaction, dropping what it queued. */
  abort(): void {
    this.aborted = true;
    this.commands.length = 0;
    this.bytes = 0;
  }

  /** Every key the queued commands name (by their specs' key positions), each once. */
  keys(): string[] {
    const keys = new Set<string>();
    for (const { spec, args } of this.commands) {
      if (spec.keys === undefined) continue;
      for (const i of keyIndexes(spec.keys, args.length)) {
        const key = bytesToKey(args[i]!);
        if (key !== undefined) keys.add(key);
      }
    }
    return [...keys];
  }
}
