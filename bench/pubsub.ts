/**
 * `npm run bench:pubsub -- [--subscribers N] [--rate M] [--seconds S] [--rounds R]`: N subscribers
 * on one channel while a RESP client publishes M messages a second for S seconds, each carrying
 * the time it was sent. The subscribers run in a process of their own (bench/subscribers.ts:
 * how they count and sample), on three targets in turn: the cache's SSE streams, the cache's RESP
 * port, and a redis-server (when installed) with the same RESP subscribers, the anchor for what
 * this machine's two cores allow. Each setting runs again with one subscriber more that never
 * reads (its stream stalls), to see whether it changes the others; beside the cache's, GETs of
 * one key (autocannon, 10 connections) show what the fan-out costs the data path. Last, PUBLISH
 * with no subscriber through redis-benchmark against both RESP ports.
 */
import { execFile, fork } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { median, numberFlag } from './args.js';
import { installed, startRedis } from './resp.js';
import { cpuTicks, startCache } from './targets.js';

const SUBSCRIBERS = numberFlag('subscribers', 1000);
const RATE = numberFlag('rate', 10_000);
const SECONDS = numberFlag('seconds', 4);
const ROUNDS = numberFlag('rounds', 2);
const run = promisify(execFile);
const clock = (): number => performance.timeOrigin + performance.now();
const SUBSCRIBERS_SCRIPT = fileURLToPath(new URL('./subscribers.js', import.meta.url));

interface PubSubTarget {
  name: string;
  protocol: 'sse' | 'resp';
  /** Where subscribers connect (the HTTP port for SSE). */
  port: number;
  respPort: number;
  pid: number;
  /** The cache's HTTP address: GETs beside the fan-out, and its counters. */
  url?: string;
}

interface Outcome {
  p50: number;
  p99: number;
  lost: number;
  /** The server's CPU over the round, in cores (the GETs beside it included). */
  cores: number;
  gets?: number;
}

interface Report {
  received: number[];
  samples: number[];
}

/** N subscribers in their own process, once all are subscribed. */
async function subscribe(target: PubSubTarget): Promise<() => Promise<Report>> {
  const child = fork(SUBSCRIBERS_SCRIPT, [target.protocol, `${target.port}`, `${SUBSCRIBERS}`]);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the subscribers exited with ${code}`)));
  });
  return () =>
    new Promise((resolve) => {
      child.once('message', (report) => resolve(report as Report));
      child.send('report');
    });
}

/** A subscriber that sends its request and then never reads. */
function stall(target: PubSubTarget): () => void {
  const socket = connect(target.port, '127.0.0.1', () => {
    socket.write(target.protocol === 'sse' ? 'GET /subscribe/bench HTTP/1.1\r\nHost: x\r\n\r\n' : '*2\r\n$9\r\nSUBSCRIBE\r\n$5\r\nbench\r\n');
    socket.pause();
  });
  socket.on('error', () => undefined);
  return () => socket.destroy();
}

async function round(target: PubSubTarget, stalled: boolean): Promise<Outcome> {
  const report = await subscribe(target);
  const unstall = stalled ? stall(target) : () => undefined;
  const publisher = new Redis({ port: target.respPort, host: '127.0.0.1' });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const perTick = Math.max(1, Math.round(RATE / 100));
  let sent = 0;
  const gets = target.url === undefined ? undefined : autocannon({ url: `${target.url}/get?key=bench`, connections: 10, duration: SECONDS });
  const cpuBefore = cpuTicks(target.pid);
  const started = clock();
  while (clock() - started < SECONDS * 1000) {
    const pipeline = publisher.pipeline();
    // A fixed-width send time (bench/subscribers.ts counts messages by their size).
    for (let i = 0; i < perTick; i++) pipeline.publish('bench', clock().toFixed(3));
    await pipeline.exec();
    sent += perTick;
    const due = started + (sent / RATE) * 1000;
    if (due > clock()) await new Promise((resolve) => setTimeout(resolve, due - clock()));
  }
  const getRate = gets === undefined ? undefined : (await gets).requests.average;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const cores = (cpuTicks(target.pid) - cpuBefore) / 100 / ((clock() - started) / 1000);
  const { received, samples } = await report();
  unstall();
  publisher.disconnect();
  samples.sort((a, b) => a - b);
  const at = (q: number): number => Number((samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN).toFixed(1));
  const lost = received.reduce((sum, got) => sum + Math.max(0, sent - got), 0);
  return { p50: at(0.5), p99: at(0.99), lost, cores: Number(cores.toFixed(2)), ...(getRate === undefined ? {} : { gets: Math.round(getRate) }) };
}

async function publishRate(port: number): Promise<number> {
  const { stdout } = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', `${port}`, '-c', '50', '-n', '200000', '--csv', 'PUBLISH', 'bench', 'hello']);
  return Number(stdout.trim().split('\n').at(-1)?.split(',')[1]?.replaceAll('"', ''));
}

const cache = await startCache('cache', ['--resp-port', '0', '--subscriber-buffer', '1mb']);
const respPort = Number(/redis:\/\/[^:]+:(\d+)/.exec(cache.banner)?.[1]);
await fetch(`${cache.url}/set?key=bench&value=v`, { method: 'POST' });
const redis = (await installed('redis-server')) ? await startRedis() : undefined;
const targets: PubSubTarget[] = [
  { name: 'cache, SSE', protocol: 'sse', port: Number(new URL(cache.url).port), respPort, pid: cache.pid, url: cache.url },
  { name: 'cache, RESP', protocol: 'resp', port: respPort, respPort, pid: cache.pid, url: cache.url },
];
if (redis?.pid !== undefined) targets.push({ name: 'redis-server, RESP', protocol: 'resp', port: redis.port, respPort: redis.port, pid: redis.pid });

const lines: string[] = [
  `${SUBSCRIBERS} subscribers, ${RATE} messages/s for ${SECONDS} s, one channel (deliveries: ${SUBSCRIBERS * RATE}/s); latency: the oldest message of each read`,
  '',
  '| target | subscribers | latency p50 | p99 | lost by those reading | server CPU | GET beside it |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
];
try {
  for (let i = 0; i < ROUNDS; i++) {
    for (const target of targets) {
      for (const stalled of [false, true]) {
        const r = await round(target, stalled);
        lines.push(`| ${target.name} | ${stalled ? 'one stalled more' : 'all reading'} | ${r.p50} ms | ${r.p99} ms | ${r.lost} | ${r.cores} cores | ${r.gets === undefined ? '' : `${r.gets} req/s`} |`);
        process.stderr.write(`${lines.at(-1)}\n`);
      }
    }
  }
  const stats = (await (await fetch(`${cache.url}/stats`)).json()) as { pubsub: { dropped: number } };
  lines.push('', `stalled subscribers the cache dropped at their limit: ${stats.pubsub.dropped} of ${ROUNDS * 2}`);
  if (redis !== undefined && (await installed('redis-benchmark'))) {
    const ratios: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ours = await publishRate(respPort);
      const theirs = await publishRate(redis.port);
      ratios.push(ours / theirs);
      lines.push(`PUBLISH (no subscriber), redis-benchmark -c 50: cache ${Math.round(ours)}/s, redis-server ${Math.round(theirs)}/s`);
    }
    lines.push(`PUBLISH: ${median(ratios).toFixed(2)}x redis-server (median of 3 paired rounds)`);
  }
} finally {
  await cache.stop();
  await redis?.stop();
}
process.stdout.write(`${lines.join('\n')}\n`);
