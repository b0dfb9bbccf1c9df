/** Where --backend points: one Redis or Valkey server. */
export interface BackendAddress {
  host: string;
  port: number;
  /** ACL user (Redis 6+); undefined with a password alone means `default`. */
  username: string | undefined;
  password: string | undefined;
  db: number;
}

/**
 * Parses `redis://[user:password@]host[:port][/db]` (Redis's own URI scheme, as redis-cli -u and
 * every client take it). Throws an Error whose message says what is wrong.
 * `redis-cluster://` is refused by name: a Cluster needs tracking per master, not built yet.
 */
export function parseBackendUrl(raw: string): BackendAddress {
  if (raw.startsWith('redis-cluster://')) throw new Error('redis-cluster:// is not supported yet: give one server as redis://host:port');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`'${raw}' is not a URL; expected redis://[user:password@]host:port[/db]`);
  }
  if (url.protocol !== 'redis:') throw new Error(`'${url.protocol}//' is not supported; expected redis://[user:password@]host:port[/db]`);
  if (url.hostname === '') throw new Error(`'${raw}' names no host`);
  if (url.search !== '' || url.hash !== '') throw new Error(`'${raw}' has a query or fragment; expected redis://[user:password@]host:port[/db]`);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,2}$/.test(path)) throw new Error(`the database in '${raw}' must be a number from 0 to 99`);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 6379 : Number(url.port),
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    db: path === '' ? 0 : Number(path),
  };
}
