import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { Glob } from '../../core/glob.js';
import { NotifyFlagsError } from '../../pubsub/notifications.js';
import { CacheError } from '../../errors.js';
import { humanBytes } from '../../sizes.js';
import { clusterError, Kind, settle, type Call, type CommandSpec, type RespContext } from '../command.js';
import { array, bulks, bulkText, error, Errors, integer, OK } from '../reply.js';
import { REDIS_VERSION } from './connection.js';

/** The commands about the server as a whole: figures, configuration, flushing. */
export const SERVER_COMMANDS: readonly CommandSpec[] = [
  { name: 'info', arity: -1, kind: Kind.Barrier, flags: ['loading', 'stale'], run: info },
  { name: 'config', arity: -2, kind: Kind.Local, flags: [], run: config },
  {
    name: 'time',
    arity: 1,
    kind: Kind.Local,
    flags: ['loading', 'stale', 'fast'],
    run(call) {
      const micros = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
      call.reply(bulks([String(micros / 1_000_000n), String(micros % 1_000_000n)]));
    },
  },
  {
    name: 'dbsize',
    arity: 1,
    kind: Kind.Barrier,
    flags: ['readonly', 'fast'],
    run(call) {
      call.ctx.cluster.size().then(
        (size) => call.reply(integer(size)),
        (cause: unknown) => call.reply(cause instanceof CacheError ? clusterError(cause) : error('ERR cache nodes unavailable')),
      );
    },
  },
  { name: 'flushdb', arity: -1, kind: Kind.Barrier, flags: ['write'], run: flush },
  { name: 'flushall', arity: -1, kind: Kind.Barrier, flags: ['write'], run: flush },
  {
    name: 'function',
    arity: -2,
    kind: Kind.Local,
    flags: [],
    run(call) {
      // No functions or scripts here: FLUSH has nothing to do (test harnesses send it), the rest say so.
      const sub = call.args[1]!.toLowerCase();
      if (sub === 'flush' && call.args.length <= 3) return call.reply(OK);
      if (sub === 'list') return call.reply(array([]));
      call.reply(error(Errors.unknownSubcommand('FUNCTION', call.args[1]!)));
    },
  },
  {
    name: 'debug',
    arity: -2,
    kind: Kind.Local,
    flags: [],
    run: (call) => call.reply(error('ERR DEBUG is not supported by this server')),
  },
];

/** --max-memory as the nodes on the ring share it now (each brings its share). */
function maxMemory(ctx: RespContext): number {
  return ctx.cluster.membership.placement.ring.size * ctx.maxBytesPerNode;
}

/** FLUSHALL / FLUSHDB [ASYNC | SYNC]: every node empties itself before the reply. */
function flush(call: Call): void {
  const mode = call.args[1]?.toLowerCase();
  if (call.args.length > 2 || (mode !== undefined && mode !== 'async' && mode !== 'sync')) return call.reply(error(Errors.syntax));
  call.ctx.cluster.admin.flush().then(
    () => call.reply(OK),
    () => call.reply(error('ERR flush failed: cache nodes unavailable')),
  );
}

/**
 * What CONFIG GET shows: Redis's names for what this server is configured with (read only;
 * the server's options are its command line).
 */
function configValues(ctx: RespContext): Array<[name: string, value: string]> {
  const { membership } = ctx.cluster;
  return [
    ['maxmemory', String(maxMemory(ctx))],
    ['maxmemory-policy', 'allkeys-lru'],
    ['maxmemory-samples', '5'],
    ['maxclients', String(ctx.maxClients)],
    ['databases', '1'],
    ['port', String(ctx.port)],
    ['proto-max-bulk-len', String(ctx.maxValue)],
    ['save', ''],
    ['appendonly', 'no'],
    ['timeout', '0'],
    ['replicas', String(membership.placement.replicas)],
    ['notify-keyspace-events', ctx.notifications.flags],
  ];
}

function config(call: Call): void {
  const args = call.args;
  const sub = args[1]!.toLowerCase();
  if (sub === 'get') {
    if (args.length < 3) return call.reply(error(Errors.arity('config|get')));
    const patterns = args.slice(2).map((pattern) => new Glob(pattern, true));
    const found = configValues(call.ctx).filter(([name]) => patterns.some((glob) => glob.matches(name)));
    return call.reply(call.client.resp.map(found.map(([name, value]) => [name, bulkText(value)])));
  }
  if (sub === 'set') return configSet(call);
  if (sub === 'resetstat') return call.reply(OK);
  call.reply(error(Errors.unknownSubcommand('CONFIG', args[1]!)));
}

/** CONFIG SET notify-keyspace-events <flags>: the one setting that changes while serving. */
function configSet(call: Call): void {
  const args = call.args;
  if (args.length !== 4 || args[2]!.toLowerCase() !== 'notify-keyspace-events') {
    return call.reply(error("ERR CONFIG SET takes notify-keyspace-events only: the rest of this server's configuration is its command line"));
  }
  // With --backend the keys are the backend's, and so are their notifications (through the relay).
  const link = call.ctx.cluster.near?.link;
  if (link !== undefined) return settle(call, link.call('CONFIG', ['SET', 'notify-keyspace-events', args[3]!]), () => OK);
  try {
    call.ctx.notifications.set(args[3]!);
  } catch (cause) {
    if (!(cause instanceof NotifyFlagsError)) throw cause;
    return call.reply(error(`ERR Invalid argument '${args[3]!}' for CONFIG SET 'notify-keyspace-events'`));
  }
  call.reply(OK);
}

const SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'keyspace', 'backend'] as const;
type Section = (typeof SECTIONS)[number];

/** INFO [section ...]: Redis's layout (`# Section`, then `name:value` lines), with the figures clients and tools read. */
function info(call: Call): void {
  const asked = call.args.slice(1).map((name) => name.toLowerCase());
  const all = asked.length === 0 || asked.some((name) => name === 'all' || name === 'everything' || name === 'default');
  // `backend` only with --backend (the near cache's figures, as /stats has them).
  const wanted = SECTIONS.filter((section) => (all || asked.includes(section)) && (section !== 'backend' || call.ctx.cluster.near !== undefined));
  call.ctx.cluster.figures().then(
    ({ totals }) => {
      const fields = infoFields(call.ctx, totals);
      const text = wanted.map((section) => `# ${section[0]!.toUpperCase()}${section.slice(1)}\r\n${fields[section].map(([k, v]) => `${k}:${v}\r\n`).join('')}`);
      call.reply(bulkText(text.join('\r\n')));
    },
    () => call.reply(error('ERR cache nodes unavailable')),
  );
}

function infoFields(ctx: RespContext, totals: ReturnType<RespContext['cluster']['admin']['totals']>): Record<Section, Array<[string, string | number]>> {
  const uptime = Math.floor((Date.now() - ctx.startedAt) / 1000);
  const memory = process.memoryUsage();
  const maxBytes = maxMemory(ctx);
  const cpu = process.cpuUsage();
  const { keys, expires } = totals.keyspace;
  return {
    server: [
      ['redis_version', REDIS_VERSION],
      ['redis_mode', 'standalone'],
      ['distributed_cache_version', ctx.version],
      ['os', `${process.platform} ${process.arch}`],
      ['arch_bits', 64],
      ['process_id', process.pid],
      ['tcp_port', ctx.port],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86_400)],
      ['executable', process.argv[1] ?? ''],
      ['cache_nodes', totals.nodesUp],
      ['available_cpus', cpus().length],
    ],
    clients: [
      ['connected_clients', ctx.clients.size],
      ['maxclients', ctx.maxClients],
      ['blocked_clients', 0],
    ],
    memory: [
      ['used_memory', totals.bytes],
      ['used_memory_human', humanBytes(totals.bytes)],
      ['used_memory_rss', memory.rss],
      ['used_memory_rss_human', humanBytes(memory.rss)],
      ['maxmemory', maxBytes],
      ['maxmemory_human', humanBytes(maxBytes)],
      ['maxmemory_policy', 'allkeys-lru'],
    ],
    persistence: [
      ['loading', 0],
      ['async_loading', 0],
      ['rdb_changes_since_last_save', 0],
      ['rdb_bgsave_in_progress', 0],
      ['aof_enabled', 0],
      ['aof_rewrite_in_progress', 0],
    ],
    stats: [
      ['total_connections_received', ctx.stats.connectionsReceived],
      ['total_commands_processed', ctx.stats.commandsProcessed],
      ['rejected_connections', ctx.stats.rejectedConnections],
      ['expired_keys', totals.expired],
      ['evicted_keys', totals.evictions],
      ['keyspace_hits', totals.hits],
      ['keyspace_misses', totals.misses],
      ['pubsub_channels', ctx.pubsub.stats().channels],
      ['pubsub_patterns', ctx.pubsub.stats().patterns],
      ['pubsub_subscribers', ctx.pubsub.stats().subscribers],
      ['pubsub_published', ctx.pubsub.stats().published],
      ['pubsub_delivered', ctx.pubsub.stats().delivered],
      ['pubsub_dropped', ctx.pubsub.stats().dropped],
    ],
    replication: [
      ['role', 'master'],
      ['connected_slaves', 0],
    ],
    cpu: [
      ['used_cpu_sys', (cpu.system / 1e6).toFixed(6)],
      ['used_cpu_user', (cpu.user / 1e6).toFixed(6)],
    ],
    keyspace: keys > 0 ? [['db0', `keys=${keys},expires=${expires},avg_ttl=0`]] : [],
    backend: backendFields(ctx),
  };
}

function backendFields(ctx: RespContext): Array<[string, string | number]> {
  const stats = ctx.cluster.near?.stats();
  if (stats === undefined) return [];
  return [
    ['backend_up', stats.up ? 1 : 0],
    ['backend_serving', stats.serving ? 1 : 0],
    ['backend_misses', stats.misses],
    ['backend_fetches', stats.fetches],
    ['backend_joins', stats.joins],
    ['backend_invalidations', stats.invalidations],
    ['backend_flushes', stats.flushes],
    ['backend_stale_reads', stats.staleReads],
    ['backend_calls', stats.calls],
    ['backend_call_seconds', stats.callSeconds.toFixed(6)],
  ];
}

