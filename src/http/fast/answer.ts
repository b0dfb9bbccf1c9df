import { Buffer } from 'node:buffer';
import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import { isSafe } from '../order.js';
import type { Reply } from '../respond.js';
import type { Head } from './scan.js';

/** Where an answer goes once its route has ended it: its connection, which writes answers in request order. */
export interface AnswerSink {
  answered(answer: FastAnswer): void;
}

/**
 * One fast-path request's answer, written by the same route code as node:http's ServerResponse
 * (it is a {@link Reply}) and turned into the bytes node:http would send for it: the status line,
 * the route's headers in the order it set them, `Date`, and `Connection` / `Keep-Alive` by node's
 * rules (a 1.0 request keeps its connection only when the answer has a length; HEAD, 204 and 304
 * answers carry no body). Each header name is set once (the routes never set one twice, which
 * node would replace).
 */
export class FastAnswer implements Reply {
  shouldKeepAlive: boolean;
  statusCode = 200;
  /** Handed to the socket (what the HTTP metrics count, as node's `writableFinished`). */
  writableFinished = false;
  /** The bytes to send, once ended; {@link encoding} encodes them (the head is ASCII in both). */
  out: string | undefined = undefined;
  encoding: BufferEncoding = 'utf8';
  /** Whether the connection is closed after it. */
  last = false;
  readonly unsafe: boolean;
  readonly #sink: AnswerSink;
  readonly #bodyless: boolean;
  readonly #http10: boolean;
  readonly #keepAliveSeconds: number;
  #headers = '';
  #hasLength = false;

  constructor(sink: AnswerSink, head: Head, keepAliveSeconds: number) {
    this.#sink = sink;
    this.shouldKeepAlive = head.keepAlive;
    // A request after an unsafe one waits for its answer (RFC 9112 9.3.2), as on node:http.
    this.unsafe = !isSafe(head.method);
    this.#bodyless = head.method === 'HEAD';
    this.#http10 = head.http10;
    this.#keepAliveSeconds = keepAliveSeconds;
  }

  setHeader(name: string, value: string | number): this {
    this.#header(name, value);
    return this;
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders): this {
    this.statusCode = status;
    if (headers !== undefined) for (const name in headers) this.#header(name, headers[name] as string | number);
    return this;
  }

  end(body = '', encoding: BufferEncoding = 'utf8'): this {
    if (this.out !== undefined) return this;
    const status = this.statusCode;
    const hasBody = !this.#bodyless && status !== 204 && status !== 304 && (status < 100 || status > 199);
    let head = statusLine(status) + this.#headers;
    let keep = this.shouldKeepAlive;
    let payload = hasBody ? body : '';
    // Without a length, a 1.0 answer closes its connection (even one with no body: node's rule),
    // and a 1.1 body is chunked.
    if (!this.#hasLength && this.#http10) keep = false;
    else if (!this.#hasLength && hasBody) {
      head += 'Transfer-Encoding: chunked\r\n';
      const size = Buffer.byteLength(body, encoding);
      payload = size === 0 ? '0\r\n\r\n' : `${size.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    }
    head += `Date: ${utcDate()}\r\n`;
    if (keep) head += this.#keepAliveSeconds > 0 ? `Connection: keep-alive\r\nKeep-Alive: timeout=${this.#keepAliveSeconds}\r\n\r\n` : 'Connection: keep-alive\r\n\r\n';
    else head += 'Connection: close\r\n\r\n';
    this.last = !keep;
    this.encoding = encoding;
    this.out = head + payload;
    this.#sink.answered(this);
    return this;
  }

  #header(name: string, value: string | number): void {
    // The routes write it in lower case; toLowerCase (ICU) is the slower test (90 ns an answer).
    if (name === 'content-length' || (name.length === 14 && name.toLowerCase() === 'content-length')) this.#hasLength = true;
    this.#headers += `${name}: ${value}\r\n`;
  }
}

/** Status lines made once each: STATUS_CODES is a dictionary-mode object, slow to look up per answer. */
const statusLines: string[] = [];

function statusLine(status: number): string {
  return (statusLines[status] ??= `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`);
}

let dateText = '';
let dateSecond = -1;

/** The `Date` header's value (RFC 9110 6.6.1), made once a second as node makes it. */
function utcDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
