import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Cluster } from '../cluster/cluster.js';
import type { HttpMetrics } from './http-metrics.js';
import type { NodeStatus } from '../cluster/admin.js';
import type { PubSubHub, PubSubStats } from '../pubsub/hub.js';

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
  const perNode = <K extends keyof NodeStatus>(
    kind: 'gauge' | 'counter',
    name: string,
    help: string,
    field: K,
  ): void => {
    const Metric = kind === 'gauge' ? Gauge : Counter;
    new Metric({
      name,
      help,
      labelNames: ['node'],
      registers: [registry],
      async collect(this: Gauge | Counter) {
        this.reset();
        for (const node of await nodes()) {
          const value = node[field];
          if (typeof value !== 'number') continue;
          if (this instanceof Gauge) this.set({ node: node.id }, value);
          else this.inc({ node: node.id }, value);
        }
      },
    });
  };
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
  new Gauge({
    name: 'cache_node_up',
    help: '1 when the node thread is running, else 0',
    labelNames: ['node'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const node of await nodes()) this.set({ node: node.id }, node.state === 'up' ? 1 : 0);
    },
  });
  const hub = (kind: 'gauge' | 'counter', name: string, help: string, field: keyof PubSubStats): void => {
    const Metric = kind === 'gauge' ? Gauge : Counter;
    new Metric({
      name,
      help,
      registers: [registry],
      collect(this: Gauge | Counter) {
        this.reset();
        if (this instanceof Gauge) this.set(pubsub.stats()[field]);
        else this.inc(pubsub.stats()[field]);
      },
    });
  };
  hub('gauge', 'cache_pubsub_channels', 'Pub/sub channels with at least one subscriber', 'channels');
  hub('gauge', 'cache_pubsub_patterns', 'Pub/sub patterns with at least one subscriber', 'patterns');
  hub('gauge', 'cache_pubsub_subscribers', 'Pub/sub subscribers (RESP connections and SSE streams)', 'subscribers');
  hub('counter', 'cache_pubsub_published_total', 'Messages published (keyspace notifications included)', 'published');
  hub('counter', 'cache_pubsub_delivered_total', 'Deliveries of messages to subscribers', 'delivered');
  hub('counter', 'cache_pubsub_dropped_total', 'Subscribers disconnected at --subscriber-buffer', 'dropped');
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
