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

/**
 * Runs `handle` for a request once every unsafe request before it on the same connection has
 * been answered (RFC 9112 9.3.2: pipelined requests take effect in order; only safe ones may run
 * in parallel). Node parses and hands over a pipelined request while the one before it may still
 * be reading its body or waiting for its nodes; without this a GET that follows a PUT could be
 * answered from before the PUT. Requests from different connections are not ordered (and are
 * still batched together). A connection that has only seen safe requests keeps no state.
 */
export function inOrder(req: IncomingMessage, res: ServerResponse, handle: (req: IncomingMessage, res: ServerResponse) => void): void {
  const socket = req.socket as Ordered;
  const safe = SAFE.has(req.method ?? 'GET');
  let order = socket[ORDER];
  if (order === undefined) {
    if (safe) return handle(req, res);
    order = socket[ORDER] = { unsafe: 0, held: [] };
  }
  const start = (): void => {
    if (!safe) {
      order.unsafe++;
      let done = false;
      const answered = (): void => {
        if (done) return;
        done = true;
        order.unsafe--;
        release(order);
      };
      res.once('finish', answered);
      res.once('close', answered);
    }
    handle(req, res);
  };
  if (order.unsafe > 0 || order.held.length > 0) order.held.push(start);
  else start();
}

/** Starts held requests in order until one of them is unsafe (it holds the rest again). */
function release(order: Order): void {
  while (order.unsafe === 0 && order.held.length > 0) order.held.shift()!();
}
