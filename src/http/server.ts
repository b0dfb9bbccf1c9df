import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { parseBackendUrl } from '../backend/url.js';
import { Cluster } from '../cluster/cluster.js';
import type { Options } from '../options.js';
import { PubSubHub } from '../pubsub/hub.js';
import { Notifications } from '../pubsub/notifications.js';
import { RespServer } from '../resp/server.js';
import { answerAndClose, clientErrorOf, headTooLarge } from './client-errors.js';
import { createHandlers } from './handler.js';
import { FastListener, type ServerTimeouts } from './fast/listener.js';
import { HeaderBudget } from './header-budget.js';
import type { ServerState } from './respond.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The Node flags the server runs with, to keep RSS near the live data (see heapLimits in
 * src/nodes/heap-limits.ts): heaps that grow by a quarter of their live size between full
 * collections instead of V8's up to 4x (the main thread's heap swung from 10 to 37 MB under a
 * write load), and an 8 MB semi-space for the HTTP thread's nursery. Each request leaves a few
 * KB of node:http garbage: with 2 MB semi-spaces the scavenges cost 2 us of CPU a GET (10.1 us
 * against 7.9 us at 8 MB and 8.0 at V8's 16, wrk, 5 rounds), for 9 MB less RSS (118 against 127
 * MB with 100,000 keys; 144 at 16). The shebang of src/main.ts and `npm start` spell them out;
 * the bench and the tests that start the server as a process use this list.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=25'];

/** How long an idle keep-alive connection may still bring a request once close() has begun. */
export const IDLE_GRACE_MS = 100;

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  cluster: Cluster;
  http: Server;
  /** What listens on the HTTP port: the fast path's `net` server, or `http` itself with --no-fast-path. */
  listener: NetServer;
  /** Requests the fast path answered and connections it handed to node:http (undefined with --no-fast-path). */
  fastPath: { readonly answers: number; readonly handoffs: number } | undefined;
  /** The RESP port's server, with --resp-port. */
  resp: RespServer | undefined;
  pubsub: PubSubHub;
  /** Stops accepting and lets in-flight requests finish (up to --shutdown-timeout); nodes keep running. */
  drain(): Promise<void>;
  /** {@link drain}, then stops the nodes. */
  close(): Promise<void>;
}

export async function startServer(options: Options, log?: Logger): Promise<RunningServer> {
  const maxBytesPerNode = Math.floor(options.maxMemory / options.nodes);
  const cluster = await Cluster.start({
    nodes: options.nodes,
    maxEntriesPerNode: options.cacheSize,
    // With --backend a local copy is a cache of the backend's: one node holds it (a node lost costs a refetch).
    replicas: options.backend === '' ? options.replicas : 1,
    maxBytesPerNode,
    transport: options.nodeTransport,
    log,
    debug: options.debug,
    ...(options.backend === '' ? {} : { backend: { address: parseBackendUrl(options.backend), timeoutMs: options.backendTimeout, waitReplicas: options.backendWait, serveStale: options.serveStale, keepCopies: options.nearCache === 'on' } }),
  });
  const state: ServerState = { draining: false };
  // Client pub/sub, one hub for both front ends.
  const pubsub = new PubSubHub(options.pubsubHistory, options.subscriberBuffer);
  const notifications = new Notifications(pubsub, (on) => cluster.membership.reportKeyEvents(on));
  notifications.set(options.notifyKeyspaceEvents);
  // With --backend, pub/sub is the backend's: it reaches the subscribers of every cache server.
  const relay = cluster.relayFor(pubsub);
  pubsub.relay = relay;
  const handlers = createHandlers(cluster, options, state, { version: VERSION, startedAt: Date.now(), maxValue: options.maxValue, maxBytesPerNode, pubsub }, pubsub);
  const maxHeadBytes = maxHeadBytesFor(options.maxValue);
  const budget = new HeaderBudget(options.headerMemory, (socket) => answerAndClose(socket, headTooLarge(maxHeadBytes)));
  const serverTimeouts = timeouts(options);
  const http = createServer({ ...serverTimeouts, maxHeaderSize: maxHeadBytes, requireHostHeader: false }, (req, res) => {
    budget.headParsed(req);
    handlers.request(req, res);
  });
  http.on('connection', (socket: Socket) => budget.watch(socket));
  // Errors below the routes (a malformed head, one too large, a timeout) get the JSON answer
  // every route gives, not node's bodiless one.
  const refuse = (socket: Socket, error: NodeJS.ErrnoException): void => answerAndClose(socket, clientErrorOf(error, maxHeadBytes));
  http.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Bytes after a request that asked to close are not processed (RFC 9112 9.6): that request's
    // answer still goes, then the connection closes; answering them would cut it off.
    if (error.code === 'HPE_CLOSED_CONNECTION') return;
    refuse(socket, error);
  });
  // The fast path listens, and hands connections to node:http; node tracks the connections it is
  // handed (timeouts, closing the idle ones) once its server has said it listens.
  const fast = options.noFastPath
    ? undefined
    : new FastListener(http, handlers.fast, { timeouts: serverTimeouts, headLimit: maxHeadBytes, refuse, watch: (socket, headBytes) => budget.watch(socket, headBytes) });
  const listener: NetServer = fast?.server ?? http;
  if (fast !== undefined) http.emit('listening');
  if (options.maxConnections > 0) listener.maxConnections = options.maxConnections;
  // A client may shut down its sending side once its request is out (a TCP half-close). By
  // default node then drops the requests still waiting for a node's answer, unanswered; with
  // this it answers them and closes after the last.
  Object.assign(http, { httpAllowHalfOpen: true });
  http.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    budget.headParsed(req);
    handlers.checkContinue(req, res);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(options.port, options.host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    listener.close();
    await cluster.close();
    throw error;
  }
  let resp: RespServer | undefined;
  if (options.respPort >= 0) {
    try {
      resp = await RespServer.start(cluster, options, { version: VERSION, startedAt: Date.now(), maxBytesPerNode, pubsub, notifications });
    } catch (error) {
      listener.close();
      await cluster.close();
      throw Object.assign(error as Error, { respPort: options.respPort });
    }
  }
  const { port } = listener.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  let draining: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      state.draining = true;
      // Subscribers' streams never end by themselves: they go first.
      pubsub.close();
      // Stop listening, but leave idle keep-alive connections open for a moment: http.close()
      // would cut them at once, and a request already on its way on one would be reset. During
      // the grace every request that arrives is answered with `Connection: close`.
      const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(listener, () => resolve()));
      const grace = setTimeout(() => {
        http.closeIdleConnections();
        fast?.closeIdle();
      }, IDLE_GRACE_MS);
      const deadline = setTimeout(() => {
        http.closeAllConnections();
        fast?.closeAll();
      }, options.shutdownTimeout * 1000);
      await Promise.all([closed, resp?.close(options.shutdownTimeout * 1000)]);
      clearTimeout(grace);
      clearTimeout(deadline);
    })();
    return draining;
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= drain().then(() => {
      budget.close();
      notifications.close();
      relay?.close();
      return cluster.close();
    });
    return closing;
  };

  const fastPath = fast === undefined ? undefined : handlers.metrics.fastPath;
  return { url: `http://${host}:${port}`, port, cluster, http, listener, fastPath, resp, pubsub, drain, close };
}

/**
 * The longest request head accepted: room for a --max-value value in /set's query string, every
 * byte percent-encoded (3 bytes each), and 64 KiB for the rest of the head. What all heads
 * together may hold at once is bounded by --header-memory (src/http/header-budget.ts).
 */
function maxHeadBytesFor(maxValue: number): number {
  return 3 * maxValue + 64 * 1024;
}

/**
 * Node's server timeouts from the options. Node looks for connections past their timeouts every
 * `connectionsCheckingInterval` ms (its default is 30 s) and cuts them at the first look after
 * the deadline, a little later still on a busy loop; asking for the header deadline two intervals
 * early makes a slow client go within --header-timeout.
 */
function timeouts(options: Options): ServerTimeouts {
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
