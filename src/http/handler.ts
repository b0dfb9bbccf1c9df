import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Cluster } from '../cluster/cluster.js';
import { batchTooLarge, CacheError, ErrorCode, methodNotAllowed, valueTooLarge } from '../errors.js';
import type { Options } from '../options.js';
import type { PubSubHub } from '../pubsub/hub.js';
import { createApi, type ApiInfo } from './admin.js';
import { bearerCheck } from './auth.js';
import { maxBatchBody } from '../core/limits.js';
import { BatchRoutes } from './batch-routes.js';
import { KeyRoutes } from './key-routes.js';
import { OpRoutes } from './op-routes.js';
import { PubSubRoutes } from './pubsub-routes.js';
import { HttpMetrics } from './http-metrics.js';
import { answered, inOrder } from './order.js';
import { sendError, type FastHandler, type RawHandler, type ServerState } from './respond.js';
import { allowHeader, allows, RouteTable, type FastRouteName, type RawRouteName, type RouteSpec } from './routes.js';
import type { FastRoutes } from './fast/connection.js';
import { SeedRoutes } from './seed.js';

export interface Handlers {
  /** node:http's 'request' listener. */
  request(req: IncomingMessage, res: ServerResponse): void;
  /** node:http's 'checkContinue' listener: whether the body may be sent at all. */
  checkContinue(req: IncomingMessage, res: ServerResponse): void;
  /** The same routes for the fast path (src/http/fast/), for the requests it takes. */
  fast: FastRoutes;
  metrics: HttpMetrics;
}

/**
 * Every request's way through the server, in one place: its connection's order, the bearer
 * token, the route table (404, 405 with Allow), transfer codings, the declared body size, then
 * the route's handler: a node:http one for the data routes, the Hono app for the rest.
 */
export function createHandlers(cluster: Cluster, options: Options, state: ServerState, info: ApiInfo, hub: PubSubHub): Handlers {
  const metrics = new HttpMetrics();
  // Hono builds each request's URL from its Host; an HTTP/1.0 request may have none (one
  // without Host in HTTP/1.1 is refused before Hono, below), and is then served as for localhost.
  const honoListener = getRequestListener(createApi(cluster, info, metrics).fetch, { hostname: 'localhost' });
  const context = { data: cluster.data, multi: cluster.multi, keyspace: cluster.keyspace, maxValue: options.maxValue, state };
  const seed = new SeedRoutes(context);
  const keys = new KeyRoutes(context);
  const batch = new BatchRoutes(context);
  const ops = new OpRoutes(context);
  const pubsub = new PubSubRoutes(context, hub, options.subscriberBuffer);
  const fastRaw: Record<FastRouteName, FastHandler> = {
    seedGet: seed.get,
    seedSet: seed.set,
    seedDelete: seed.delete,
    key: keys.key,
    keyIncr: ops.incr,
    keyExpire: ops.expire,
    keyPersist: ops.persist,
    exists: ops.exists,
  };
  const raw: Record<RawRouteName, RawHandler> = {
    ...fastRaw,
    keyTtl: keys.ttl,
    mget: batch.mget,
    mset: batch.mset,
    keyAppend: ops.append,
    keyRename: ops.rename,
    scan: ops.scan,
    mdel: ops.mdel,
    publish: pubsub.publish,
    subscribe: pubsub.subscribe,
    psubscribe: pubsub.psubscribe,
  };
  const routes = new RouteTable({ debug: options.enableDebug });
  const authorized = bearerCheck(options.authToken);

  // What refuses a request's body before it is read, for the request itself and for its
  // `Expect: 100-continue` alike. Only a route that reads a body is looked at: asking for a
  // header makes node build every header of the request, which the hot routes never need.
  // A transfer coding other than chunked: node would pass the bytes on still encoded. A declared
  // length over the route's limit (a value past --max-value, a batch body past the batch limit).
  const batchLimit = maxBatchBody(options.maxValue);
  /** The longest body a route reads for a method (0: none read). */
  const bodyLimit = (route: RouteSpec, method: string | undefined): number =>
    route.body === undefined || (method !== 'PUT' && method !== 'POST') ? 0 : route.body === 'value' ? options.maxValue : batchLimit;
  const bodyRefusal = (req: IncomingMessage, route: RouteSpec): CacheError | undefined => {
    const limit = bodyLimit(route, req.method);
    if (limit === 0) return undefined;
    const coding = unsupportedCoding(req);
    if (coding !== undefined) return coding;
    if (!(Number(req.headers['content-length']) > limit)) return undefined;
    return route.body === 'value' ? valueTooLarge(options.maxValue) : batchTooLarge();
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // RFC 9112 3.2: an HTTP/1.1 request without Host is a 400. node's own check (which the server
    // turns off) answers it with no body; this is the JSON answer every route gives, and the
    // connection closes as node's would. (node builds the headers for its check too: no extra cost.)
    if (req.httpVersionMinor === 1 && req.headers.host === undefined) {
      res.shouldKeepAlive = false;
      return sendError(state, res, new CacheError(ErrorCode.BadRequest, 'Missing Host header (required in HTTP/1.1)'));
    }
    const url = originForm(req.url ?? '/');
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const match = routes.match(path);
    if (match !== undefined) metrics.route(res, match.route.pattern);
    const method = req.method ?? 'GET';
    if (match?.route.open !== true && !authorized(req.headers.authorization)) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendError(state, res, new CacheError(ErrorCode.Unauthorized, 'Missing or wrong bearer token'));
    }
    if (match === undefined) return sendError(state, res, new CacheError(ErrorCode.NotFound, RouteTable.notFoundMessage(path)));
    if (!allows(match.route, method)) {
      res.setHeader('allow', allowHeader(match.route));
      return sendError(state, res, methodNotAllowed());
    }
    const refused = bodyRefusal(req, match.route);
    // Refused before anything buffers the body. Clients that send
    // `Expect: 100-continue` (curl does above 1 MB) are refused before they send the body at all
    // (checkContinue). Others get this answer at once while node reads and drops the rest in
    // passing: closing under a client that is still sending would reset the connection and lose
    // the answer. Bodies without a length are counted as they stream.
    if (refused !== undefined) return sendError(state, res, refused);
    if (match.route.front === 'raw') {
      try {
        raw[match.name as RawRouteName](req, res, match.params, q < 0 ? '' : url.slice(q + 1));
      } catch (error) {
        sendError(state, res, error);
      }
      return;
    }
    // While draining, every response closes its connection, so keep-alive clients let go.
    // (The node:http routes check the flag when they write, as they may wait for a node.)
    if (state.draining) res.shouldKeepAlive = false;
    // Hono reads the URL itself: give it the origin form too.
    if (url !== req.url) req.url = url;
    void honoListener(req, res);
  };

  // One listener per answer, shared by every request (node calls it with the answer as `this`),
  // for what both the metrics and the connection's order wait for: node itself listens to
  // 'finish', so a second 'finish' listener would cost an array per answer.
  const onClose = function (this: ServerResponse): void {
    metrics.finished(this);
    answered(this);
  };
  const request = (req: IncomingMessage, res: ServerResponse): void => {
    metrics.start(res);
    res.on('close', onClose);
    inOrder(req, res, handle);
  };
  // The fast path takes a request only when it needs none of the answers above (401, 404, 405,
  // 413, 501): those, and a body where its route reads none, are node:http's (a hand-off).
  const fast: FastRoutes = {
    route(head) {
      const match = routes.match(head.path);
      if (match?.route.fast !== true || !allows(match.route, head.method)) return undefined;
      if (match.route.open !== true && !authorized(head.authorization)) return undefined;
      return head.contentLength > bodyLimit(match.route, head.method) ? undefined : match;
    },
    run(match, head, body, answer) {
      metrics.start(answer);
      metrics.route(answer, match.route.pattern);
      try {
        fastRaw[match.name as FastRouteName]({ method: head.method, body }, answer, match.params, head.query);
      } catch (error) {
        sendError(state, answer, error);
      }
    },
    written(answer) {
      metrics.finished(answer);
      metrics.fastPath.answers++;
    },
    handedOff: () => metrics.fastPath.handoffs++,
  };
  return {
    request,
    fast,
    metrics,
    checkContinue(req, res) {
      // A body that would be refused is never asked for.
      const match = routes.match(pathOf(originForm(req.url ?? '/')));
      if ((match === undefined || bodyRefusal(req, match.route) === undefined) && authorized(req.headers.authorization)) res.writeContinue();
      request(req, res);
    },
  };
}

/**
 * The request target in origin form (`/path?query`). A server must accept the absolute form too
 * (`http://host/path`, RFC 9112 3.2.2); the authority in it is not checked (one host serves).
 */
export function originForm(url: string): string {
  if (url.charCodeAt(0) === 0x2f) return url;
  const match = /^https?:\/\/[^/?#]*/i.exec(url);
  if (match === null) return url;
  const rest = url.slice(match[0].length);
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * A 501 for a transfer coding other than chunked alone (RFC 9112 6.1): node removes the chunked
 * framing and passes the rest on still encoded, so `gzip, chunked` would store gzip bytes.
 */
function unsupportedCoding(req: IncomingMessage): CacheError | undefined {
  const coding = req.headers['transfer-encoding'];
  if (coding === undefined || coding.trim().toLowerCase() === 'chunked') return undefined;
  return new CacheError(ErrorCode.NotImplemented, `Transfer-Encoding '${coding}' is not supported: send the body as it is, with Content-Length or chunked`);
}
