import process from 'node:process';
import { Hono, type Context, type Handler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Cluster } from '../cluster/cluster.js';
import { opsOf } from '../cluster/admin.js';
import { asCacheError, CacheError, ErrorCode } from '../errors.js';
import { CRASH_KINDS, type CrashKind } from '../core/protocol.js';
import type { PubSubHub } from '../pubsub/hub.js';
import type { HttpMetrics } from './http-metrics.js';
import { createMetrics } from './metrics.js';
import { errorBody } from './respond.js';
import { ROUTES, type HonoRouteName, type RouteName } from './routes.js';

export interface ApiInfo {
  version: string;
  startedAt: number;
  /** --max-value in bytes. */
  maxValue: number;
  /** Each node's share of --max-memory in bytes (0 = no limit). */
  maxBytesPerNode: number;
  pubsub: PubSubHub;
}

/**
 * The Hono app: the admin routes of src/http/routes.ts, registered from that table (the server
 * has already answered unknown paths and methods). Errors of any kind leave here as
 * `{"error": "...", "code": "..."}` with the status {@link CacheError.status} gives; nothing
 * internal (stacks, paths) is sent.
 */
export function createApi(cluster: Cluster, info: ApiInfo, http: HttpMetrics): Hono {
  const { admin, membership } = cluster;
  const metrics = createMetrics(cluster, http, info.pubsub);
  const handlers: Record<HonoRouteName, Handler> = {
    // The seed ends each body with a newline.
    root: (c) => jsonLine(c, 200, { message: 'Distributed Cache API', version: info.version }),
    flush: async (c) => {
      await admin.flush();
      return c.json({ message: 'All nodes flushed', nodes: membership.placement.ring.size });
    },
    // GET lists the nodes; POST answers once the new node is on the ring, its keys move to it
    // in the background (GET /nodes shows how far).
    nodes: async (c) => {
      if (c.req.method === 'POST') return c.json({ id: await membership.join() }, 201);
      const nodes = await admin.nodes();
      const { placement, migration } = membership;
      return c.json({ ringVersion: placement.version, replicas: placement.replicas, migration: migration.progress, lastMigration: migration.lastProgress, nodes });
    },
    // Answers once the node is off the ring; it stops after handing its keys over (GET /nodes).
    node: async (c) => {
      const id = c.req.param('id')!;
      await membership.leave(id);
      return c.json({ id, state: 'leaving' }, 202);
    },
    crash: async (c) => {
      const id = c.req.param('id')!;
      const how = c.req.query('how') ?? 'terminate';
      if (!(CRASH_KINDS as readonly string[]).includes(how)) {
        throw new CacheError(ErrorCode.BadRequest, `how must be one of ${CRASH_KINDS.join(', ')}; got '${how}'`);
      }
      if (!(await admin.crash(id, how as CrashKind))) throw new CacheError(ErrorCode.NotFound, `No live node ${id}`);
      return c.json({ id, how }, 202);
    },
    stats: async (c) => {
      const { nodes, totals } = await cluster.figures();
      const memory = process.memoryUsage();
      return c.json({
        uptimeSeconds: uptime(info),
        ringVersion: membership.placement.version,
        // Each node brings its share: a join adds one, a leave takes one away.
        maxMemoryBytes: nodes.length * info.maxBytesPerNode,
        totals,
        pubsub: info.pubsub.stats(),
        ...(cluster.near === undefined ? {} : { backend: cluster.near.stats() }),
        process: { rssBytes: memory.rss, mainHeapUsedBytes: memory.heapUsed, externalBytes: memory.external },
        nodes: nodes.map((node) => ({ ...node, ops: opsOf(node) })),
      });
    },
    metrics: async (c) => c.body(await metrics.metrics(), 200, { 'content-type': metrics.contentType }),
    // 503 only when some key has no live copy; a node being refilled shows as `recovering`, and
    // keys lost with a node that had no copy are counted in `lostKeys`.
    health: (c) => {
      const health = admin.health();
      // With --backend, the data is there: without it every miss and write fails.
      const backend = cluster.near === undefined ? {} : { backend: cluster.near.link.up ? 'up' : 'down' };
      const ok = health.ok && (cluster.near === undefined || cluster.near.link.up);
      const body = { status: ok ? 'ok' : 'degraded', ringVersion: membership.placement.version, uptimeSeconds: uptime(info), nodes: health.nodes, lostKeys: health.lostKeys, ...backend };
      return c.json(body, ok ? 200 : 503);
    },
  };

  const app = new Hono();
  for (const name of Object.keys(ROUTES) as RouteName[]) {
    const route = ROUTES[name];
    if (route.front !== 'hono') continue;
    const handler = handlers[name as HonoRouteName];
    // Hono answers HEAD with its GET handler, without the body.
    app.on(route.methods.filter((method) => method !== 'HEAD'), route.pattern, handler);
  }
  app.notFound((c) => errorResponse(c, new CacheError(ErrorCode.NotFound, 'Endpoint not found')));
  app.onError((error, c) => errorResponse(c, error));
  return app;
}

function errorResponse(c: Context, error: unknown): Response {
  const cacheError = asCacheError(error);
  return c.body(errorBody(cacheError), cacheError.status as ContentfulStatusCode, { 'content-type': 'application/json' });
}

function jsonLine(c: Context, status: 200, body: object): Response {
  return c.body(`${JSON.stringify(body)}\n`, status, { 'content-type': 'application/json' });
}

function uptime(info: ApiInfo): number {
  return Math.round((Date.now() - info.startedAt) / 1000);
}
