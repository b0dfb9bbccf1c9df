import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from 'pino';
import { Cluster } from '../cluster/cluster.js';
import { batchTooLarge, CacheError, ErrorCode, methodNotAllowed, valueTooLarge } from '../errors.js';
import type { Options } from '../options.js';
import { createApi } from './admin.js';
import { bearerCheck } from './auth.js';
import { maxBatchBody } from './batch-body.js';
import { BatchRoutes } from './batch-routes.js';
import { KeyRoutes } from './key-routes.js';
import { sendError, type RawHandler, type ServerState } from './respond.js';
import { allowHeader, allows, RouteTable, type RawRouteName, type RouteSpec } from './routes.js';
import { SeedRoutes } from './seed.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The Node flags the server runs with, to keep RSS near the live data (see heapLimits in
 * src/nodes/heap-limits.ts): a 2 MB nursery, and heaps that grow by a quarter of their live size between
 * full collections instead of V8's up to 4x (the main thread's heap swung from 10 to 37 MB under
 * a write load). With both, 1,000,000 writes at --max-memory 64mb peak at 172.5 MB against
 * 183-190 MB with the nursery alone (bench/README.md, "Memory"). The shebang of src/main.ts and
 * `npm start` spell them out; the bench and the tests that start the server as a process use
 * this list.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=25'];

/** How long an idle keep-alive connection may still bring a request once close() has begun. */
export const IDLE_GRACE_MS = 100;

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  cluster: Cluster;
  http: Server;
  /** Stops accepting and lets in-flight requests finish (up to --shutdown-timeout); nodes keep running. */
  drain(): Promise<void>;
  /** {@link drain}, then stops the nodes. */
  close(): Promise<void>;
}

export async function startServer(options: Options, log?: Logger): Promise<RunningServer> {
  const cluster = await Cluster.start({
    nodes: options.nodes,
    maxEntriesPerNode: options.cacheSize,
    replicas: options.replicas,
    maxBytesPerNode: Math.floor(options.maxMemory / options.nodes),
    transport: options.nodeTransport,
    log,
    debug: options.debug,
  });
  const api = createApi(cluster, {
    version: VERSION,
    startedAt: Date.now(),
    maxValue: options.maxValue,
    maxMemory: options.maxMemory,
  });
  const honoListener = getRequestListener(api.fetch);
  const state: ServerState = { draining: false };
  const context = { data: cluster.data, maxValue: options.maxValue, state };
  const seed = new SeedRoutes(context);
  const keys = new KeyRoutes(context);
  const batch = new BatchRoutes(context);
  const raw: Record<RawRouteName, RawHandler> = {
    seedGet: seed.get,
    seedSet: seed.set,
    seedDelete: seed.delete,
    key: keys.key,
    keyTtl: keys.ttl,
    mget: batch.mget,
    mset: batch.mset,
  };
  const routes = new RouteTable({ debug: options.enableDebug });

  // A body whose declared length is over its route's limit: a value past --max-value, or an
  // /mget or /mset body past the batch limit. (The method is looked at first: node builds
  // `req.headers` only when it is asked for.)
  const batchLimit = maxBatchBody(options.maxValue);
  const tooLarge = (req: IncomingMessage, route: RouteSpec | undefined): CacheError | undefined => {
    if (route?.body === undefined || (req.method !== 'PUT' && req.method !== 'POST')) return undefined;
    const limit = route.body === 'value' ? options.maxValue : batchLimit;
    if (!(Number(req.headers['content-length']) > limit)) return undefined;
    return route.body === 'value' ? valueTooLarge(options.maxValue) : batchTooLarge();
  };
  const authorized = bearerCheck(options.authToken);

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const match = routes.match(path);
    const method = req.method ?? 'GET';
    if (match?.route.open !== true && !authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendError(state, res, new CacheError(ErrorCode.Unauthorized, 'Missing or wrong bearer token'));
    }
    if (match === undefined) return sendError(state, res, new CacheError(ErrorCode.NotFound, RouteTable.notFoundMessage(path)));
    if (!allows(match.route, method)) {
      res.setHeader('allow', allowHeader(match.route));
      return sendError(state, res, methodNotAllowed(), match.route.newline === true ? '\n' : '');
    }
    const refused = tooLarge(req, match.route);
    // Refused on its declared length, before anything buffers it. Clients that send
    // `Expect: 100-continue` (curl does above 1 MB) are refused before they send the body at all
    // (checkContinue below). Others get this answer at once while node reads and drops the
    // rest in passing: closing under a client that is still sending would reset the connection
    // and lose the answer. Bodies without a length are counted as they stream.
    if (refused !== undefined) return sendError(state, res, refused);
    if (match.route.front === 'raw') return raw[match.name as RawRouteName](req, res, match.params, q < 0 ? '' : url.slice(q + 1));
    // While draining, every response closes its connection, so keep-alive clients let go.
    // (The node:http routes check the flag when they write, as they may wait for a node.)
    if (state.draining) res.shouldKeepAlive = false;
    void honoListener(req, res);
  };
  const http = createServer(timeouts(options), listener);
  if (options.maxConnections > 0) http.maxConnections = options.maxConnections;
  // A client may shut down its sending side once its request is out (a TCP half-close). By
  // default node then drops the requests still waiting for a node's answer, unanswered; with
  // this it answers them and closes after the last.
  Object.assign(http, { httpAllowHalfOpen: true });
  http.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (tooLarge(req, routes.match(pathOf(req.url ?? '/'))?.route) === undefined && authorized(req)) res.writeContinue();
    listener(req, res);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port, options.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await cluster.close();
    throw error;
  }
  const { port } = http.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  let draining: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      state.draining = true;
      // Stop listening, but leave idle keep-alive connections open for a moment: http.close()
      // would cut them at once, and a request already on its way on one would be reset. During
      // the grace every request that arrives is answered with `Connection: close`.
      const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(http, () => resolve()));
      const grace = setTimeout(() => http.closeIdleConnections(), IDLE_GRACE_MS);
      const deadline = setTimeout(() => http.closeAllConnections(), options.shutdownTimeout * 1000);
      await closed;
      clearTimeout(grace);
      clearTimeout(deadline);
    })();
    return draining;
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= drain().then(() => cluster.close());
    return closing;
  };

  return { url: `http://${host}:${port}`, port, cluster, http, drain, close };
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * Node's server timeouts from the options. Node looks for connections past their timeouts every
 * `connectionsCheckingInterval` ms (its default is 30 s) and cuts them at the first look after
 * the deadline, a little later still on a busy loop; asking for the header deadline two intervals
 * early makes a slow client go within --header-timeout.
 */
function timeouts(options: Options): ServerOptions {
  const requestTimeout = options.requestTimeout * 1000;
  const headerTimeout = requestTimeout > 0 ? Math.min(options.headerTimeout * 1000, requestTimeout) : options.headerTimeout * 1000;
  const check = Math.min(500, Math.max(50, headerTimeout / 10));
  return {
    headersTimeout: Math.max(check, headerTimeout - 2 * check),
    requestTimeout,
    keepAliveTimeout: options.keepAliveTimeout * 1000,
    connectionsCheckingInterval: check,
  };
}
