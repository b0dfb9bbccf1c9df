import { sharedClock } from '../core/shared-layout.js';

/** What the monitors need of a client: where its commands come from, and a bounded way to tell it. */
export interface Monitored {
  readonly address: string;
  /** Sends a reply that answers no command unless the client's unread replies pass its limit; false then. */
  feed(encoded: string): boolean;
  /** Cuts the connection (a monitor that does not read). */
  drop(): void;
}

/** Admin commands whose arguments a monitor is not shown, as Redis's CMD_ADMIN. */
const HIDDEN = new Set(['monitor', 'config', 'debug']);
const HIDDEN_CLIENT = new Set(['list', 'kill']);

/**
 * The clients in MONITOR mode, and the line each is sent for every command of a RESP client:
 * `+<seconds>.<microseconds> [0 <address>] "NAME" "arg" ...`, arguments quoted as Redis's
 * sdscatrepr. AUTH's and HELLO's passwords are shown as "(redacted)", admin commands not at all.
 * HTTP requests are not Redis commands and are not shown. With no monitor, a command pays one
 * size check.
 */
export class Monitors {
  readonly #clients = new Set<Monitored>();

  get size(): number {
    return this.#clients.size;
  }

  has(client: Monitored): boolean {
    return this.#clients.has(client);
  }

  add(client: Monitored): void {
    this.#clients.add(client);
  }

  remove(client: Monitored): void {
    this.#clients.delete(client);
  }

  /** `args` (`args[0]` the name, as sent) run by `from`: to every monitor, one that cannot keep up dropped. */
  feed(from: Monitored, name: string, args: readonly string[]): void {
    if (this.#clients.size === 0) return;
    if (HIDDEN.has(name) || (name === 'client' && HIDDEN_CLIENT.has(args[1]?.toLowerCase() ?? ''))) return;
    const now = Math.round(sharedClock() * 1000);
    let line = `+${Math.floor(now / 1e6)}.${String(now % 1e6).padStart(6, '0')} [0 ${from.address}]`;
    const [hideFrom, hideTo] = redacted(name, args);
    for (let i = 0; i < args.length; i++) line += ` ${i >= hideFrom && i < hideTo ? '"(redacted)"' : repr(args[i]!)}`;
    line += '\r\n';
    for (const monitor of this.#clients) {
      if (monitor.feed(line)) continue;
      this.#clients.delete(monitor);
      monitor.drop();
    }
  }
}

/** The arguments shown as "(redacted)", from and to (exclusive): AUTH's all, HELLO's AUTH username and password. */
function redacted(name: string, args: readonly string[]): [from: number, to: number] {
  if (name === 'auth') return [1, args.length];
  if (name !== 'hello') return [0, 0];
  const at = args.findIndex((arg, i) => i > 1 && arg.toLowerCase() === 'auth');
  return at < 0 ? [0, 0] : [at + 1, at + 3];
}

/** An argument (a byte string) as Redis quotes it for MONITOR. */
function repr(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes.charCodeAt(i);
    const char = bytes[i]!;
    if (char === '\\' || char === '"') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code === 7) out += '\\a';
    else if (code === 8) out += '\\b';
    else if (code >= 0x20 && code < 0x7f) out += char;
    else out += `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}
