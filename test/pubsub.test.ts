import t from 'tap';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { connected } from './fixtures/raw.js';
import { encodeCommand } from './fixtures/resp.js';
import { startTestServer } from './fixtures/server.js';
import { sse } from './fixtures/sse.js';
import { eventually, sleep } from './fixtures/wait.js';

t.test('pub/sub across both front ends', async (t) => {
  const server = await startTestServer({ respPort: 0, subscriberBuffer: 64 * 1024 });
  const port = server.resp!.port;
  const publisher = new Redis({ port, host: '127.0.0.1' });
  t.teardown(async () => {
    publisher.disconnect();
    await server.close();
  });

  t.test('RESP and SSE subscribers hear what either front end publishes', async (t) => {
    const subscriber = new Redis({ port, host: '127.0.0.1' });
    t.teardown(() => subscriber.disconnect());
    const heard: string[] = [];
    subscriber.on('message', (channel: string, message: string) => heard.push(`${channel}:${message}`));
    subscriber.on('pmessage', (pattern: string, channel: string, message: string) => heard.push(`${pattern}|${channel}:${message}`));
    t.equal(await subscriber.subscribe('news'), 1);
    t.equal(await subscriber.psubscribe('n*'), 2);
    const stream = await sse(`${server.url}/subscribe/news`);
    const patterns = await sse(`${server.url}/psubscribe/${encodeURIComponent('n*')}`);
    t.teardown(() => (stream.close(), patterns.close()));
    await eventually('both streams are subscribed', () => server.pubsub.stats().subscribers === 3);
    t.equal(await publisher.publish('news', 'from resp'), 4, 'the RESP channel and pattern subscriptions and the two streams');
    const viaHttp = await fetch(`${server.url}/publish/news`, { method: 'POST', body: 'two\nlines' });
    t.same(await viaHttp.json(), { receivers: 4 });
    await eventually('every subscriber heard both', () => heard.length === 4 && stream.events.length === 2 && patterns.events.length === 2);
    t.same(heard.sort(), ['n*|news:from resp', 'n*|news:two\nlines', 'news:from resp', 'news:two\nlines']);
    t.same(stream.events.map((event) => event.data), ['from resp', 'two\nlines']);
    t.ok(Number(stream.events[1]!.id) > Number(stream.events[0]!.id), 'each event has an id, in order');
    t.same(JSON.parse(patterns.events[0]!.data), { channel: 'news', message: 'from resp' });
    t.same(await publisher.pubsub('CHANNELS'), ['news']);
    t.same(await publisher.pubsub('NUMSUB', 'news', 'other'), ['news', 2, 'other', 0]);
    t.equal(await publisher.pubsub('NUMPAT'), 1);
  });

  t.test("a RESP2 subscriber may only use pub/sub commands, as in Redis", async (t) => {
    const socket = await connected(port);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.write(Buffer.concat([encodeCommand('SUBSCRIBE', 'a', 'b'), encodeCommand('GET', 'x'), encodeCommand('PING'), encodeCommand('UNSUBSCRIBE'), encodeCommand('GET', 'x')]));
    await eventually('all the replies', () => text.endsWith('$-1\r\n'));
    socket.destroy();
    t.equal(
      text,
      '*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n' +
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n" +
        '*2\r\n$4\r\npong\r\n$0\r\n\r\n' +
        '*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n$-1\r\n',
    );
  });

  t.test('node-redis (RESP3 pushes) subscribes too', async (t) => {
    const client = createClient({ socket: { port, host: '127.0.0.1' } });
    client.on('error', () => undefined);
    await client.connect();
    t.teardown(() => client.destroy());
    const heard: string[] = [];
    await client.subscribe('resp3', (message) => heard.push(message));
    await publisher.publish('resp3', 'pushed');
    await eventually('the message', () => heard.length === 1);
    t.same(heard, ['pushed']);
  });

  t.test('a subscriber that stops reading is dropped at its limit; the others go on', async (t) => {
    const stalled = await connected(port);
    stalled.write(encodeCommand('SUBSCRIBE', 'flood'));
    stalled.pause();
    const reader = new Redis({ port, host: '127.0.0.1' });
    t.teardown(() => reader.disconnect());
    let received = 0;
    reader.on('message', () => received++);
    await reader.subscribe('flood');
    await eventually('both subscribed', () => server.pubsub.subscribersOf('flood') === 2);
    const before = server.pubsub.stats().dropped;
    const payload = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 400; i++) {
      await publisher.publish('flood', payload);
      if (i % 50 === 0) await sleep(5);
    }
    await eventually('the reader got every message', () => received === 400);
    t.equal(server.pubsub.stats().dropped, before + 1, 'the stalled one was dropped, and counted');
    t.equal(server.pubsub.subscribersOf('flood'), 1);
    stalled.destroy();
  });

  t.test('no subscriber stays registered once its connection is gone (1,000 cycles)', async (t) => {
    for (let i = 0; i < 500; i++) {
      const socket = await connected(port);
      socket.write(encodeCommand('SUBSCRIBE', `cycle:${i % 7}`));
      if (i % 2 === 0) socket.destroy();
      else socket.end();
      const stream = await sse(`${server.url}/subscribe/cycle`);
      stream.close();
    }
    await eventually('every one gone', () => server.pubsub.stats().subscribers === 0);
    t.same(server.pubsub.stats().channels, 0);
  });
});

t.test('SSE resumes with Last-Event-ID: what it missed, or how many it lost', async (t) => {
  const server = await startTestServer({ respPort: 0, pubsubHistory: 5 });
  const publisher = new Redis({ port: server.resp!.port, host: '127.0.0.1' });
  t.teardown(async () => {
    publisher.disconnect();
    await server.close();
  });
  const first = await sse(`${server.url}/subscribe/feed`);
  await eventually('subscribed', () => server.pubsub.subscribersOf('feed') === 1);
  await publisher.publish('feed', 'm1');
  await eventually('m1', () => first.events.length === 1);
  const seen = first.events[0]!.id;
  first.close();
  await eventually('gone', () => server.pubsub.subscribersOf('feed') === 0);
  for (const m of ['m2', 'm3', 'm4']) await publisher.publish('feed', m);

  const resumed = await fetch(`${server.url}/subscribe/feed`, { headers: { 'last-event-id': seen } });
  const reader = resumed.body!.getReader();
  let text = '';
  while (!text.includes('data: m4')) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  t.same([...text.matchAll(/data: (m\d)/g)].map((m) => m[1]), ['m2', 'm3', 'm4'], 'exactly what it missed, in order');
  t.notMatch(text, /event: lost/);

  for (let i = 5; i <= 12; i++) await publisher.publish('feed', `m${i}`);
  const late = await fetch(`${server.url}/subscribe/feed?lastEventId=${seen}`);
  const lateReader = late.body!.getReader();
  let lateText = '';
  while (!lateText.includes('data: m12')) lateText += new TextDecoder().decode((await lateReader.read()).value);
  await lateReader.cancel();
  t.match(lateText, /event: lost\ndata: \{"lost":6,"atLeast":false\}/, 'm2..m7 are gone from a history of 5');
  t.same([...lateText.matchAll(/data: (m\d+)/g)].map((m) => m[1]), ['m8', 'm9', 'm10', 'm11', 'm12']);
});

t.test('keyspace notifications: each key change once, expiries and evictions too', async (t) => {
  const server = await startTestServer({ respPort: 0, nodes: 3, replicas: 2, maxMemory: 3 * 1024 * 1024, maxValue: 64 * 1024 });
  const port = server.resp!.port;
  const client = new Redis({ port, host: '127.0.0.1' });
  const subscriber = new Redis({ port, host: '127.0.0.1' });
  t.teardown(async () => {
    client.disconnect();
    subscriber.disconnect();
    await server.close();
  });
  const heard: string[] = [];
  subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => heard.push(`${channel} ${message}`));
  await subscriber.psubscribe('__key*__:*');
  t.equal(await client.config('SET', 'notify-keyspace-events', 'KEA'), 'OK');
  t.same(await client.config('GET', 'notify-keyspace-events'), ['notify-keyspace-events', 'KEg$lshzxetd']);
  await client.set('k', '1');
  await client.incrby('k', 2);
  await client.set('brief', 'v', 'PX', 50);
  await client.del('k');
  await eventually('the expiry is heard', () => heard.includes('__keyevent@0__:expired brief'));
  await sleep(100);
  t.same(
    heard.filter((line) => line.startsWith('__keyspace')),
    ['__keyspace@0__:k set', '__keyspace@0__:k incrby', '__keyspace@0__:brief set', '__keyspace@0__:brief expire', '__keyspace@0__:k del', '__keyspace@0__:brief expired'],
    'each change once, although every key has two copies',
  );
  t.ok(heard.includes('__keyevent@0__:incrby k'));
  heard.length = 0;
  await client.set('from', 'v');
  await client.rename('from', 'to');
  await client.copy('to', 'copy');
  await eventually('the rename and the copy are heard', () => heard.filter((line) => line.startsWith('__keyevent')).length === 4);
  t.same(heard.filter((line) => line.startsWith('__keyevent')).sort(), ['__keyevent@0__:copy_to copy', '__keyevent@0__:rename_from from', '__keyevent@0__:rename_to to', '__keyevent@0__:set from']);
  heard.length = 0;
  const value = 'x'.repeat(32 * 1024);
  for (let i = 0; i < 200; i++) await client.set(`big:${i}`, value);
  await eventually('evictions are heard', () => heard.some((line) => line.startsWith('__keyevent@0__:evicted big:')));
  t.equal(await client.config('SET', 'notify-keyspace-events', ''), 'OK');
  heard.length = 0;
  await client.set('quiet', '1');
  await sleep(100);
  t.same(heard, [], 'off again: nothing is published');
  await t.rejects(client.config('SET', 'notify-keyspace-events', 'KQ'), /ERR Invalid argument 'KQ'/);
});

t.test('/stats, /metrics and INFO show the same pub/sub figures', async (t) => {
  const server = await startTestServer({ respPort: 0 });
  const client = new Redis({ port: server.resp!.port, host: '127.0.0.1' });
  const subscriber = new Redis({ port: server.resp!.port, host: '127.0.0.1' });
  t.teardown(async () => {
    client.disconnect();
    subscriber.disconnect();
    await server.close();
  });
  await subscriber.subscribe('a', 'b');
  await subscriber.psubscribe('c*');
  for (let i = 0; i < 3; i++) await client.publish('a', 'x');
  await client.publish('nobody', 'x');
  const expected = { channels: 2, patterns: 1, subscribers: 1, published: 4, delivered: 3, dropped: 0 };
  const stats = (await (await fetch(`${server.url}/stats`)).json()) as { pubsub: unknown };
  t.same(stats.pubsub, expected);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  t.match(metrics, /cache_pubsub_channels 2\n/);
  t.match(metrics, /cache_pubsub_published_total 4\n/);
  t.match(metrics, /cache_pubsub_delivered_total 3\n/);
  const info = await client.info('stats');
  t.match(info, /pubsub_channels:2\r\npubsub_patterns:1\r\npubsub_subscribers:1\r\npubsub_published:4\r\npubsub_delivered:3\r\npubsub_dropped:0/);
});

t.test('the histories of all channels together stay within their bound', async (t) => {
  const { History, MAX_HISTORY_BYTES } = await import('../src/pubsub/history.js');
  const history = new History(1000, 8 * 1024 * 1024);
  const data = 'x'.repeat(1024 * 1024);
  for (let i = 0; i < 200; i++) history.record({ id: i + 1, channel: `c${i % 50}`, data });
  const held = Array.from({ length: 50 }, (_, i) => history.since(0, `c${i}`, null).messages.length).reduce((a, b) => a + b, 0);
  t.ok(held * data.length <= MAX_HISTORY_BYTES, `${held} MB held of 200 published`);
  t.ok(held >= 32, 'and the recent ones are kept');
  t.equal(history.since(199, 'c49', null).messages.length, 1, 'the newest message is always there');
});
