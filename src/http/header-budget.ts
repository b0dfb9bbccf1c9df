import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Heads of this size or less are never refused by the budget: node's own default header limit,
 * which no ordinary request comes near.
 */
export const ORDINARY_HEADER_BYTES = 16 * 1024;

/** How often the connections' heads in progress are added up. */
const SWEEP_MS = 20;

const MARK = Symbol('bytes read when the current head began');
const IN_BODY = Symbol('reading a body');
type Counted = Socket & { [MARK]: number; [IN_BODY]?: boolean };

/**
 * Bounds what all connections together hold in request heads not yet parsed whole. The seed's
 * `/set` carries its value in the query string, so one request's head may be about three times
 * --max-value (percent-encoding); 1,000 connections each sending such a request line slowly
 * would hold gigabytes. Every 100 ms the bytes each connection has sent since its current head
 * began are added up; while the total is over `limit`, the connections with the largest heads
 * past {@link ORDINARY_HEADER_BYTES} are answered 431 and closed. Costs nothing per chunk (node's
 * parser reads the sockets directly; a 'data' listener would take it off that path): one
 * `bytesRead` per request, and one pass over the connections per sweep.
 */
export class HeaderBudget {
  readonly limit: number;
  /** Connections cut off because the budget was spent. */
  refused = 0;
  readonly #sockets = new Set<Counted>();
  readonly #refuse: (socket: Socket) => void;
  readonly #timer: NodeJS.Timeout;

  constructor(limit: number, refuse: (socket: Socket) => void) {
    this.limit = limit;
    this.#refuse = refuse;
    this.#timer = setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  watch(socket: Socket): void {
    const counted = socket as Counted;
    counted[MARK] = 0;
    this.#sockets.add(counted);
    socket.once('close', () => this.#sockets.delete(counted));
  }

  /**
   * A request's head is parsed: the next head starts after it. The body of a method that carries
   * one is not counted (its route's body limit holds it); node reads or drops every body to its
   * end, and counting starts again there. (The method decides, not the headers: node builds
   * `req.headers` only when asked, and this runs for every request.)
   */
  headParsed(req: IncomingMessage): void {
    const socket = req.socket as Counted;
    socket[MARK] = socket.bytesRead;
    if (req.method !== 'PUT' && req.method !== 'POST' && req.method !== 'PATCH') return;
    socket[IN_BODY] = true;
    req.once('end', () => {
      socket[IN_BODY] = false;
      socket[MARK] = socket.bytesRead;
    });
  }

  /** Bytes held in heads in progress now, all connections together. */
  held(): number {
    let total = 0;
    for (const socket of this.#sockets) if (socket[IN_BODY] !== true) total += socket.bytesRead - socket[MARK];
    return total;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #sweep(): void {
    let total = 0;
    const large: Array<[Counted, number]> = [];
    for (const socket of this.#sockets) {
      if (socket[IN_BODY] === true) continue;
      const head = socket.bytesRead - socket[MARK];
      total += head;
      if (head > ORDINARY_HEADER_BYTES) large.push([socket, head]);
    }
    if (total <= this.limit) return;
    large.sort((a, b) => b[1] - a[1]);
    for (const [socket, head] of large) {
      if (total <= this.limit) break;
      total -= head;
      this.#sockets.delete(socket);
      this.refused++;
      this.#refuse(socket);
    }
  }
}
