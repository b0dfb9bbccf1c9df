import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Cluster } from '../cluster/cluster.js';
import type { HttpMetrics } from './http-metrics.js';
import type { NodeStatus } from '../cluster/admin.js';
import type { PubSubHub, PubSubStats } from '../pubsub/hub.js';
import type { BackendStats } from '../backend/near-cache.js';

/**
 * `GET /metrics`: the /stats figures in Prometheus text format, gathered from the nodes at scrape
 * time (one Info command per node, riding that node's next batch), plus Node's process metrics.
 * A registry per server, so that several servers in one process (tests) do not collide.
 */
export function createMetrics(cluster: Cluster, http: HttpMetrics, pubsub: PubSubHub): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cache_' });
  http.register(registry);
  let snapshot: Promise<NodeStatus[]> | undefined;
  // Every metric's collect() shares one round of Info commands per scrape.
  const nodes = (): Promise<NodeStatus[]> => {
    snapshot ??= cluster.admin.nodes().finally(() => setImmediate(() => (snapshot = undefined)));
    return snapshot;
  };
  /** One metric, refilled from `read` at each scrape: a value per node (labelled), or one value. */
  const define = (kind: 'gauge' | 'counter', name: string, help: string, perNode: boolean, read: () => Promise<Array<[node: string, value: number]>>): void => {
    const Metric = kind === 'gauge' ? Gauge : Counter;
    new Metric({
      name,
      help,
      labelNames: perNode ? ['node'] : [],
      registers: [registry],
      async collect(this: Gauge | Counter) {
        this.reset();
        for (const [node, value] of await read()) {
          const labels = perNode ? { node } : {};
          if (this instanceof Gauge) this.set(labels, value);
          else this.inc(labels, value);
        }
      },
    });
  };
  const perNode = <K extends keyof NodeStatus>(kind: 'gauge' | 'counter', name: string, help: string, field: K): void =>
    define(kind, name, help, true, async () => (await nodes()).flatMap((node) => (typeof node[field] === 'number' ? [[node.id, node[field] as number] as [string, number]] : [])));
  perNode('gauge', 'cache_keys', 'Keys held by the node', 'keys');
  perNode('gauge', 'cache_bytes', 'Accounted bytes held by the node (key + value + per-entry overhead)', 'bytes');
  perNode('gauge', 'cache_max_bytes', "The node's share of --max-memory (0 = no limit)", 'maxBytes');
  perNode('gauge', 'cache_heap_used_bytes', "The node thread's V8 heap in use", 'heapUsedBytes');
  perNode('counter', 'cache_hits_total', 'Reads that found their key', 'hits');
  perNode('counter', 'cache_misses_total', 'Reads that did not find their key', 'misses');
  perNode('counter', 'cache_sets_total', 'Writes applied', 'sets');
  perNode('counter', 'cache_deletes_total', 'Keys deleted by a client', 'deletes');
  perNode('counter', 'cache_evictions_total', 'Keys evicted to stay within memory or entry limits', 'evictions');
  perNode('counter', 'cache_expired_total', 'Keys removed because their TTL passed', 'expired');
  perNode('counter', 'cache_batches_total', 'Messages sent to the node, each carrying the commands of one event-loop turn', 'batches');
  perNode('counter', 'cache_batched_commands_total', 'Commands those messages carried', 'batchedCommands');
  define('gauge', 'cache_node_up', '1 when the node thread is running, else 0', true, async () => (await nodes()).map((node) => [node.id, node.state === 'up' ? 1 : 0]));
  /** Metrics of one figure each, read from a stats object at each scrape (true counts 1). */
  const single = <S>(read: () => S, rows: ReadonlyArray<readonly ['gauge' | 'counter', string, string, keyof S]>): void => {
    for (const [kind, name, help, field] of rows) define(kind, name, help, false, () => Promise.resolve([['', Number(read()[field])]]));
  };
  single(() => http.fastPath, [
    ['counter', 'cache_http_fast_path_answers_total', 'HTTP requests answered by the fast path, below node:http', 'answers'],
    ['counter', 'cache_http_fast_path_handoffs_total', 'Connections the fast path handed to node:http at a request outside what it frames itself', 'handoffs'],
  ]);
  single((): PubSubStats => pubsub.stats(), [
    ['gauge', 'cache_pubsub_channels', 'Pub/sub channels with at least one subscriber', 'channels'],
    ['gauge', 'cache_pubsub_patterns', 'Pub/sub patterns with at least one subscriber', 'patterns'],
    ['gauge', 'cache_pubsub_subscribers', 'Pub/sub subscribers (RESP connections and SSE streams)', 'subscribers'],
    ['counter', 'cache_pubsub_published_total', 'Messages published (keyspace notifications included)', 'published'],
    ['counter', 'cache_pubsub_delivered_total', 'Deliveries of messages to subscribers', 'delivered'],
    ['counter', 'cache_pubsub_dropped_total', 'Subscribers disconnected at --subscriber-buffer', 'dropped'],
  ]);
  const near = cluster.near;
  if (near !== undefined) {
    single((): BackendStats => near.stats(), [
      ['gauge', 'cache_backend_up', '1 while the --backend data connection is up, else 0', 'up'],
      ['gauge', 'cache_backend_serving', '1 while local copies are answered from (tracking on since the last flush), else 0', 'serving'],
      ['counter', 'cache_backend_misses_total', 'Reads answered by the backend (no local copy), joins included', 'misses'],
      ['counter', 'cache_backend_fetches_total', 'Backend reads made for them (one per key at a time)', 'fetches'],
      ['counter', 'cache_backend_joins_total', 'Reads that joined a backend read already on its way', 'joins'],
      ['counter', 'cache_backend_invalidations_total', 'Keys the backend reported changed (a flush counts one)', 'invalidations'],
      ['counter', 'cache_backend_flushes_total', 'Times every local copy was dropped (tracking lost, or a flush in the backend)', 'flushes'],
      ['counter', 'cache_backend_stale_reads_total', 'Reads answered from a local copy while the backend was unreachable (--serve-stale)', 'staleReads'],
      ['counter', 'cache_backend_calls_total', 'Commands sent to the backend', 'calls'],
      ['counter', 'cache_backend_call_seconds_total', 'Seconds those commands took, together', 'callSeconds'],
    ]);
  }
  new Gauge({
    name: 'cache_ring_version',
    help: 'Version of the ring membership',
    registers: [registry],
    collect() {
      this.set(cluster.membership.placement.version);
    },
  });
  return registry;
}
