/** Where --backend points: one Redis or Valkey server, or the seed nodes of a Redis Cluster. */
export interface BackendAddress {
  /** One server, or a Cluster found from `nodes` (any of them will do). */
  kind: 'server' | 'cluster';
  nodes: Array<{ host: string; port: number }>;
  /** ACL user (Redis 6+); undefined with a password alone means `default`. */
  username: string | undefined;
  password: string | undefined;
  /** Always 0 for a Cluster, which has no other. */
  db: number;
}

const FORMS = 'redis://[user:password@]host:port[/db] or redis-cluster://[user:password@]host:port[,host:port...]';

/**
 * Parses Redis's own URI scheme (`redis://`, as redis-cli -u and every client take it), and
 * `redis-cluster://` with one or more seed nodes separated by commas. Throws an Error whose
 * message says what is wrong.
 */
export function parseBackendUrl(raw: string): BackendAddress {
  const cluster = raw.startsWith('redis-cluster://');
  // URL takes one host: the others of a Cluster are split off first.
  const [first, ...more] = cluster ? raw.slice('redis-cluster://'.length).split(',') : [raw];
  let url: URL;
  try {
    url = new URL(cluster ? `redis://${first}` : first!);
  } catch {
    throw new Error(`'${raw}' is not a URL; expected ${FORMS}`);
  }
  if (url.protocol !== 'redis:') throw new Error(`'${url.protocol}//' is not supported; expected ${FORMS}`);
  if (url.hostname === '') throw new Error(`'${raw}' names no host`);
  if (url.search !== '' || url.hash !== '') throw new Error(`'${raw}' has a query or fragment; expected ${FORMS}`);
  const path = url.pathname.replace(/^\//, '');
  if (cluster && path !== '') throw new Error(`a Redis Cluster has only database 0: drop '/${path}' from '${raw}'`);
  if (path !== '' && !/^\d{1,2}$/.test(path)) throw new Error(`the database in '${raw}' must be a number from 0 to 99`);
  const nodes = [{ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port === '' ? 6379 : Number(url.port) }];
  for (const seed of more) {
    const match = /^(\[[^\]]+\]|[^:/@[\]]+)(?::(\d{1,5}))?$/.exec(seed);
    if (match === null || Number(match[2] ?? 6379) > 65_535) throw new Error(`'${seed}' in '${raw}' is not host:port`);
    nodes.push({ host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[2] ?? 6379) });
  }
  return {
    kind: cluster ? 'cluster' : 'server',
    nodes,
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    db: path === '' ? 0 : Number(path),
  };
}
