import t from 'tap';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { connected } from './fixtures/raw.js';
import { RedisProcess, redisMissing } from './fixtures/redis.js';
import { prng } from './fixtures/prng.js';
import { decodeAll, decodeReply, encodeCommand } from './fixtures/resp.js';
import { startTestServer } from './fixtures/server.js';
import { sse } from './fixtures/sse.js';
import { eventually } from './fixtures/wait.js';

/**
 * A message to many subscribers is encoded once and each turn's run of messages is joined once
 * for all the subscribers that got the same run (src/pubsub/fanout.ts). These tests give the
 * subscribers runs that differ (several channels, a pattern and a channel that both match, a
 * stream resuming from the history while others are live, RESP2 beside RESP3, HTTP/1.0 beside
 * chunked HTTP/1.1) and check that each gets exactly its own messages, in order.
 */

const CHANNELS = ['a', 'b', 'ab', 'ba'];

/** Raw RESP subscribers and what each is sent, byte for byte. */
interface Listener {
  socket: Socket;
  text: string;
}

async function listener(port: number, ...commands: Buffer[]): Promise<Listener> {
  const socket = await connected(port);
  const listener: Listener = { socket, text: '' };
  socket.on('data', (chunk: Buffer) => (listener.text += chunk.toString('latin1')));
  socket.write(Buffer.concat(commands));
  return listener;
}

const SUBSCRIBERS: Array<{ name: string; commands: Buffer[]; heads: number; hears: (channel: string) => number }> = [
  { name: 'a', commands: [encodeCommand('SUBSCRIBE', 'a')], heads: 1, hears: (c) => +(c === 'a') },
  { name: 'b', commands: [encodeCommand('SUBSCRIBE', 'b')], heads: 1, hears: (c) => +(c === 'b') },
  { name: 'a and b', commands: [encodeCommand('SUBSCRIBE', 'a', 'b')], heads: 2, hears: (c) => +(c === 'a' || c === 'b') },
  { name: 'a*', commands: [encodeCommand('PSUBSCRIBE', 'a*')], heads: 1, hears: (c) => +c.startsWith('a') },
  { name: 'a and a*', commands: [encodeCommand('SUBSCRIBE', 'a'), encodeCommand('PSUBSCRIBE', 'a*')], heads: 2, hears: (c) => +(c === 'a') + +c.startsWith('a') },
  { name: 'RESP3 a', commands: [encodeCommand('HELLO', '3'), encodeCommand('SUBSCRIBE', 'a')], heads: 2, hears: (c) => +(c === 'a') },
  { name: 'RESP3 *', commands: [encodeCommand('HELLO', '3'), encodeCommand('PSUBSCRIBE', '*')], heads: 2, hears: () => 1 },
];

/** Publishes `messages` in pipelines of 50 (each one write, so that many reach the subscribers in one turn); the replies, as bytes. */
async function publishAll(port: number, messages: Array<[string, Buffer]>): Promise<string> {
  const publisher = await listener(port);
  for (let from = 0; from < messages.length; from += 50) {
    publisher.socket.write(Buffer.concat(messages.slice(from, from + 50).map(([channel, data]) => encodeCommand('PUBLISH', channel, data))));
    await eventually('the pipeline is answered', () => decodeAll(publisher.text).replies.length >= Math.min(messages.length, from + 50));
  }
  publisher.socket.destroy();
  return publisher.text;
}

const missing = redisMissing();
t.test('RESP subscribers get the same bytes from the cache as from redis-server', { skip: missing }, async (t) => {
  const redis = await RedisProcess.start();
  const server = await startTestServer({ respPort: 0 });
  t.teardown(async () => {
    await server.close();
    await redis.close();
  });
  const random = prng(7);
  const messages: Array<[string, Buffer]> = Array.from({ length: 400 }, (_, i) => [CHANNELS[Math.floor(random() * CHANNELS.length)]!, i % 7 === 0 ? Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256))) : Buffer.from(`m${i}`)]);
  const outcomes: Array<{ replies: string; heard: string[] }> = [];
  for (const port of [redis.port, server.resp!.port]) {
    const listeners = await Promise.all(SUBSCRIBERS.map((s) => listener(port, ...s.commands)));
    await eventually('every subscription is confirmed', () => listeners.every((l, i) => decodeAll(l.text).replies.length === SUBSCRIBERS[i]!.heads));
    const replies = await publishAll(port, messages);
    await eventually('every subscriber has all its messages', () =>
      listeners.every((l, i) => decodeAll(l.text).replies.length === SUBSCRIBERS[i]!.heads + messages.reduce((sum, [channel]) => sum + SUBSCRIBERS[i]!.hears(channel), 0)),
    );
    // HELLO's answer names the server: left out.
    outcomes.push({ replies, heard: listeners.map((l, i) => (SUBSCRIBERS[i]!.name.startsWith('RESP3') ? l.text.slice(decodeReply(l.text)![1]) : l.text)) });
    for (const l of listeners) l.socket.destroy();
  }
  const [theirs, ours] = outcomes as [(typeof outcomes)[0], (typeof outcomes)[0]];
  t.equal(ours.replies, theirs.replies, "PUBLISH's counts of receivers");
  SUBSCRIBERS.forEach((s, i) => t.equal(ours.heard[i], theirs.heard[i], `subscriber on ${s.name}`));
});

t.test("a RESP3 subscriber's own PUBLISH: its message comes before the reply, as in redis-server", { skip: missing }, async (t) => {
  const redis = await RedisProcess.start();
  const server = await startTestServer({ respPort: 0 });
  t.teardown(async () => {
    await server.close();
    await redis.close();
  });
  const commands = [encodeCommand('HELLO', '3'), encodeCommand('SUBSCRIBE', 'a'), encodeCommand('SET', 'k', 'v'), encodeCommand('PUBLISH', 'a', 'x'), encodeCommand('PING')];
  const heard: string[] = [];
  for (const port of [redis.port, server.resp!.port]) {
    const l = await listener(port, ...commands);
    await eventually('every reply', () => decodeAll(l.text).replies.length === 6);
    l.socket.destroy();
    heard.push(l.text.slice(decodeReply(l.text)![1]));
  }
  t.equal(heard[1], heard[0]);
  t.equal(heard[0], '>3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n+OK\r\n>3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n:1\r\n+PONG\r\n');
});

/** An SSE stream read from a raw socket (HTTP/1.0 or 1.1, any framing): its events' ids and data. */
async function rawStream(port: number, request: string): Promise<{ events: () => Array<{ id: string; data: string }>; close: () => void }> {
  const socket = await connected(port);
  let bytes = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (bytes = Buffer.concat([bytes, chunk])));
  socket.write(request);
  const events = (): Array<{ id: string; data: string }> => {
    // The stream is the last answer on the connection (a pipelined request may come first).
    const text = bytes.toString('latin1');
    const head = text.lastIndexOf('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream');
    const bodyAt = text.indexOf('\r\n\r\n', head) + 4;
    let body = bytes.subarray(bodyAt);
    if (/transfer-encoding: chunked/i.test(text.slice(head, bodyAt))) {
      const parts: Buffer[] = [];
      for (let at = 0; ; ) {
        const line = body.indexOf('\r\n', at);
        if (line < 0) break;
        const size = parseInt(body.toString('latin1', at, line), 16);
        if (body.length < line + 2 + size + 2) break;
        parts.push(body.subarray(line + 2, line + 2 + size));
        at = line + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    }
    return body
      .toString('utf8')
      .split('\n\n')
      .filter((block) => block.startsWith('id: '))
      .map((block) => ({ id: /^id: (\d+)/.exec(block)![1]!, data: block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n') }));
  };
  return { events, close: () => socket.destroy() };
}

t.test('SSE streams that share a channel each get their own run of events', async (t) => {
  const server = await startTestServer({ respPort: 0, pubsubHistory: 10_000 });
  const publisher = new Redis({ port: server.resp!.port, host: '127.0.0.1' });
  const port = Number(new URL(server.url).port);
  const streams = [
    await sse(`${server.url}/subscribe/a`),
    await sse(`${server.url}/subscribe/a`),
    await sse(`${server.url}/psubscribe/${encodeURIComponent('a*')}`),
  ];
  const http10 = await rawStream(port, 'GET /subscribe/a HTTP/1.0\r\n\r\n');
  const pipelined = await rawStream(port, 'GET /health HTTP/1.1\r\nHost: h\r\n\r\nGET /subscribe/a HTTP/1.1\r\nHost: h\r\n\r\n');
  t.teardown(async () => {
    for (const s of [...streams, http10, pipelined]) s.close();
    publisher.disconnect();
    await server.close();
  });
  await eventually('all the streams are subscribed', () => server.pubsub.stats().subscribers === 5);
  const random = prng(11);
  // Several lines and characters of several bytes: the chunks' sizes are counted in bytes.
  const published: Array<[string, string]> = Array.from({ length: 600 }, (_, i) => [CHANNELS[Math.floor(random() * CHANNELS.length)]!, i % 5 === 0 ? `é${i}\nline two ✓` : `m${i}`]);
  const resumed: Array<{ after: string; stream: Awaited<ReturnType<typeof sse>> }> = [];
  for (let from = 0; from < published.length; from += 50) {
    const pipeline = publisher.pipeline();
    for (const [channel, data] of published.slice(from, from + 50)) pipeline.publish(channel, data);
    // Streams resuming from the history while the next messages are published.
    const seen = streams[0]!.events;
    if (from > 0 && seen.length > 0) {
      const after = seen[Math.floor(random() * seen.length)]!.id;
      const resuming = sse(`${server.url}/subscribe/a?lastEventId=${after}`);
      await pipeline.exec();
      resumed.push({ after, stream: await resuming });
    } else await pipeline.exec();
  }
  const onA = published.filter(([channel]) => channel === 'a').map(([, data]) => data);
  const onPattern = published.filter(([channel]) => channel.startsWith('a'));
  await eventually('every stream has every event', () => streams[0]!.events.length === onA.length && streams[2]!.events.length === onPattern.length && http10.events().length === onA.length && pipelined.events().length === onA.length);
  const reference = streams[0]!.events;
  t.same(reference.map((e) => e.data), onA, 'the channel, in order');
  t.same(streams[1]!.events, reference, 'a second stream of the channel');
  t.same(streams[2]!.events.map((e) => JSON.parse(e.data) as unknown), onPattern.map(([channel, message]) => ({ channel, message })), 'the pattern');
  t.same(http10.events(), reference, 'HTTP/1.0 (no chunks)');
  t.same(pipelined.events(), reference, 'a stream after a pipelined request');
  for (const { after, stream } of resumed) {
    const due = reference.filter((e) => BigInt(e.id) > BigInt(after));
    await eventually(`the stream resumed after ${after}`, () => stream.events.length >= due.length);
    t.same(stream.events, due, `resumed after ${after}: what it missed, then the rest, once each`);
    stream.close();
  }
});
