import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Heads of this size or less are never refused by the budget: node's own default header limit,
 * which no ordinary request comes near.
 */
const ORDINARY_HEADER_BYTES = 16 * 1024;

/**
 * How often the connections' heads in progress are added up: what arrives between two sweeps
 * is past the budget until the second. 1,000 connections sending 256 KiB heads at 16 KiB every
 * 20 ms, --header-memory 16mb: RSS +120 MB with a sweep every 100 ms, +95 MB every 20 ms.
 */
const SWEEP_MS = 20;

const MARK = Symbol('bytes read when the current head began');
const REQUEST = Symbol('the request whose head was parsed last, until the sweep sees it complete');
const METER = Symbol('what the head in progress holds, for a connection that counts it itself (the fast path)');
type Counted = Socket & { [MARK]: number; [REQUEST]?: IncomingMessage | undefined; [METER]?: (() => number) | undefined };

/**
 * Bounds what all connections together hold in request heads not yet parsed whole. The seed's
 * `/set` carries its value in the query string, so one request's head may be about three times
 * --max-value (percent-encoding); 1,000 connections each sending such a request line slowly
 * would hold gigabytes. Every 20 ms the bytes each connection has sent since its current head
 * began are added up; while the total is over `limit`, the connections with the largest heads
 * past {@link ORDINARY_HEADER_BYTES} are answered 431 and closed. Costs nothing per chunk (node's
 * parser reads the sockets directly; a 'data' listener would take it off that path): two
 * property writes per request, and one pass over the connections per sweep.
 */
export class HeaderBudget {
  readonly limit: number;
  readonly #sockets = new Set<Counted>();
  readonly #refuse: (socket: Socket) => void;
  readonly #timer: NodeJS.Timeout;

  constructor(limit: number, refuse: (socket: Socket) => void) {
    this.limit = limit;
    this.#refuse = refuse;
    this.#timer = setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  /**
   * A connection to count: one the fast path reads counts its head itself (`headBytes`); one node
   * reads (from the start, or once the fast path handed it over) is counted from the bytes not
   * yet used on.
   */
  watch(socket: Socket, headBytes?: () => number): void {
    const counted = socket as Counted;
    counted[MARK] = socket.bytesRead - socket.readableLength;
    counted[METER] = headBytes;
    if (this.#sockets.has(counted)) return;
    this.#sockets.add(counted);
    socket.once('close', () => this.#sockets.delete(counted));
  }

  /**
   * A request's head is parsed: the next head starts after it. Its body is not counted (its
   * route's body limit holds it): until the request is complete (node reads or drops every body
   * to its end) the connection is skipped, and the first sweep after that starts counting anew.
   * No listener per request: the bytes of a next head that arrive before that sweep, at most
   * 20 ms of them, are not counted.
   */
  headParsed(req: IncomingMessage): void {
    const socket = req.socket as Counted;
    socket[MARK] = socket.bytesRead;
    socket[REQUEST] = req;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /** The bytes of the head `socket` is sending now (0 while its request's body is on its way). */
  static #headBytes(socket: Counted): number {
    const meter = socket[METER];
    if (meter !== undefined) return meter();
    const request = socket[REQUEST];
    if (request !== undefined) {
      if (!request.complete) return 0;
      socket[MARK] = socket.bytesRead;
      socket[REQUEST] = undefined;
    }
    return socket.bytesRead - socket[MARK];
  }

  #sweep(): void {
    let total = 0;
    const large: Array<[Counted, number]> = [];
    for (const socket of this.#sockets) {
      const head = HeaderBudget.#headBytes(socket);
      total += head;
      if (head > ORDINARY_HEADER_BYTES) large.push([socket, head]);
    }
    if (total <= this.limit) return;
    large.sort((a, b) => b[1] - a[1]);
    for (const [socket, head] of large) {
      if (total <= this.limit) break;
      total -= head;
      this.#sockets.delete(socket);
      this.#refuse(socket);
    }
  }
}
