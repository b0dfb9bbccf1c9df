import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Methods without effects (RFC 9110 9.2.1): they may run beside each other. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Per connection: unsafe requests started and not yet answered, and the requests held behind them. */
interface Order {
  unsafe: number;
  held: Array<() => void>;
}

const ORDER = Symbol('request order');
type Ordered = Socket & { [ORDER]?: Order };
/** On an unsafe request's answer: its connection's order. */
type Answer = ServerResponse & { [ORDER]?: Order };

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
  const safe = SAFE.has(req.method ?? 'GET');
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
  const order = (res as Answer)[ORDER];
  if (order === undefined) return;
  order.unsafe--;
  // Start held requests in order until one of them is unsafe (it holds the rest again).
  while (order.unsafe === 0 && order.held.length > 0) order.held.shift()!();
}
