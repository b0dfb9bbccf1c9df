/**
 * Every HTTP route, declared once: its path pattern, its methods, the limit its body is held to,
 * and which front answers it. The server (src/http/server.ts) matches a request against this
 * table and answers an unknown path (404) or method (405 with `Allow`) itself, in one place; what
 * passes goes to the route's handler. `raw` routes are the data path, answered straight from
 * node:http (src/http/seed.ts, key-routes.ts, batch-routes.ts): there Hono's Request/Response
 * adaptation cost 13% of GET throughput and up to 4x on bodies. `hono` routes are the admin
 * side (src/http/admin.ts).
 */

/** The methods a route answers; every route that answers GET answers HEAD too (RFC 9110 9.3.2). */
export type Methods = readonly string[];

export interface RouteSpec {
  /** Segments; `:name` matches one non-empty-or-empty segment, still percent-encoded. */
  readonly pattern: string;
  readonly methods: Methods;
  readonly front: 'raw' | 'hono';
  /** The limit its body is held to: one value (--max-value), or a batch body. */
  readonly body?: 'value' | 'batch';
  /** Answered without the bearer token. */
  readonly open?: boolean;
  /** Exists only with --enable-debug. */
  readonly debug?: boolean;
  /** Also answered by the fast path (src/http/fast/), below node:http, unless --no-fast-path: the hot data routes. */
  readonly fast?: boolean;
}

export const ROUTES = {
  root: { pattern: '/', methods: ['GET', 'HEAD'], front: 'hono' },
  seedGet: { pattern: '/get', methods: ['GET', 'HEAD'], front: 'raw', fast: true },
  seedSet: { pattern: '/set', methods: ['POST'], front: 'raw', fast: true },
  seedDelete: { pattern: '/del', methods: ['DELETE'], front: 'raw', fast: true },
  key: { pattern: '/keys/:key', methods: ['GET', 'HEAD', 'PUT', 'DELETE'], front: 'raw', body: 'value', fast: true },
  keyTtl: { pattern: '/keys/:key/ttl', methods: ['GET', 'HEAD'], front: 'raw' },
  keyIncr: { pattern: '/keys/:key/incr', methods: ['POST'], front: 'raw', fast: true },
  keyAppend: { pattern: '/keys/:key/append', methods: ['POST'], front: 'raw', body: 'value' },
  keyExpire: { pattern: '/keys/:key/expire', methods: ['POST'], front: 'raw', fast: true },
  keyPersist: { pattern: '/keys/:key/persist', methods: ['POST'], front: 'raw', fast: true },
  keyRename: { pattern: '/keys/:key/rename', methods: ['POST'], front: 'raw' },
  scan: { pattern: '/keys', methods: ['GET', 'HEAD'], front: 'raw' },
  exists: { pattern: '/exists', methods: ['GET', 'HEAD'], front: 'raw', fast: true },
  mget: { pattern: '/mget', methods: ['POST'], front: 'raw', body: 'batch' },
  mset: { pattern: '/mset', methods: ['POST'], front: 'raw', body: 'batch' },
  mdel: { pattern: '/mdel', methods: ['POST'], front: 'raw', body: 'batch' },
  publish: { pattern: '/publish/:channel', methods: ['POST'], front: 'raw', body: 'value' },
  subscribe: { pattern: '/subscribe/:channel', methods: ['GET', 'HEAD'], front: 'raw' },
  psubscribe: { pattern: '/psubscribe/:pattern', methods: ['GET', 'HEAD'], front: 'raw' },
  flush: { pattern: '/flush', methods: ['POST'], front: 'hono' },
  nodes: { pattern: '/nodes', methods: ['GET', 'HEAD', 'POST'], front: 'hono' },
  node: { pattern: '/nodes/:id', methods: ['DELETE'], front: 'hono' },
  stats: { pattern: '/stats', methods: ['GET', 'HEAD'], front: 'hono' },
  metrics: { pattern: '/metrics', methods: ['GET', 'HEAD'], front: 'hono' },
  health: { pattern: '/health', methods: ['GET', 'HEAD'], front: 'hono', open: true },
  crash: { pattern: '/debug/crash/:id', methods: ['POST'], front: 'hono', debug: true },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;
export type RawRouteName = { [N in RouteName]: (typeof ROUTES)[N]['front'] extends 'raw' ? N : never }[RouteName];
export type HonoRouteName = Exclude<RouteName, RawRouteName>;
export type FastRouteName = { [N in RouteName]: (typeof ROUTES)[N] extends { fast: true } ? N : never }[RouteName];

export interface Match {
  name: RouteName;
  route: RouteSpec;
  /** The `:name` segments, in order, still percent-encoded. */
  params: string[];
}

/** A request path (no query) matched against the table; built once per server. */
export class RouteTable {
  /** Patterns without parameters, by path: the hot routes are one map lookup. */
  readonly #exact = new Map<string, Match>();
  readonly #patterns: Array<{ name: RouteName; route: RouteSpec; segments: string[] }> = [];

  constructor(options: { debug: boolean }) {
    for (const name of Object.keys(ROUTES) as RouteName[]) {
      const route: RouteSpec = ROUTES[name];
      if (route.debug === true && !options.debug) continue;
      if (!route.pattern.includes(':')) this.#exact.set(route.pattern, { name, route, params: [] });
      else this.#patterns.push({ name, route, segments: route.pattern.split('/') });
    }
  }

  match(path: string): Match | undefined {
    const exact = this.#exact.get(path);
    if (exact !== undefined) return exact;
    const segments = path.split('/');
    for (const { name, route, segments: pattern } of this.#patterns) {
      if (pattern.length !== segments.length) continue;
      const params: string[] = [];
      let matched = true;
      for (let i = 0; i < pattern.length && matched; i++) {
        if (pattern[i]!.startsWith(':')) params.push(segments[i]!);
        else matched = pattern[i] === segments[i];
      }
      if (matched) return { name, route, params };
    }
    return undefined;
  }

  /** What a 404 says: a path under /keys/ with more segments is most likely an unencoded '/'. */
  static notFoundMessage(path: string): string {
    return path.startsWith('/keys/') ? "Endpoint not found (encode a '/' inside a key as %2F)" : 'Endpoint not found';
  }
}

/** Whether `method` is one the route answers. */
export function allows(route: RouteSpec, method: string): boolean {
  return route.methods.includes(method);
}

/** The `Allow` header of a 405. */
export function allowHeader(route: RouteSpec): string {
  return route.methods.join(', ');
}
