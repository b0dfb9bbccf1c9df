import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { Match } from '../routes.js';
import { adoptReads } from '../../socket-reads.js';
import { FastAnswer, type AnswerSink } from './answer.js';
import { Inbox } from './inbox.js';
import { HAND_OFF, INCOMPLETE, scanHead, type Head } from './scan.js';

/** The routes the fast path answers, with the same code and metrics as node:http (src/http/handler.ts). */
export interface FastRoutes {
  /** The route of a request the fast path answers; undefined: node:http does (the connection is handed off). */
  route(head: Head): Match | undefined;
  /** Runs the request's route; it ends `answer`, now or later. */
  run(match: Match, head: Head, body: Buffer, answer: FastAnswer): void;
  /** An answer was handed to the socket. */
  written(answer: FastAnswer): void;
  /** A connection goes to node:http. */
  handedOff(): void;
}

/** What a connection needs from the fast path's server (src/http/fast/listener.ts). */
export interface FastSite {
  readonly routes: FastRoutes;
  readonly keepAliveSeconds: number;
  /** The longest head framed here (node's limit, --max-value's: see src/http/server.ts); a longer one is node:http's. */
  readonly headLimit: number;
  /** node:http takes the connection's socket over, with the bytes not yet used (`rest`). */
  handOff(connection: FastConnection, rest: Buffer): void;
  /** An error answer, then the connection closes: what node:http's `clientError` path answers for `error`. */
  refuse(socket: Socket, error: NodeJS.ErrnoException): void;
}

/** The body of a request without one: shared, as a view per request cost an object (0.45% of the thread under GETs). */
const NO_BODY = Buffer.alloc(0);

/** Past this many bytes of answers not yet taken by the kernel, no more requests are read until they drain. */
const WRITE_HIGH_WATER = 64 * 1024;

/**
 * One client connection on the fast path: it frames requests from the socket's bytes
 * (src/http/fast/scan.ts), runs them, and writes their answers in request order, until a
 * request it does not take makes it hand the connection to node:http. Unsafe requests (POST,
 * PUT, DELETE) hold the requests after them until they are answered, as node:http's order does
 * (src/http/order.ts); safe ones run side by side. A connection's timing (for the header,
 * request and keep-alive timeouts) is read by its server's sweep.
 */
export class FastConnection implements AnswerSink {
  readonly socket: Socket;
  readonly #site: FastSite;
  readonly #inbox = new Inbox();
  /** How far the current head was searched for its end without finding it. */
  #searched = 0;
  /** Answers not yet written, in request order. */
  readonly #queue: FastAnswer[] = [];
  #unsafe = 0;
  /** When the request in progress began (ms since the epoch); 0 while none is. A new connection counts as one (node's header timeout runs from the connect). */
  requestStart = Date.now();
  /** Whether the request in progress has its whole head (only its body is awaited). */
  headDone = false;
  /** Since when the connection has had nothing in progress (for the keep-alive timeout). */
  idleSince = 0;
  /** No more requests are read: after a request that closes the connection, at a hand-off, past a timeout. */
  #stopped = false;
  #handingOff = false;
  #ended = false;
  #running = false;
  /** Answers ready to be written, in order: each turn's go out in one write (one syscall for a pipelined batch). */
  #out = '';
  #outEncoding: BufferEncoding = 'utf8';

  /** `socket` is one its server has just accepted; the connection reads it through its own ({@link adoptReads}). */
  constructor(accepted: Socket, site: FastSite) {
    const socket = adoptReads(accepted, true, this.#onData);
    this.socket = socket;
    this.#site = site;
    socket.setNoDelay(true);
    socket.on('end', this.#onEnd);
    socket.on('drain', this.#onDrain);
    // A reset or a write to a gone client: the connection just goes (its answers are dropped).
    socket.on('error', () => socket.destroy());
  }

  /** Nothing in progress and nothing to answer: what a shutdown's grace closes at once. */
  get idle(): boolean {
    return this.#inbox.length === 0 && this.#queue.length === 0 && this.requestStart === 0 && !this.#handingOff;
  }

  /** The bytes of the head it is receiving (0 while it awaits a body or nothing): what the header budget counts. */
  get headBytes(): number {
    return this.headDone ? 0 : this.#inbox.length;
  }

  /** Answers are owed on it. */
  get owing(): boolean {
    return this.#queue.length > 0;
  }

  /** Past a timeout: answered 408 if nothing else is owed on it, else just closed. */
  timeOut(error: NodeJS.ErrnoException): void {
    this.#stopped = true;
    if (this.#queue.length > 0) this.socket.destroy();
    else this.#site.refuse(this.socket, error);
  }

  answered(answer: FastAnswer): void {
    if (answer.unsafe) this.#unsafe--;
    const socket = this.socket;
    if (this.#queue[0] !== answer || socket.destroyed) return;
    while (this.#queue.length > 0 && this.#queue[0]!.out !== undefined) {
      const next = this.#queue.shift()!;
      if (next.encoding !== this.#outEncoding) this.#flush();
      this.#out += next.out!;
      this.#outEncoding = next.encoding;
      next.writableFinished = true;
      this.#site.routes.written(next);
      if (next.last) {
        this.#stopped = true;
        this.#queue.length = 0;
        this.#flush();
        // As node's destroySoon: the end is sent after the answer, then the socket goes.
        socket.end(() => socket.destroy());
        break;
      }
    }
    if (this.#queue.length === 0 && this.requestStart === 0) this.idleSince = Date.now();
    // Inside #run (an answer ended at once), the loop goes on by itself and writes at its end.
    if (this.#running) return;
    this.#flush();
    if (this.#handingOff) {
      if (this.#queue.length === 0) this.#handOff();
      return;
    }
    if (this.#unsafe === 0 && this.#inbox.length > 0 && !this.#stopped) this.#run();
    else if (this.#ended && this.#queue.length === 0) this.#finish();
  }

  #flush(): void {
    if (this.#out === '') return;
    if (!this.socket.destroyed) this.socket.write(this.#out, this.#outEncoding);
    this.#out = '';
  }

  /** Bytes read; `chunk` is valid only during the call (what is kept of it is copied: Inbox.keep, the body below). */
  readonly #onData = (chunk: Buffer): void => {
    // Stopped, or refused by the header budget (answered and ended: what comes now is dropped).
    if (this.#stopped || this.socket.writableEnded) return;
    if (this.requestStart === 0) this.requestStart = Date.now();
    this.#inbox.add(chunk);
    this.#run();
  };

  /** The client's end (a half-close): what it sent is answered, then the connection closes. */
  readonly #onEnd = (): void => {
    this.#ended = true;
    if (this.#queue.length === 0 && !this.#handingOff) this.#finish();
  };

  readonly #onDrain = (): void => {
    if (this.socket.isPaused() && !this.#handingOff) {
      this.socket.resume();
      this.#run();
    }
  };

  #finish(): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    // A request cut short by the client's end: node's parser answers it as malformed.
    if (this.#inbox.length > 0) this.#site.refuse(this.socket, eofError());
    else this.socket.end();
  }

  /** Frames and runs every complete request there is, while nothing holds them. */
  #run(): void {
    const socket = this.socket;
    const inbox = this.#inbox;
    const bytes = inbox.bytes;
    let at = 0;
    this.#running = true;
    try {
      while (at < inbox.length && !this.#stopped && this.#unsafe === 0 && !socket.destroyed) {
        if (socket.writableLength > WRITE_HIGH_WATER) {
          socket.pause();
          break;
        }
        const head = scanHead(bytes, at, inbox.length, this.#searched, this.#site.headLimit);
        if (head === INCOMPLETE) {
          this.#searched = inbox.length;
          break;
        }
        const match = head === HAND_OFF ? undefined : this.#site.routes.route(head);
        if (head === HAND_OFF || match === undefined) {
          this.#handOffAt(at);
          return;
        }
        this.headDone = true;
        const end = head.end + head.contentLength;
        if (end > inbox.length) break;
        // A route may keep the body past this read (a write waits for its batch).
        const body = head.contentLength === 0 ? NO_BODY : inbox.lasting(head.end, end);
        at = end;
        this.#searched = at;
        this.headDone = false;
        this.requestStart = at < inbox.length ? Date.now() : 0;
        const answer = new FastAnswer(this, head, this.#site.keepAliveSeconds);
        if (!head.keepAlive) this.#stopped = true;
        if (answer.unsafe) this.#unsafe++;
        this.#queue.push(answer);
        this.#site.routes.run(match, head, body, answer);
      }
    } finally {
      this.#running = false;
      this.#flush();
    }
    this.#keep(at);
    if (this.#ended && this.#queue.length === 0) this.#finish();
  }

  #keep(at: number): void {
    this.#inbox.keep(at);
    this.#searched = Math.max(0, this.#searched - at);
  }

  /** The request at `at` is node:http's: once the answers before it are out, the connection goes there. */
  #handOffAt(at: number): void {
    this.#stopped = true;
    this.#handingOff = true;
    this.socket.pause();
    this.#keep(at);
    if (this.#queue.length === 0) this.#handOff();
  }

  #handOff(): void {
    const socket = this.socket;
    // Answers made in this turn go before anything node:http answers.
    this.#flush();
    this.#handingOff = false;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('drain', this.#onDrain);
    if (socket.destroyed) return;
    this.requestStart = 0;
    this.#site.handOff(this, this.#inbox.take());
  }
}

function eofError(): NodeJS.ErrnoException {
  return Object.assign(new Error('request cut short'), { code: 'HPE_INVALID_EOF_STATE' });
}
