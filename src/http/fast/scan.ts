import { Buffer } from 'node:buffer';
/**
 * The request heads the fast path frames itself (src/http/fast/connection.ts): a strict subset
 * of HTTP/1.1 (RFC 9112), and nothing else. Whatever falls outside it is not guessed at: the
 * scanner answers {@link HAND_OFF} and the connection goes to node:http with every byte not yet
 * used, so node's parser (llhttp) sees the stream from that byte on exactly as if it had read it
 * all along, and answers it as it always did.
 *
 * Why no request can be smuggled past it: a request's end is found here in one way only, the
 * first CRLF CRLF, then exactly `Content-Length` bytes of body, where Content-Length is one
 * header of digits alone. Every head that could be framed another way by any parser (a
 * Transfer-Encoding, two Content-Lengths or one with anything but digits, a bare LF or CR,
 * obsolete line folding, whitespace before a colon, a control byte, an upgrade, Expect) is
 * handed off before a byte of it is used, and every head accepted here is one llhttp frames the
 * same way (the differential fuzz test, test/fast-path-fuzz.test.ts, checks it). Framing is
 * never shared: bytes are used either here or by node:http, never both, and a connection
 * handed off stays with node:http.
 *
 * Written here rather than taken from http-parser-js: that parser is lenient by design (it frames
 * what llhttp refuses, which the hand-off must never take), and it costs 0.79 us a head against
 * this scanner's 0.23 (a /get head, 1,000,000 parses, medians of 3; about 5% of a GET's CPU).
 */

/** More header lines than this: handed off (node keeps the first 2,000 and drops the rest). */
const MAX_HEADER_LINES = 100;

/** Not framed yet: more bytes are needed. */
export const INCOMPLETE = 0;
/** Outside the subset: node:http must read it. */
export const HAND_OFF = 1;

/** A request head the fast path framed. */
export interface Head {
  method: string;
  /** The request target's path (origin form: it starts with `/`), still percent-encoded. */
  path: string;
  /** What follows its first `?` ('' without one). */
  query: string;
  http10: boolean;
  /** Whether the connection stays open after the answer (llhttp's rule: 1.1 unless `close`; 1.0 only with `keep-alive`). */
  keepAlive: boolean;
  /** The body's length in bytes (0 without Content-Length). */
  contentLength: number;
  /** The Authorization header's value, trimmed as node trims it. */
  authorization: string | undefined;
  /** Where the head ends in the bytes it was read from: just past its blank line. */
  end: number;
}

/** `tchar` of RFC 9110 5.6.2, by byte. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const BLANK_LINE = Buffer.from('\r\n\r\n', 'latin1');
const VERSION = Buffer.from('HTTP/1.', 'latin1');

/**
 * The head at the start of `bytes[start..end)`: a {@link Head}, {@link INCOMPLETE} or {@link HAND_OFF}.
 * `searched` is how far an earlier call found no blank line (`start` if none did): a slow head
 * is looked at again only once its blank line has come (so one sent a byte at a time is not
 * scanned again from its start on each byte). One pass over the bytes; the only strings made are
 * the path, the query and the Authorization value (the method is one of five constants).
 */
export function scanHead(bytes: Buffer, start: number, end: number, searched: number, limit: number): Head | typeof INCOMPLETE | typeof HAND_OFF {
  // A head longer than `limit` bytes is node:http's (whose own limit counts fewer of its bytes:
  // every head kept here is one it would take too).
  const incomplete = end - start > limit ? HAND_OFF : INCOMPLETE;
  // Looked at again also when the new bytes end a line some other way than CR LF: node:http may
  // take a head that never has a blank line of CR LF CR LF, and it is node's to answer now.
  // (Searched within `end`: the buffer may be larger than the bytes in it.)
  if (searched > start) {
    const view = bytes.subarray(0, end);
    if (view.indexOf(BLANK_LINE, Math.max(start, searched - 3)) < 0 && !oddLineEnd(view, start, Math.max(start, searched - 1))) return incomplete;
  }
  const head = parseHead(bytes, start, end);
  if (head === INCOMPLETE) return incomplete;
  return head !== HAND_OFF && head.end - start > limit ? HAND_OFF : head;
}

/** Whether `view` from `from` on holds a bare LF (in the head that starts at `start`), or a CR followed by anything but LF. */
function oddLineEnd(view: Buffer, start: number, from: number): boolean {
  for (let i = view.indexOf(LF, from); i >= 0; i = view.indexOf(LF, i + 1)) if (i === start || view[i - 1] !== CR) return true;
  for (let i = view.indexOf(CR, from); i >= 0 && i + 1 < view.length; i = view.indexOf(CR, i + 1)) if (view[i + 1] !== LF) return true;
  return false;
}

function parseHead(bytes: Buffer, start: number, end: number): Head | typeof INCOMPLETE | typeof HAND_OFF {
  // An empty line before the request line (which RFC 9112 2.2 lets a server skip) is node's to judge.
  const method = methodAt(bytes, start, end);
  if (typeof method !== 'string') return method;
  let i = start + method.length + 1;
  const targetStart = i;
  let questionMark = -1;
  for (; i < end; i++) {
    const c = bytes[i]!;
    if (c === SP) break;
    if (c === 0x3f && questionMark < 0) questionMark = i;
    // A request target: visible ASCII only (0x21-0x7E), as llhttp takes it.
    if (c < 0x21 || c > 0x7e) return HAND_OFF;
  }
  if (i + 11 > end) return INCOMPLETE;
  if (i === targetStart || bytes[targetStart] !== 0x2f) return HAND_OFF;
  const path = bytes.toString('latin1', targetStart, questionMark < 0 ? i : questionMark);
  const query = questionMark < 0 ? '' : bytes.toString('latin1', questionMark + 1, i);
  i++;
  // `HTTP/1.1` or `HTTP/1.0`, then the line's end.
  const minor = bytes[i + 7];
  if (bytes.compare(VERSION, 0, 7, i, i + 7) !== 0 || (minor !== 0x31 && minor !== 0x30) || bytes[i + 8] !== CR) return HAND_OFF;
  const http10 = minor === 0x30;
  i += 8;
  let contentLength = -1;
  let authorization: string | undefined;
  let host = false;
  let close = false;
  let keepAlive = false;
  let connection = false;
  for (let lines = 0; ; lines++) {
    // At the CR LF that ends the line before.
    if (i + 2 > end) return INCOMPLETE;
    if (bytes[i + 1] !== LF) return HAND_OFF;
    i += 2;
    if (i >= end) return INCOMPLETE;
    if (bytes[i] === CR) {
      if (i + 1 >= end) return INCOMPLETE;
      if (bytes[i + 1] !== LF) return HAND_OFF;
      break;
    }
    if (lines >= MAX_HEADER_LINES) return HAND_OFF;
    // The name: tchars up to the colon. No name, whitespace before the colon or a leading one
    // (obsolete line folding), a bare CR or LF: all hand-offs.
    const nameStart = i;
    while (i < end && TOKEN[bytes[i]!] === 1) i++;
    if (i >= end) return INCOMPLETE;
    if (bytes[i] !== 0x3a || i === nameStart) return HAND_OFF;
    const name = nameOf(bytes, nameStart, i - nameStart);
    i++;
    while (i < end && (bytes[i] === SP || bytes[i] === HTAB)) i++;
    const valueStart = i;
    let valueEnd = i;
    // A field value: HTAB, SP, visible ASCII and obs-text (0x80-0xFF), as llhttp takes them; no
    // NUL, DEL or other control byte, no CR but the line's end.
    for (; i < end; i++) {
      const c = bytes[i]!;
      if (c === CR) break;
      if (c < SP ? c !== HTAB : c === 0x7f) return HAND_OFF;
      if (c !== SP && c !== HTAB) valueEnd = i + 1;
    }
    if (i >= end) return INCOMPLETE;
    switch (name) {
      case Name.Other:
        break;
      case Name.Host:
        // An empty Host is node:http's to judge (it serves it), as a missing one is.
        if (valueEnd === valueStart) return HAND_OFF;
        host = true;
        break;
      case Name.ContentLength:
        if (contentLength >= 0) return HAND_OFF;
        contentLength = digits(bytes, valueStart, valueEnd);
        if (contentLength < 0) return HAND_OFF;
        break;
      case Name.Authorization:
        if (authorization !== undefined) return HAND_OFF;
        authorization = bytes.toString('latin1', valueStart, valueEnd);
        break;
      case Name.Connection: {
        if (connection) return HAND_OFF;
        connection = true;
        const options = connectionOptions(bytes, valueStart, valueEnd);
        if (options < 0) return HAND_OFF;
        close = (options & CLOSE) !== 0;
        keepAlive = (options & KEEP_ALIVE) !== 0;
        break;
      }
      // Bodies framed another way, upgrades, expectations, and transfer codings an HTTP/1.0
      // answer would follow: node:http's.
      case Name.Refused:
        return HAND_OFF;
    }
  }
  // HTTP/1.1 without Host: node:http's, where src/http/handler.ts answers it 400 as JSON.
  if (!http10 && !host) return HAND_OFF;
  return {
    method,
    path,
    query,
    http10,
    keepAlive: http10 ? keepAlive : !close,
    contentLength: contentLength < 0 ? 0 : contentLength,
    authorization,
    end: i + 2,
  };
}

const METHODS = ['GET', 'PUT', 'HEAD', 'POST', 'DELETE'] as const;

/** The method at `start` and the space after it; anything else (a lowercase one, an empty line first) is node:http's. */
function methodAt(bytes: Buffer, start: number, end: number): string | typeof INCOMPLETE | typeof HAND_OFF {
  for (const method of METHODS) {
    let k = 0;
    while (k < method.length && start + k < end && bytes[start + k] === method.charCodeAt(k)) k++;
    if (k < method.length) {
      if (start + k >= end) return INCOMPLETE;
      continue;
    }
    if (start + k >= end) return INCOMPLETE;
    if (bytes[start + k] === SP) return method;
  }
  return HAND_OFF;
}

const enum Name {
  Other,
  Host,
  ContentLength,
  Authorization,
  Connection,
  Refused,
}

/** The header names the scanner looks at, by length (no two share one); their bytes are compared without case. */
const NAMES: ReadonlyMap<number, readonly [string, Name]> = new Map([
  [2, ['te', Name.Refused]],
  [4, ['host', Name.Host]],
  [6, ['expect', Name.Refused]],
  [7, ['upgrade', Name.Refused]],
  [10, ['connection', Name.Connection]],
  [13, ['authorization', Name.Authorization]],
  [14, ['content-length', Name.ContentLength]],
  [17, ['transfer-encoding', Name.Refused]],
]);

function nameOf(bytes: Buffer, start: number, length: number): Name {
  const candidate = NAMES.get(length);
  return candidate !== undefined && sameText(bytes, start, candidate[0]) ? candidate[1] : Name.Other;
}

/** `bytes` at `start` are `lower` but for case (`lower` is letters and `-` only: OR-ing 0x20 lowercases a letter and maps no other tchar onto one). */
function sameText(bytes: Buffer, start: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) if ((bytes[start + k]! | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

/** A Content-Length of 1 to 15 digits and nothing else; -1 otherwise. */
function digits(bytes: Buffer, start: number, end: number): number {
  if (end === start || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i]! - 0x30;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

const CLOSE = 1;
const KEEP_ALIVE = 2;

/** Connection's options: `close` and `keep-alive` only, comma-separated with optional whitespace (-1: anything else). */
function connectionOptions(bytes: Buffer, start: number, end: number): number {
  let options = 0;
  let i = start;
  while (i <= end) {
    let stop = bytes.indexOf(0x2c, i);
    if (stop < 0 || stop > end) stop = end;
    let a = i;
    let b = stop;
    while (a < b && (bytes[a] === SP || bytes[a] === HTAB)) a++;
    while (b > a && (bytes[b - 1] === SP || bytes[b - 1] === HTAB)) b--;
    if (b - a === 5 && sameText(bytes, a, 'close')) options |= CLOSE;
    else if (b - a === 10 && sameText(bytes, a, 'keep-alive')) options |= KEEP_ALIVE;
    else return -1;
    i = stop + 1;
  }
  return options;
}
