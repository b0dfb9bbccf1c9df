import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Cluster } from './cluster.js';
import { asCacheError, CacheError, ErrorCode } from './errors.js';

export interface ApiInfo {
  version: string;
  startedAt: number;
}

/**
 * The Hono app: every route but the seed's hot `/get`, `/set` and `/del` (src/seed.ts).
 * Errors of any kind leave here as `{"error": "...", "code": "..."}` with the status
 * {@link CacheError.status} gives; nothing internal (stacks, paths) is sent.
 */
export function createApi(cluster: Cluster, info: ApiInfo): Hono {
  const app = new Hono();

  // The seed answers its root on any method, and ends each body with a newline.
  app.all('/', (c) => jsonLine(c, 200, { message: 'Distributed Cache API', version: info.version }));

  app.get('/nodes', async (c) => {
    const nodes = await cluster.nodes();
    return c.json({ ringVersion: cluster.version, nodes });
  });

  app.get('/health', (c) => {
    const healthy = cluster.healthy();
    return c.json(
      { status: healthy ? 'ok' : 'degraded', ringVersion: cluster.version, uptimeSeconds: uptime(info) },
      healthy ? 200 : 503,
    );
  });

  for (const [path, allowed] of [
    ['/nodes', 'GET'],
    ['/health', 'GET'],
  ] as const) {
    app.all(path, (c) => {
      c.header('allow', allowed);
      throw new CacheError(ErrorCode.MethodNotAllowed, 'Method not allowed');
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

function uptime(info: ApiInfo): number {
  return Math.round((Date.now() - info.startedAt) / 1000);
}
