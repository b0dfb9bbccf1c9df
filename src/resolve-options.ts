import { parseBackendUrl } from './backend/url.js';
import { largestEntryBytes } from './core/limits.js';
import type { Options } from './options.js';
import { UsageError } from './parse-args.js';
import { checkNotifyFlags } from './pubsub/notifications.js';
import { formatSize } from './sizes.js';

/**
 * Fills in what comes from the environment (CACHE_AUTH_TOKEN) and refuses what cannot work or is
 * unsafe: a memory share too small for one value of --max-value, and a non-loopback --host with
 * no token, unless --insecure (Redis calls this protected mode). `addresses` are what --host
 * resolved to (main.ts looks it up first): a name that stands for loopback addresses only is
 * loopback.
 */
export function resolveOptions(options: Options, env: Record<string, string | undefined>, addresses: readonly string[] = []): Options {
  const resolved = { ...options };
  if (resolved.authToken === '' && env['CACHE_AUTH_TOKEN']) resolved.authToken = env['CACHE_AUTH_TOKEN'];
  const share = Math.floor(resolved.maxMemory / resolved.nodes);
  if (resolved.maxMemory > 0 && share < largestEntryBytes(resolved.maxValue)) {
    throw new UsageError(
      `--max-memory ${formatSize(resolved.maxMemory)} gives each of the ${resolved.nodes} nodes ${share} bytes, ` +
        `less than one value of --max-value ${formatSize(resolved.maxValue)} takes with its key and overheads ` +
        `(${largestEntryBytes(resolved.maxValue)} bytes): raise --max-memory or lower --max-value`,
    );
  }
  try {
    checkNotifyFlags(resolved.notifyKeyspaceEvents);
  } catch (error) {
    throw new UsageError(`--notify-keyspace-events: ${(error as Error).message}`);
  }
  if (resolved.backend !== '') {
    try {
      parseBackendUrl(resolved.backend);
    } catch (error) {
      throw new UsageError(`--backend: ${(error as Error).message}`);
    }
    if (resolved.notifyKeyspaceEvents !== '') {
      throw new UsageError("--notify-keyspace-events with --backend: the keys are the backend's, so are their notifications; set notify-keyspace-events on the backend (or CONFIG SET it through this server), and subscribers here hear them");
    }
  }
  const loopback = isLoopback(resolved.host) || (addresses.length > 0 && addresses.every(isLoopback));
  if (!loopback && resolved.authToken === '' && !resolved.insecure) {
    throw new UsageError(
      `refusing to listen on ${resolved.host} without authentication: anyone who can reach it could read, ` +
        'overwrite or flush the cache. Give --auth-token (or CACHE_AUTH_TOKEN), listen on 127.0.0.1, ' +
        'or pass --insecure if the network is trusted.',
    );
  }
  return resolved;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
