import { Buffer } from 'node:buffer';
/**
 * The request side of RESP2: multibulk commands (`*<n>\r\n` then n `$<len>\r\n<bytes>\r\n`) and
 * inline commands (one line of words, with Redis's quoting), parsed as Redis's networking.c does,
 * with its limits and its error texts. Arguments come out as byte strings (one character per
 * byte, as values are stored), so a value is never decoded or re-encoded; the command layer
 * decodes the arguments that are keys.
 *
 * Written here rather than taken from a library: the RESP libraries on npm (redis-parser,
 * the decoders inside ioredis and node-redis) parse replies, not requests, and know neither
 * inline commands nor the server's protocol errors, which clients and Redis's tests rely on.
 */

/** Longest inline command, and longest `*<n>` / `$<n>` line (Redis's PROTO_INLINE_MAX_SIZE). */
export const INLINE_MAX_BYTES = 64 * 1024;
/** Before AUTH, at most this many arguments and this long an argument (as Redis limits them). */
const UNAUTHENTICATED_MAX_ARGS = 10;
const UNAUTHENTICATED_MAX_BULK = 16 * 1024;

const CR = 13;
const LF = 10;

export interface ParserLimits {
  /** Longest bulk string (the server's largest argument). */
  maxBulkBytes: number;
  /** Most bytes of arguments one command may hold (its bulks together). */
  maxCommandBytes: number;
}

/** A protocol error: the client gets `-ERR <message>` and its connection is closed after it. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/**
 * One connection's parser. Bytes go in with {@link feed}; each complete command comes out through
 * `onCommand`, in order. A bulk string that spans many reads is gathered (each read copied, as
 * the read buffer is shared) and joined once, so a large value costs two copies, not one per read.
 */
export class RequestParser {
  readonly #limits: ParserLimits;
  readonly #onCommand: (args: string[]) => void;
  /** Unparsed bytes: `#chunks` joined, from `#offset` into the first. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes needed before parsing can go on (a bulk's body), 0 when unknown. */
  #want = 0;
  /** A multibulk command in progress: arguments still to come, and those read. */
  #remaining = 0;
  #args: string[] = [];
  #argBytes = 0;
  /** Whether the connection has authenticated (stricter limits before). */
  authenticated = true;

  constructor(limits: ParserLimits, onCommand: (args: string[]) => void) {
    this.#limits = limits;
    this.#onCommand = onCommand;
  }

  /**
   * Parses what `chunk` completes; throws {@link ProtocolError} when the stream is not RESP.
   * `chunk` is valid only during the call (the read buffer all connections share,
   * src/socket-reads.ts): what is kept of it for the next read is copied.
   */
  feed(chunk: Buffer): void {
    this.#buffered += chunk.length;
    if (this.#want > 0 && this.#buffered < this.#want) {
      this.#chunks.push(Buffer.from(chunk));
      return;
    }
    // Waiting for the end of a line: a read without one cannot complete it.
    if (this.#want === 0 && this.#chunks.length > 0 && chunk.indexOf(LF) < 0) {
      this.#chunks.push(Buffer.from(chunk));
      if (this.#buffered > INLINE_MAX_BYTES) this.#lineTooLong(this.#chunks[0]![0]);
      return;
    }
    const buffer = this.#chunks.length === 0 ? chunk : Buffer.concat([...this.#chunks, chunk], this.#buffered);
    const end = this.#parse(buffer);
    // A join is the parser's own; the read's chunk is not.
    this.#chunks = end === buffer.length ? [] : buffer === chunk ? [Buffer.from(chunk.subarray(end))] : [buffer.subarray(end)];
    this.#buffered = buffer.length - end;
  }

  /** Parses commands from `buffer`; returns where the unparsed rest starts. */
  #parse(buffer: Buffer): number {
    let at = 0;
    this.#want = 0;
    while (at < buffer.length) {
      if (this.#remaining === 0) {
        if (buffer[at] !== 42 /* '*' */) {
          const next = this.#inline(buffer, at);
          if (next < 0) return at;
          at = next;
          continue;
        }
        const line = lineEnd(buffer, at);
        if (line < 0) {
          if (buffer.length - at > INLINE_MAX_BYTES) throw new ProtocolError('Protocol error: too big mbulk count string');
          return at;
        }
        const count = parseInteger(buffer, at + 1, line);
        if (Number.isNaN(count) || count > 0x7fffffff) throw new ProtocolError('Protocol error: invalid multibulk length');
        if (count > UNAUTHENTICATED_MAX_ARGS && !this.authenticated) throw new ProtocolError('Protocol error: unauthenticated multibulk length');
        at = line + 2;
        if (count <= 0) continue;
        this.#remaining = count;
        this.#args = [];
        this.#argBytes = 0;
      }
      const next = this.#bulk(buffer, at);
      if (next < 0) return at;
      at = next;
      if (this.#remaining === 0) {
        const args = this.#args;
        this.#args = [];
        this.#onCommand(args);
      }
    }
    return at;
  }

  /** One bulk argument at `at`: where it ends, or -1 if it is not all here (`#want` says how much is). */
  #bulk(buffer: Buffer, at: number): number {
    const line = lineEnd(buffer, at);
    if (line < 0) {
      if (buffer.length - at > INLINE_MAX_BYTES) throw new ProtocolError('Protocol error: too big bulk count string');
      return -1;
    }
    if (buffer[at] !== 36 /* '$' */) throw new ProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(buffer[at]!)}'`);
    const length = parseInteger(buffer, at + 1, line);
    if (Number.isNaN(length) || length < 0 || length > this.#limits.maxBulkBytes) throw new ProtocolError('Protocol error: invalid bulk length');
    if (length > UNAUTHENTICATED_MAX_BULK && !this.authenticated) throw new ProtocolError('Protocol error: unauthenticated bulk length');
    if (this.#argBytes + length > this.#limits.maxCommandBytes) throw new ProtocolError('Protocol error: command too large (its arguments pass the query buffer limit)');
    const start = line + 2;
    // Like Redis, the two bytes after the body are skipped, not checked.
    const end = start + length + 2;
    if (end > buffer.length) {
      this.#want = end - at;
      return -1;
    }
    this.#args.push(buffer.toString('latin1', start, start + length));
    this.#argBytes += length;
    this.#remaining--;
    return end;
  }

  /** An inline command at `at`: where its line ends, or -1 if the line is not all here. */
  #inline(buffer: Buffer, at: number): number {
    const newline = buffer.indexOf(LF, at);
    // Too long whether or not its end has arrived (Redis, reading 16 KiB at a time, sees the same).
    if ((newline < 0 ? buffer.length : newline) - at > INLINE_MAX_BYTES) this.#lineTooLong(buffer[at]);
    if (newline < 0) return -1;
    const end = newline > at && buffer[newline - 1] === CR ? newline - 1 : newline;
    const args = splitInline(buffer.toString('latin1', at, end));
    if (args === undefined) throw new ProtocolError('Protocol error: unbalanced quotes in request');
    if (args.length > 0) this.#onCommand(args);
    return newline + 1;
  }

  /** A line past {@link INLINE_MAX_BYTES}, whose first byte is `first`. */
  #lineTooLong(first: number | undefined): never {
    if (this.#remaining > 0) throw new ProtocolError('Protocol error: too big bulk count string');
    throw new ProtocolError(first === 42 ? 'Protocol error: too big mbulk count string' : 'Protocol error: too big inline request');
  }
}

/** Where the `\r\n` ending the line at `at` starts, or -1. */
function lineEnd(buffer: Buffer, at: number): number {
  const cr = buffer.indexOf(CR, at);
  return cr < 0 || cr + 1 >= buffer.length ? -1 : cr;
}

/** Redis's string2ll: an optional '-', then 0 or digits without a leading zero; NaN otherwise. */
function parseInteger(buffer: Buffer, start: number, end: number): number {
  let at = start;
  const negative = buffer[at] === 45; /* '-' */
  if (negative) at++;
  if (at >= end || end - at > 19) return Number.NaN;
  if (buffer[at] === 48 /* '0' */) return end - at === 1 && !negative ? 0 : Number.NaN;
  let value = 0;
  for (; at < end; at++) {
    const digit = buffer[at]! - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

const SPACE = /[ \n\r\t\v\f]/;
const HEX = /^[0-9a-fA-F]{2}$/;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };

/**
 * An inline command's words, split as Redis's sdssplitargs does: spaces separate words; in
 * "double quotes" \xHH and \n \r \t \b \a are escapes; in 'single quotes' only \' is; a closing
 * quote must end its word. Undefined for unbalanced quotes.
 */
export function splitInline(line: string): string[] | undefined {
  const words: string[] = [];
  let at = 0;
  for (;;) {
    while (at < line.length && SPACE.test(line[at]!)) at++;
    if (at >= line.length) return words;
    let word = '';
    const quote = line[at] === '"' || line[at] === "'" ? line[at++] : undefined;
    for (;;) {
      if (at >= line.length) {
        if (quote !== undefined) return undefined;
        break;
      }
      const c = line[at]!;
      if (quote === undefined) {
        if (SPACE.test(c)) break;
        word += c;
        at++;
      } else if (c === quote) {
        at++;
        // A closing quote must be followed by a space or the end.
        if (at < line.length && !SPACE.test(line[at]!)) return undefined;
        break;
      } else if (c === '\\' && quote === '"' && line[at + 1] === 'x' && HEX.test(line.slice(at + 2, at + 4))) {
        word += String.fromCharCode(Number.parseInt(line.slice(at + 2, at + 4), 16));
        at += 4;
      } else if (c === '\\' && at + 1 < line.length && (quote === '"' || line[at + 1] === "'")) {
        const next = line[at + 1]!;
        word += quote === '"' ? (ESCAPES[next] ?? next) : next;
        at += 2;
      } else {
        word += c;
        at++;
      }
    }
    words.push(word);
  }
}
