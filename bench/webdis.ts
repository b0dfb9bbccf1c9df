/**
 * Webdis (C, over HTTP) in front of a redis-server: the other HTTP baseline the throughput
 * targets name. Needs `webdis` (apt-get install webdis).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export async function startWebdis(redisPort: number): Promise<{ url: string; pid: number; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-webdis-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const config = join(dir, 'webdis.json');
  writeFileSync(config, JSON.stringify({ redis_host: '127.0.0.1', redis_port: redisPort, http_host: '127.0.0.1', http_port: port, daemonize: false, verbosity: 0, logfile: join(dir, 'webdis.log') }));
  const child = spawn('webdis', [config], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/PING`).then((r) => r.ok, () => false);
    if (ok) return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => void child.kill('SIGTERM') };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error('webdis did not start');
}

/** `key-0` .. `key-<keys - 1>` set to `value` in the redis-server on `port`. */
export async function preloadRedis(port: number, keys: number, value: string): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1' });
  for (let from = 0; from < keys; from += 10_000) {
    const pipeline = client.pipeline();
    for (let i = from; i < Math.min(keys, from + 10_000); i++) pipeline.set(`key-${i}`, value);
    await pipeline.exec();
  }
  client.disconnect();
}
