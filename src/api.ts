import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Cluster, NodeStatus } from './cluster.js';
import { asCacheError, CacheError, ErrorCode, methodNotAllowed } from './errors.js';
import { createMetrics } from './metrics.js';
import { CRASH_KINDS, type CrashKind } from './protocol.js';

export interface ApiInfo {
  version: string;
  startedAt: number;
  /** --max-value in bytes. */
  maxValue: number;
  /** --max-memory in bytes (0 = no limit). */
  maxMemory: number;
  /** --enable-debug: POST /debug/crash/:id exists. */
  enableDebug: boolean;
}

/**
 * The Hono app: the admin routes. The data routes, the seed's `/get`, `/set`, `/del`, the
 * resource API `/keys/...`, `/mget` and `/mset`, answer from node:http (src/seed.ts,
 * src/key-routes.ts, src/batch-routes.ts).
 * Errors of any kind leave here as `{"error": "...", "code": "..."}` with the status
 * {@link CacheError.status} gives; nothing internal (stacks, paths) is sent.
 */
export function createApi(cluster: Cluster, info: ApiInfo): Hono {
  const app = new Hono();
  const metrics = createMetrics(cluster);
  // The seed answers its root on any method, and ends each body with a newline.
  app.all('/', (c) => jsonLine(c, 200, { message: 'Distributed Cache API', version: info.version }));

  app.post('/flush', async (c) => {
    await cluster.flush();
    return c.json({ message: 'All nodes flushed', nodes: cluster.ring.size });
  });

  app.get('/nodes', async (c) => {
    const nodes = await cluster.nodes();
    return c.json({ ringVersion: cluster.version, replicas: cluster.replicas, migration: cluster.migration, lastMigration: cluster.lastMigration, nodes });
  });

  // Answers once the node is on the ring; its keys move to it in the background (GET /nodes).
  app.post('/nodes', async (c) => c.json({ id: await cluster.join() }, 201));

  // Answers once the node is off the ring; it stops after handing its keys over (GET /nodes).
  app.delete('/nodes/:id', async (c) => {
    const id = c.req.param('id');
    await cluster.leave(id);
    return c.json({ id, state: 'leaving' }, 202);
  });

  if (info.enableDebug) {
    app.post('/debug/crash/:id', async (c) => {
      const id = c.req.param('id');
      const how = c.req.query('how') ?? 'terminate';
      if (!(CRASH_KINDS as readonly string[]).includes(how)) {
        throw new CacheError(ErrorCode.BadRequest, `how must be one of ${CRASH_KINDS.join(', ')}; got '${how}'`);
      }
      if (!(await cluster.crash(id, how as CrashKind))) throw new CacheError(ErrorCode.NotFound, `No live node ${id}`);
      return c.json({ id, how }, 202);
    });
  }

  app.get('/stats', async (c) => {
    const nodes = await cluster.nodes();
    const memory = process.memoryUsage();
    return c.json({
      uptimeSeconds: uptime(info),
      ringVersion: cluster.version,
      maxMemoryBytes: info.maxMemory,
      totals: totals(nodes),
      process: { rssBytes: memory.rss, mainHeapUsedBytes: memory.heapUsed, externalBytes: memory.external },
      nodes: nodes.map((node) => ({ ...node, ops: opsOf(node) })),
    });
  });

  app.get('/metrics', async (c) => {
    return c.body(await metrics.metrics(), 200, { 'content-type': metrics.contentType });
  });

  // 503 only when some key has no live copy; a node being refilled shows as `recovering`, and
  // keys lost with a node that had no copy are counted in `lostKeys`.
  app.get('/health', (c) => {
    const health = cluster.health();
    return c.json(
      {
        status: health.ok ? 'ok' : 'degraded',
        ringVersion: cluster.version,
        uptimeSeconds: uptime(info),
        nodes: health.nodes,
        lostKeys: health.lostKeys,
      },
      health.ok ? 200 : 503,
    );
  });

  for (const [path, allowed] of [
    ['/flush', 'POST'],
    ['/nodes', 'GET, POST'],
    ['/nodes/:id', 'DELETE'],
    ['/stats', 'GET'],
    ['/metrics', 'GET'],
    ['/health', 'GET'],
  ] as const) {
    app.all(path, (c) => {
      c.header('allow', allowed);
      throw methodNotAllowed();
    });
  }

  app.notFound((c) => errorResponse(c, new CacheError(ErrorCode.NotFound, 'Endpoint not found')));
  app.onError((error, c) => errorResponse(c, error));
  return app;
}

function errorResponse(c: Context, error: unknown): Response {
  const cacheError = asCacheError(error);
  return c.json(cacheError.toJSON(), cacheError.status as ContentfulStatusCode);
}

function jsonLine(c: Context, status: 200, body: object): Response {
  return c.body(`${JSON.stringify(body)}\n`, status, { 'content-type': 'application/json' });
}

const COUNTED = ['keys', 'bytes', 'hits', 'misses', 'evictions', 'expired', 'sets', 'deletes'] as const;

function opsOf(node: NodeStatus): number {
  return (node.hits ?? 0) + (node.misses ?? 0) + (node.sets ?? 0) + (node.deletes ?? 0);
}

type Totals = Record<(typeof COUNTED)[number] | 'ops' | 'nodesUp', number>;

function totals(nodes: NodeStatus[]): Totals {
  const sum = (pick: (node: NodeStatus) => number): number => nodes.reduce((total, node) => total + pick(node), 0);
  const result = Object.fromEntries(COUNTED.map((field) => [field, sum((node) => node[field] ?? 0)]));
  return { ...result, ops: sum(opsOf), nodesUp: nodes.filter((n) => n.state === 'up').length } as Totals;
}

function uptime(info: ApiInfo): number {
  return Math.round((Date.now() - info.startedAt) / 1000);
}
