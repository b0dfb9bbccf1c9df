import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { textToBytes } from './bytes.js';
import type { Cluster, NodeStatus } from './cluster.js';
import { asCacheError, CacheError, checkValueSize, ErrorCode, methodNotAllowed, statusError } from './errors.js';
import { createMetrics } from './metrics.js';
import { CRASH_KINDS, Op, SetMode, Status, type CrashKind } from './protocol.js';
import { parseTtl } from './query.js';
import { checkCount, checkKey, maxBatchBody, parseJsonObject } from './batch-body.js';

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
 * The Hono app: the admin routes and /mset. The hot data routes, the seed's `/get`, `/set`,
 * `/del`, the resource API `/keys/...` and `/mget`, answer from node:http (src/seed.ts,
 * src/key-routes.ts, src/mget.ts).
 * Errors of any kind leave here as `{"error": "...", "code": "..."}` with the status
 * {@link CacheError.status} gives; nothing internal (stacks, paths) is sent.
 */
export function createApi(cluster: Cluster, info: ApiInfo): Hono {
  const app = new Hono();
  const metrics = createMetrics(cluster);
  // A batch body may carry up to MAX_BATCH_KEYS values; this bounds what is buffered for it.
  const batchLimit = bodyLimit({
    maxSize: maxBatchBody(info.maxValue),
    onError: () => {
      throw new CacheError(ErrorCode.ValueTooLarge, 'Request body is too large');
    },
  });

  // The seed answers its root on any method, and ends each body with a newline.
  app.all('/', (c) => jsonLine(c, 200, { message: 'Distributed Cache API', version: info.version }));

  app.post('/mset', batchLimit, async (c) => {
    const body = await readJson(c);
    const entries = body['entries'];
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
      throw new CacheError(ErrorCode.BadRequest, '"entries" must be an object of key: string value pairs');
    }
    const pairs = Object.entries(entries as Record<string, unknown>);
    checkCount(pairs.length, 'entries');
    const ttlMs = parseTtl(body['ttl'] as string | number | undefined);
    const commands = pairs.map(([key, value]) => {
      checkKey(key);
      if (typeof value !== 'string') throw new CacheError(ErrorCode.BadRequest, `The value of "${key}" must be a string`);
      const bytes = textToBytes(value);
      checkValueSize(bytes.length, info.maxValue);
      return [key, bytes] as const;
    });
    const results = await Promise.all(commands.map(([key, bytes]) => cluster.run(key, [Op.Set, key, bytes, ttlMs, SetMode.Always])));
    const refused = results.find(({ result }) => result.status !== Status.Ok);
    if (refused !== undefined) throw statusError(refused.result.status);
    return c.json({ stored: results.length });
  });

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
    ['/mset', 'POST'],
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

async function readJson(c: Context): Promise<Record<string, unknown>> {
  return parseJsonObject(await c.req.text());
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
