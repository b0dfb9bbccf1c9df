/**
 * `npm run bench:pubsub -- [--subscribers N] [--rate M] [--seconds S]`: N SSE subscribers on one
 * channel of the cache (defaults, its own process) while a RESP client publishes M messages a
 * second for S seconds, each carrying the time it was sent; every subscriber measures each
 * delivery's latency and counts what it received. Then the same with one more subscriber that
 * never reads (its stream stalls), to see whether it changes the others; beside each, GETs of
 * one key (autocannon, 10 connections) show what the subscribers cost the data path. Last, PUBLISH with no
 * subscriber through redis-benchmark against the cache's RESP port and a redis-server (when
 * installed), in one run.
 */
import { execFile } from 'node:child_process';
import { get } from 'node:http';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { median, numberFlag } from './args.js';
import { installed, startRedis } from './resp.js';
import { startCache } from './targets.js';

const SUBSCRIBERS = numberFlag('subscribers', 1000);
const RATE = numberFlag('rate', 1000);
const SECONDS = numberFlag('seconds', 5);
const run = promisify(execFile);
const clock = (): number => performance.timeOrigin + performance.now();

interface Listener {
  latencies: number[];
  received: number;
  close(): void;
}

function listen(url: string): Promise<Listener> {
  return new Promise((resolve) => {
    const listener: Listener = { latencies: [], received: 0, close: () => request.destroy() };
    const request = get(url, (res) => {
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = /\ndata: (\d+\.?\d*)/.exec(block)?.[1];
          if (data === undefined) continue;
          listener.received++;
          listener.latencies.push(clock() - Number(data));
        }
      });
      res.on('error', () => undefined);
      resolve(listener);
    });
    request.on('error', () => undefined);
  });
}

/** A subscriber that sends its request and then never reads. */
function stall(port: number): () => void {
  const socket = connect(port, '127.0.0.1', () => {
    socket.write('GET /subscribe/bench HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause();
  });
  socket.on('error', () => undefined);
  return () => socket.destroy();
}

async function round(url: string, respPort: number, stalled: boolean): Promise<{ p50: number; p99: number; lost: number; dropped: number; gets: number }> {
  const listeners = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => listen(`${url}/subscribe/bench`)));
  const unstall = stalled ? stall(Number(new URL(url).port)) : () => undefined;
  const publisher = new Redis({ port: respPort, host: '127.0.0.1' });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = (await (await fetch(`${url}/stats`)).json()) as { pubsub: { dropped: number } };
  const perTick = Math.max(1, Math.round(RATE / 100));
  let sent = 0;
  // GETs of one key beside the publishing: what the subscribers cost the data path.
  const gets = autocannon({ url: `${url}/get?key=bench`, connections: 10, duration: SECONDS });
  const started = clock();
  while (clock() - started < SECONDS * 1000) {
    const pipeline = publisher.pipeline();
    for (let i = 0; i < perTick; i++) pipeline.publish('bench', String(clock()));
    await pipeline.exec();
    sent += perTick;
    const due = started + (sent / RATE) * 1000;
    if (due > clock()) await new Promise((resolve) => setTimeout(resolve, due - clock()));
  }
  const getRate = (await gets).requests.average;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = (await (await fetch(`${url}/stats`)).json()) as { pubsub: { dropped: number } };
  const latencies = listeners.flatMap((l) => l.latencies).sort((a, b) => a - b);
  const lost = listeners.reduce((sum, l) => sum + (sent - l.received), 0);
  listeners.forEach((l) => l.close());
  unstall();
  publisher.disconnect();
  const at = (q: number): number => Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN).toFixed(1));
  return { p50: at(0.5), p99: at(0.99), lost, dropped: after.pubsub.dropped - before.pubsub.dropped, gets: Math.round(getRate) };
}

async function publishRate(port: number): Promise<number> {
  const { stdout } = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', `${port}`, '-c', '50', '-n', '200000', '--csv', 'PUBLISH', 'bench', 'hello']);
  return Number(stdout.trim().split('\n').at(-1)?.split(',')[1]?.replaceAll('"', ''));
}

const cache = await startCache('cache', ['--resp-port', '0', '--subscriber-buffer', '1mb']);
const respPort = Number(/redis:\/\/[^:]+:(\d+)/.exec(cache.banner)?.[1]);
await fetch(`${cache.url}/set?key=bench&value=v`, { method: 'POST' });
const lines: string[] = [`${SUBSCRIBERS} SSE subscribers, ${RATE} messages/s for ${SECONDS} s, one channel (deliveries: ${SUBSCRIBERS * RATE}/s)`, ''];
try {
  for (const stalled of [false, true, false, true]) {
    const r = await round(cache.url, respPort, stalled);
    lines.push(`${stalled ? 'with one stalled subscriber' : 'all reading'}: latency p50 ${r.p50} ms, p99 ${r.p99} ms; lost by those reading: ${r.lost}; dropped: ${r.dropped}; GET beside it ${r.gets} req/s`);
    process.stderr.write(`${lines.at(-1)}\n`);
  }
  if ((await installed('redis-server')) && (await installed('redis-benchmark'))) {
    const redis = await startRedis();
    const ratios: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ours = await publishRate(respPort);
      const theirs = await publishRate(redis.port);
      ratios.push(ours / theirs);
      lines.push(`PUBLISH (no subscriber), redis-benchmark -c 50: cache ${Math.round(ours)}/s, redis-server ${Math.round(theirs)}/s`);
    }
    lines.push(`PUBLISH: ${median(ratios).toFixed(2)}x redis-server (median of 3 paired rounds)`);
    await redis.stop();
  }
} finally {
  await cache.stop();
}
process.stdout.write(`${lines.join('\n')}\n`);
