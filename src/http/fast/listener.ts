import type { Server as HttpServer, ServerOptions } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { FastConnection, type FastRoutes, type FastSite } from './connection.js';

/** node:http's timeouts, which the fast path keeps for the connections it holds. */
export type ServerTimeouts = Required<Pick<ServerOptions, 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'connectionsCheckingInterval'>>;

export interface FastSettings {
  timeouts: ServerTimeouts;
  /** The longest request head (node:http's maxHeaderSize). */
  headLimit: number;
  refuse: FastSite['refuse'];
  /** Puts a connection under the header budget, which asks `headBytes` what its head in progress holds. */
  watch(socket: Socket, headBytes: () => number): void;
}

/**
 * The HTTP port's listener when the fast path is on: a `net` server whose connections are
 * {@link FastConnection}s, each handed to `http` (node:http, never listening itself) at its first
 * request outside the fast routes. It keeps node:http's promises for the connections it holds:
 * the header, request and keep-alive timeouts (one sweep over them every
 * `connectionsCheckingInterval` ms, as node checks its own), --max-connections (the listening
 * server's, so it counts both kinds), and the drain at shutdown.
 */
export class FastListener {
  readonly server: Server;
  readonly #http: HttpServer;
  readonly #connections = new Set<FastConnection>();
  readonly #sweep: NodeJS.Timeout;
  readonly #site: FastSite;
  readonly #watch: FastSettings['watch'];

  constructor(http: HttpServer, routes: FastRoutes, settings: FastSettings) {
    const { timeouts, refuse } = settings;
    this.#http = http;
    this.#watch = settings.watch;
    this.#site = {
      routes,
      keepAliveSeconds: Math.floor(timeouts.keepAliveTimeout / 1000),
      headLimit: settings.headLimit,
      handOff: (connection, rest) => this.#handOff(connection, rest),
      refuse,
    };
    // allowHalfOpen: a client that ends its side once its requests are out is still answered (as httpAllowHalfOpen does on node:http).
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    this.#sweep = setInterval(() => this.#check(timeouts), timeouts.connectionsCheckingInterval).unref();
    // Once the port is closed and its last connection gone, nothing is left to check.
    this.server.once('close', () => clearInterval(this.#sweep));
  }

  /** Closes the connections with nothing in progress (a shutdown's grace is over). */
  closeIdle(): void {
    for (const connection of this.#connections) if (connection.idle) connection.socket.destroy();
  }

  closeAll(): void {
    for (const connection of this.#connections) connection.socket.destroy();
  }

  #accept(socket: Socket): void {
    const connection = new FastConnection(socket, this.#site);
    this.#connections.add(connection);
    this.#watch(connection.socket, () => connection.headBytes);
    connection.socket.once('close', () => this.#connections.delete(connection));
  }

  #handOff(connection: FastConnection, rest: Buffer): void {
    const socket = connection.socket;
    this.#connections.delete(connection);
    this.#site.routes.handedOff();
    if (socket.readableEnded) {
      // The client has ended its side already: node:http is told what the stream told the fast
      // path, the bytes and then the end.
      this.#http.emit('connection', socket);
      if (rest.length > 0) socket.emit('data', rest);
      socket.emit('end');
      return;
    }
    // The bytes go back in front of the stream. node:http then reads the socket's handle itself
    // (its parser consumes the stream below JS), but only once they are used: resuming the
    // stream emits them first, in this tick, and the handle's next bytes can come only at the
    // next poll of the event loop.
    if (rest.length > 0) socket.unshift(rest);
    this.#http.emit('connection', socket);
    socket.resume();
  }

  #check(timeouts: ServerTimeouts): void {
    const now = Date.now();
    for (const connection of this.#connections) {
      const started = connection.requestStart;
      // While answers are owed, the client waits for the server, not the other way round.
      if (connection.owing) continue;
      if (started > 0) {
        const late = (!connection.headDone && timeouts.headersTimeout > 0 && now - started > timeouts.headersTimeout) || (timeouts.requestTimeout > 0 && now - started > timeouts.requestTimeout);
        if (late) connection.timeOut(timeoutError());
      } else if (connection.idle && timeouts.keepAliveTimeout > 0 && now - connection.idleSince > timeouts.keepAliveTimeout) {
        connection.socket.destroy();
      }
    }
  }
}

function timeoutError(): NodeJS.ErrnoException {
  return Object.assign(new Error('request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
}
