import { MAX_NODES } from './core/limits.js';
import { TRANSPORTS } from './nodes/start.js';
import { formatSize, parseSize } from './sizes.js';

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
}
interface BoolSpec {
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
    help: 'Most bytes of messages a pub/sub subscriber (RESP or SSE) may leave unread; past it the subscriber is disconnected and counted as dropped, so a slow one never holds up the rest (Redis: client-output-buffer-limit pubsub).',
  },
  nodeTransport: {
    type: 'choice',
    choices: TRANSPORTS,
    default: 'worker',
    alias: 'shard-transport',
    help: 'How nodes are driven: plain worker threads, or one-thread piscina pools (slower; see bench/README.md). --shard-transport is its earlier name.',
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

/** A mistake on the command line; the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Parsed = { kind: 'run'; options: Options } | { kind: 'help' } | { kind: 'version' };

/** The flag of an option: `maxMemory` -> `max-memory`. */
export const flagOf = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const BY_FLAG = new Map<string, Name>(
  (Object.keys(OPTIONS) as Name[]).flatMap((name) => {
    const spec: Spec = OPTIONS[name];
    const alias = 'alias' in spec ? spec.alias : undefined;
    return alias === undefined ? [[flagOf(name), name] as const] : [[flagOf(name), name] as const, [alias, name] as const];
  }),
);

/** Parses `--flag value` and `--flag=value` forms; booleans take no value (or `=true|false`). */
export function parseArgs(argv: readonly string[]): Parsed {
  const options = defaultOptions() as Record<Name, unknown>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version' || arg === '-v') return { kind: 'version' };
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    const name = BY_FLAG.get(flag);
    if (name === undefined) throw new UsageError(`unknown option '--${flag}'`);
    const spec: Spec = OPTIONS[name];
    let raw: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (spec.type === 'bool') {
      options[name] = parseBool(flag, raw);
      continue;
    }
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new UsageError(`--${flag} needs a value`);
    }
    options[name] = parseValue(flag, spec, raw);
  }
  return { kind: 'run', options: options as Options };
}

function parseBool(flag: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === 'true') return true;
  if (raw === 'false') return false;
  throw new UsageError(`--${flag} takes no value (or =true / =false), got '${raw}'`);
}

function parseValue(flag: string, spec: Exclude<Spec, BoolSpec>, raw: string): string | number {
  switch (spec.type) {
    case 'int': {
      const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
        throw new UsageError(`--${flag} must be a whole number from ${spec.min} to ${spec.max}, got '${raw}'`);
      }
      return value;
    }
    case 'size': {
      const value = parseSize(raw);
      const max = 'max' in spec ? spec.max : undefined;
      if (value === undefined || value < spec.min || (max !== undefined && value > max)) {
        const range = max === undefined ? `at least ${spec.min} bytes` : `${spec.min} bytes to ${formatSize(max)}`;
        throw new UsageError(`--${flag} must be a size such as 64mb, 512kb or 1gb (${range}), got '${raw}'`);
      }
      return value;
    }
    case 'choice':
      if (!spec.choices.includes(raw)) {
        throw new UsageError(`--${flag} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
      }
      return raw;
    case 'string':
      if (raw.length === 0) throw new UsageError(`--${flag} must not be empty`);
      return raw;
  }
}
