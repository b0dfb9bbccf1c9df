import { textToBytes } from '../bytes.js';

/**
 * Replies, encoded as byte strings (one character per byte) that a connection writes with the
 * 'latin1' encoding: a value read from a node goes out as it is stored, with no Buffer made for
 * it. Text (keys, INFO) is turned into its UTF-8 bytes on the way in. What RESP2 and RESP3 spell
 * the same is here as functions; what they spell apart (null, maps) is a connection's
 * {@link Encoder}, chosen by HELLO.
 */

export const OK = '+OK\r\n';
export const PONG = '+PONG\r\n';
export const EMPTY_ARRAY = '*0\r\n';
export const ZERO = ':0\r\n';
export const ONE = ':1\r\n';

/** A bulk string of a byte string. */
export function bulk(bytes: string): string {
  return `$${bytes.length}\r\n${bytes}\r\n`;
}

/** A bulk string of text (a key, a name), sent as UTF-8. */
export function bulkText(text: string): string {
  return bulk(textToBytes(text));
}

export function integer(value: number | bigint): string {
  return `:${value}\r\n`;
}

export function simple(text: string): string {
  return `+${text}\r\n`;
}

/**
 * An error reply. `message` starts with its code (`ERR`, `WRONGPASS`, ...), as Redis's do; line
 * breaks in it (arguments quoted back to the client) become spaces so the reply stays one line.
 */
export function error(message: string): string {
  return `-${message.replace(/[\r\n]/g, ' ')}\r\n`;
}

/** An array of replies already encoded. */
export function array(items: readonly string[]): string {
  return `*${items.length}\r\n${items.join('')}`;
}

/** An array of bulk strings (byte strings). */
export function bulks(items: readonly string[]): string {
  let out = `*${items.length}\r\n`;
  for (const item of items) out += bulk(item);
  return out;
}

/** An array of text bulk strings (keys). */
export function texts(items: readonly string[]): string {
  let out = `*${items.length}\r\n`;
  for (const item of items) out += bulkText(item);
  return out;
}

/** What RESP2 and RESP3 encode differently. */
export interface Encoder {
  readonly version: 2 | 3;
  /** The null reply (RESP2: a nil bulk string). */
  readonly nil: string;
  /** A bulk string, or {@link nil} for null / undefined. */
  bulk(bytes: string | null | undefined): string;
  /** An array of bulk strings with nulls. */
  bulks(items: ReadonlyArray<string | null | undefined>): string;
  /** A map: names (text) and values (already encoded); RESP2 sends it as a flat array. */
  map(entries: ReadonlyArray<readonly [name: string, value: string]>): string;
}

function encoder(version: 2 | 3, nil: string, mapHead: (count: number) => string): Encoder {
  const nullable = (bytes: string | null | undefined): string => (bytes == null ? nil : bulk(bytes));
  return {
    version,
    nil,
    bulk: nullable,
    bulks(items) {
      let out = `*${items.length}\r\n`;
      for (const item of items) out += nullable(item);
      return out;
    },
    map(entries) {
      let out = mapHead(entries.length);
      for (const [name, value] of entries) out += bulkText(name) + value;
      return out;
    },
  };
}

export const RESP2: Encoder = encoder(2, '$-1\r\n', (count) => `*${2 * count}\r\n`);
export const RESP3: Encoder = encoder(3, '_\r\n', (count) => `%${count}\r\n`);

/** Redis's common error texts, in one place. */
export const Errors = {
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  overflow: 'ERR increment or decrement would overflow',
  notFinite: 'ERR increment would produce NaN or Infinity',
  tooLong: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  arity: (name: string): string => `ERR wrong number of arguments for '${name}' command`,
  /** A container command's (CLIENT, CONFIG, ...) subcommand it does not have, named as the client sent it (at most 128 bytes). */
  unknownSubcommand: (command: string, sub: string): string => `ERR unknown subcommand '${sub.slice(0, 128)}'. Try ${command} HELP.`,
  expireTime: (name: string): string => `ERR invalid expire time in '${name}' command`,
} as const;
