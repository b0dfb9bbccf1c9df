import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Cluster } from '../cluster/cluster.js';
import { MAX_KEY_BYTES } from '../core/limits.js';
import { tokenCheck } from '../http/auth.js';
import type { Options } from '../options.js';
import type { PubSubHub } from '../pubsub/hub.js';
import type { Notifications } from '../pubsub/notifications.js';
import { table, type CommandTable, type RespContext, type RespStats } from './command.js';
import { BIT_COMMANDS } from './commands/bits.js';
import { CONNECTION_COMMANDS } from './commands/connection.js';
import { INTROSPECTION_COMMANDS } from './commands/introspection.js';
import { KEY_COMMANDS } from './commands/keys.js';
import { KEY_INTERNALS_COMMANDS } from './commands/key-internals.js';
import { KEYSPACE_COMMANDS } from './commands/keyspace.js';
import { PUBSUB_COMMANDS } from './commands/pubsub.js';
import { SERVER_COMMANDS } from './commands/server.js';
import { STRING_COMMANDS } from './commands/strings.js';
import { TRANSACTION_COMMANDS } from './commands/transactions.js';
import { Monitors } from './monitors.js';
import { RespConnection } from './connection.js';
import { INLINE_MAX_BYTES } from './parser.js';
import { error } from './reply.js';

/** Every RESP command, by name. */
export const COMMANDS: CommandTable = table(CONNECTION_COMMANDS, SERVER_COMMANDS, INTROSPECTION_COMMANDS, STRING_COMMANDS, BIT_COMMANDS, KEY_COMMANDS, KEYSPACE_COMMANDS, KEY_INTERNALS_COMMANDS, PUBSUB_COMMANDS, TRANSACTION_COMMANDS);

/**
 * Most bytes of arguments one command may bring (Redis's client-query-buffer-limit is 1 GiB): an
 * MSET of 256 values of the default --max-value, or one value of the largest.
 */
const MAX_COMMAND_BYTES = 256 * 1024 * 1024;

export interface RespServerInfo {
  version: string;
  startedAt: number;
  maxBytesPerNode: number;
  pubsub: PubSubHub;
  notifications: Notifications;
}

/**
 * The Redis-protocol port (--resp-port): RESP2 over TCP on the same --host, the same token
 * (AUTH / HELLO AUTH), the same --max-connections bound, and the same data path as HTTP, so
 * both front ends see one store.
 */
export class RespServer {
  readonly #server: Server;
  readonly #connections = new Set<RespConnection>();
  readonly #ctx: RespContext;
  #nextId = 1;

  private constructor(server: Server, ctx: RespContext) {
    this.#server = server;
    this.#ctx = ctx;
  }

  static async start(cluster: Cluster, options: Options, info: RespServerInfo): Promise<RespServer> {
    const stats: RespStats = { connectionsReceived: 0, commandsProcessed: 0, rejectedConnections: 0 };
    const ctx: RespContext = {
      cluster,
      maxValue: options.maxValue,
      maxBytesPerNode: info.maxBytesPerNode,
      tokenMatches: options.authToken === '' ? null : tokenCheck(options.authToken),
      version: info.version,
      startedAt: info.startedAt,
      port: 0,
      clients: new Set(),
      commands: COMMANDS,
      stats,
      maxClients: options.maxConnections,
      pubsub: info.pubsub,
      notifications: info.notifications,
      subscriberBuffer: options.subscriberBuffer,
      monitors: new Monitors(),
    };
    // Half-open: a client that shuts down its sending side after its last command still gets
    // every reply (Redis drops them), then the connection closes.
    const net = createServer({ noDelay: true, allowHalfOpen: true });
    const resp = new RespServer(net, ctx);
    ctx.clients = resp.#connections;
    net.on('connection', (socket) => resp.#accept(socket, options));
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject);
      net.listen(options.respPort, options.host, () => {
        net.off('error', reject);
        resolve();
      });
    });
    ctx.port = (net.address() as AddressInfo).port;
    return resp;
  }

  /** Clients in MONITOR mode. */
  get monitors(): number {
    return this.#ctx.monitors.size;
  }

  get port(): number {
    return this.#ctx.port;
  }

  #accept(socket: Socket, options: Options): void {
    this.#ctx.stats.connectionsReceived++;
    if (options.maxConnections > 0 && this.#connections.size >= options.maxConnections) {
      this.#ctx.stats.rejectedConnections++;
      socket.on('error', () => socket.destroy());
      socket.end(error('ERR max number of clients reached'));
      return;
    }
    const limits = { maxBulkBytes: Math.max(options.maxValue, MAX_KEY_BYTES, INLINE_MAX_BYTES), maxCommandBytes: Math.max(MAX_COMMAND_BYTES, 2 * options.maxValue) };
    const connection = new RespConnection(this.#nextId++, socket, this.#ctx, COMMANDS, limits, (gone) => this.#connections.delete(gone));
    this.#connections.add(connection);
  }

  /**
   * Stops accepting; each connection reads no more commands and closes once those it has read
   * are answered; past `timeoutMs` the rest are cut.
   */
  async close(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of this.#connections) connection.drain();
    const deadline = setTimeout(() => {
      for (const connection of this.#connections) connection.drop();
    }, timeoutMs);
    await closed;
    clearTimeout(deadline);
  }
}
