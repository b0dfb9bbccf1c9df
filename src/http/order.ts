import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Methods without effects (RFC 9110 9.2.1): they may run beside each other. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether `method` has no effects: requests after an unsafe one on a connection wait for its answer (node:http here, the fast path in src/http/fast/connection.ts). */
export function isSafe(method: string): boolean {
  return SAFE.has(method);
}

/** Per connection: unsafe requests started and not yet answered, and the requests held behind them. */
interface Order {
  unsafe: number;
  held: Array<() => void>;
}

const ORDER = Symbol('request order');
const PENDING = Symbol('requests received and not yet answered');
const WHEN_ANSWERED = Symbol('what runs once none is pending');
type Ordered = Socket & { [ORDER]?: Order; [PENDING]?: Set<ServerResponse>; [WHEN_ANSWERED]?: (() => void) | undefined };
const SOCKET = Symbol('the connection of a request');
/** On an unsafe request's answer: its connection's order. */
type Answer = ServerResponse & { [ORDER]?: Order; [SOCKET]?: Ordered };

/**
 * Runs `handle` for a request once every unsafe request before it on the same connection has
 * been answered (RFC 9112 9.3.2: pipelined requests take effect in order; only safe ones may run
 * in parallel). Node parses and hands over a pipelined request while the one before it may still
 * be reading its body or waiting for its nodes; without this a GET that follows a PUT could be
 * answered from before the PUT. Requests from different connections are not ordered (and are
 * still batched together). A connection that has only seen safe requests keeps no state; an
 * unsafe request marks its answer, and {@link answered} (called from the answer's 'close', which
 * node emits just after 'finish', or when the connection goes) lets the next ones go. No closure
 * unless a request has to wait.
 */
export function inOrder(req: IncomingMessage, res: ServerResponse, handle: (req: IncomingMessage, res: ServerResponse) => void): void {
  const socket = req.socket as Ordered;
  (socket[PENDING] ??= new Set()).add(res);
  (res as Answer)[SOCKET] = socket;
  const safe = isSafe(req.method ?? 'GET');
  let order = socket[ORDER];
  if (order === undefined) {
    if (safe) return handle(req, res);
    order = socket[ORDER] = { unsafe: 0, held: [] };
  }
  if (order.unsafe > 0 || order.held.length > 0) order.held.push(() => start(order, safe, req, res, handle));
  else start(order, safe, req, res, handle);
}

function start(order: Order, safe: boolean, req: IncomingMessage, res: ServerResponse, handle: (req: IncomingMessage, res: ServerResponse) => void): void {
  if (!safe) {
    order.unsafe++;
    (res as Answer)[ORDER] = order;
  }
  handle(req, res);
}

/** A request's answer is out, or its connection gone: if it was unsafe, the requests held behind it go. */
export function answered(res: ServerResponse): void {
  const socket = (res as Answer)[SOCKET];
  if (socket !== undefined) {
    socket[PENDING]!.delete(res);
    const then = socket[WHEN_ANSWERED];
    if (then !== undefined && !owing(socket)) {
      socket[WHEN_ANSWERED] = undefined;
      then();
    }
  }
  const order = (res as Answer)[ORDER];
  if (order === undefined) return;
  order.unsafe--;
  // Start held requests in order until one of them is unsafe (it holds the rest again).
  while (order.unsafe === 0 && order.held.length > 0) order.held.shift()!();
}

/**
 * Runs `then` once every request received on `socket` has been answered (at once if none is
 * waiting): an error about a later, malformed request is answered after them, never in place
 * of one of them.
 */
export function whenAnswered(socket: Socket, then: () => void): void {
  const ordered = socket as Ordered;
  if (!owing(ordered)) return then();
  ordered[WHEN_ANSWERED] = then;
}

/** Whether a request received whole on `socket` is still unanswered (one whose body never came whole never will be: the connection's bytes can no longer be framed). */
function owing(socket: Ordered): boolean {
  for (const res of socket[PENDING] ?? []) if ((res as ServerResponse & { req: IncomingMessage }).req.complete) return true;
  return false;
}
