import { MAX_NODES } from './core/limits.js';
import { TRANSPORTS } from './nodes/start.js';

/**
 * Every command-line option, declared once: the parser, the defaults and `--help` are all derived
 * from this table. Units are in each description.
 */
interface IntSpec {
  type: 'int';
  default: number;
  min: number;
  max: number;
  help: string;
  /** A default outside min..max that means "off" (shown so in --help). */
  off?: number;
}
interface StringSpec {
  type: 'string';
  default: string;
  help: string;
  /** What --help calls the value (default `text`). */
  value?: string;
}
export interface BoolSpec {
  type: 'bool';
  default: boolean;
  help: string;
}
/** A byte size: a whole number with an optional unit b, kb, mb or gb (powers of 1024). */
interface SizeSpec {
  type: 'size';
  default: number;
  min: number;
  max?: number;
  help: string;
}
interface ChoiceSpec<C extends string = string> {
  type: 'choice';
  choices: readonly C[];
  default: C;
  help: string;
  /** An earlier name of the flag, still accepted. */
  alias?: string;
}
export type Spec = IntSpec | SizeSpec | StringSpec | BoolSpec | ChoiceSpec;

const MIB = 1024 * 1024;

export const OPTIONS = {
  port: {
    type: 'int',
    default: 8080,
    min: 0,
    max: 65_535,
    help: 'TCP port for the REST API (0 picks a free port and prints it).',
  },
  respPort: {
    type: 'int',
    default: -1,
    off: -1,
    min: 0,
    max: 65_535,
    help: 'TCP port for the Redis protocol (RESP2, and RESP3 after HELLO 3: redis-cli, ioredis, node-redis, any Redis client), e.g. 6379; 0 picks a free port. Same --host, --auth-token (AUTH), --max-connections and data as the REST API.',
  },
  host: {
    type: 'string',
    default: '127.0.0.1',
    help: 'Address to listen on. 0.0.0.0 listens on every interface.',
  },
  nodes: {
    type: 'int',
    default: 3,
    min: 1,
    max: MAX_NODES,
    help: 'Number of cache nodes (worker threads), named node-1 .. node-N.',
  },
  cacheSize: {
    type: 'int',
    default: 0,
    min: 0,
    max: 100_000_000,
    help: 'Maximum entries per node; beyond it a least recently used key is evicted (sampled LRU, as Redis does). 0 = no count limit.',
  },
  maxMemory: {
    type: 'size',
    default: 512 * MIB,
    min: 0,
    help: 'Memory for the whole cache (kb, mb, gb; 1.5gb works), split evenly over the starting nodes, each of whose shares must hold one value of --max-value; each node evicts least recently used keys (sampled LRU, as Redis does) to stay within its share. Counts key bytes + the slot of its item (key and value bytes, rounded up by at most a fifth) + a per-entry overhead, for every copy (with --replicas 2 it holds half as many keys). A node that joins brings one more share; one that leaves takes its share away. 0 = no limit.',
  },
  replicas: {
    type: 'int',
    default: 2,
    min: 1,
    max: 8,
    help: 'Copies of each key, on that many distinct nodes (1 = no copy). A write is acknowledged once every live copy has it; with 2 or more a node that dies loses no key. Capped at the number of nodes.',
  },
  maxValue: {
    type: 'size',
    default: MIB,
    min: 1,
    // A value is held as one V8 string on its way to a node, and V8's strings stop at 512 MiB.
    max: 256 * MIB,
    help: 'Largest value accepted (kb, mb; at most 256mb); a larger body is refused with 413 before it is read whole, a larger /set value with 413 too.',
  },
  headerMemory: {
    type: 'size',
    default: 64 * MIB,
    min: 64 * 1024,
    help: 'Most bytes all connections together may hold in request heads (request line and headers) still arriving; past it the largest heads over 16 KiB are answered 431 and closed. One head may be up to 3 x --max-value + 64 KiB, so that /set takes values up to --max-value in its query string, as the seed did.',
  },
  notifyKeyspaceEvents: {
    type: 'string',
    default: '',
    help: "Keyspace notifications, in Redis's notify-keyspace-events letters (K keyspace, E keyevent, g generic, $ string, x expired, e evicted, A all): e.g. KEA publishes every key change on __keyspace@0__:<key> and __keyevent@0__:<event>. Also CONFIG SET notify-keyspace-events. Empty = off.",
  },
  pubsubHistory: {
    type: 'int',
    default: 1000,
    min: 0,
    max: 1_000_000,
    help: 'Messages kept per pub/sub channel (and no more bytes than --subscriber-buffer) so that an SSE client reconnecting with Last-Event-ID gets what it missed, or is told how many it lost. 0 = none.',
  },
  subscriberBuffer: {
    type: 'size',
    default: 8 * MIB,
    min: 1024,
    help: 'Most bytes of messages a pub/sub subscriber (RESP or SSE), or a RESP client in MONITOR mode, may leave unread; past it the client is disconnected (a subscriber counted as dropped), so a slow one never holds up the rest (Redis: client-output-buffer-limit pubsub).',
  },
  nodeTransport: {
    type: 'choice',
    choices: TRANSPORTS,
    default: 'worker',
    alias: 'shard-transport',
    help: 'How nodes are driven: plain worker threads, or one-thread piscina pools (slower; see bench/README.md). --shard-transport is its earlier name.',
  },
  backend: {
    type: 'string',
    default: '',
    value: 'url',
    help: 'A Redis or Valkey server, redis://[user:password@]host:port[/db], or a Redis Cluster, redis-cluster://[user:password@]host:port[,host:port...], that holds the data: the nodes then keep a near cache of it (bounded by --max-memory), writes go to it before they are answered, and it tells the cache when a key changes (CLIENT TRACKING), whoever changed it. Empty = none: the nodes hold the data.',
  },
  backendTimeout: {
    type: 'int',
    default: 1000,
    min: 10,
    max: 60_000,
    help: 'Milliseconds to connect to --backend and to wait for each of its replies; past it, or at once while it is down, a request that needs it answers 503 BACKEND_UNAVAILABLE.',
  },
  backendWait: {
    type: 'int',
    default: 0,
    min: 0,
    max: 100,
    help: "With --backend, Redis's WAIT <n> after each write: the write is answered only once n replicas of the backend have it (within --backend-timeout, else 503 BACKEND_UNAVAILABLE, the write perhaps applied), so that it survives a failover to one of them. 0 = answered once the backend itself has it.",
  },
  nearCache: {
    type: 'choice',
    choices: ['on', 'off'],
    default: 'on',
    help: 'With --backend: keep local copies of what is read (on), or none (off: every read goes to the backend, the cache a plain HTTP and RESP front end to it).',
  },
  serveStale: {
    type: 'bool',
    default: false,
    help: 'With --backend, while the backend is unreachable, answer reads from the local copies still held (they may be stale: marked `X-Cache-Stale: 1` on HTTP, and counted) instead of 503. They are all dropped once it is back.',
  },
  authToken: {
    type: 'string',
    default: '',
    help: 'Require `Authorization: Bearer <token>` on every request but GET /health (401 otherwise), and AUTH <token> (or AUTH default <token>, HELLO 2 AUTH default <token>) on the RESP port before any other command (NOAUTH otherwise). Also read from CACHE_AUTH_TOKEN. Empty = no authentication.',
  },
  insecure: {
    type: 'bool',
    default: false,
    help: 'Allow listening on a non-loopback --host without --auth-token (refused otherwise, like Redis protected mode).',
  },
  maxConnections: {
    type: 'int',
    default: 10_000,
    min: 0,
    max: 1_000_000,
    help: 'Most client connections open at once on each port (REST, RESP); further ones are closed on arrival (RESP ones told `ERR max number of clients reached`). 0 = no limit.',
  },
  noFastPath: {
    type: 'bool',
    default: false,
    help: 'Serve every HTTP request through node:http. By default the hot data routes (/get, /set, /del, GET/HEAD/PUT/DELETE /keys/:key, POST /keys/:key/incr, /expire, /persist, GET /exists) are read and answered below it, straight on the socket, with the same bytes; any request outside what that path frames itself moves its connection to node:http.',
  },
  headerTimeout: {
    type: 'int',
    default: 10,
    min: 1,
    max: 3600,
    help: 'Seconds a client may take to send a request line and headers; a slower one is disconnected (408).',
  },
  requestTimeout: {
    type: 'int',
    default: 30,
    min: 0,
    max: 3600,
    help: 'Seconds a client may take to send a whole request, body included. 0 = no limit.',
  },
  keepAliveTimeout: {
    type: 'int',
    default: 5,
    min: 1,
    max: 3600,
    help: 'Seconds an idle keep-alive connection stays open.',
  },
  shutdownTimeout: {
    type: 'int',
    default: 5,
    min: 0,
    max: 3600,
    help: 'Seconds SIGINT/SIGTERM lets requests in flight finish before the remaining connections are cut.',
  },
  debug: {
    type: 'bool',
    default: false,
    help: 'Log every cache operation (key, node, outcome) at debug level.',
  },
  enableDebug: {
    type: 'bool',
    default: false,
    help: 'Enable POST /debug/crash/:id?how=terminate|throw|exit|oom, which kills a node to test recovery (404 without this flag).',
  },
} as const satisfies Record<string, Spec>;

type ValueOf<S extends Spec> = S extends IntSpec | SizeSpec
  ? number
  : S extends BoolSpec
    ? boolean
    : S extends ChoiceSpec<infer C>
      ? C
      : string;

export type Options = { -readonly [K in keyof typeof OPTIONS]: ValueOf<(typeof OPTIONS)[K]> };
export type Name = keyof typeof OPTIONS;

export function defaultOptions(): Options {
  const options = {} as Record<Name, unknown>;
  for (const name of Object.keys(OPTIONS) as Name[]) options[name] = OPTIONS[name].default;
  return options as Options;
}

/** The flag of an option: `maxMemory` -> `max-memory`. */
export const flagOf = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
