import t from 'tap';
import { Redis } from 'ioredis';
import { RedisProcess, redisMissing } from './fixtures/redis.js';
import { request, startTestServer } from './fixtures/server.js';
import { sse } from './fixtures/sse.js';
import { eventually } from './fixtures/wait.js';

/** With --backend, pub/sub spans every cache server on the backend, and the backend's own clients. */
const missing = redisMissing();
if (missing !== undefined) t.comment(`skipping the --backend pub/sub tests: ${missing}`);

t.test('a message published on one cache server reaches subscribers of another', { skip: missing }, async (t) => {
  const redis = await RedisProcess.start();
  const [a, b] = await Promise.all([0, 1].map(() => startTestServer({ backend: redis.url, respPort: 0 })));
  const direct = redis.client();
  const publisher = new Redis({ port: a!.resp!.port, host: '127.0.0.1' });
  const subscriber = new Redis({ port: b!.resp!.port, host: '127.0.0.1' });
  const both = new Redis({ port: b!.resp!.port, host: '127.0.0.1' });
  const stream = await sse(`${b!.url}/subscribe/news`);
  t.teardown(async () => {
    stream.close();
    for (const client of [direct, publisher, subscriber, both]) client.disconnect();
    await Promise.all([a!.close(), b!.close()]);
    await redis.close();
  });
  const heard: string[] = [];
  subscriber.on('message', (channel: string, message: string) => heard.push(`${channel}:${message}`));
  subscriber.on('pmessage', (pattern: string, channel: string, message: string) => heard.push(`${pattern}>${channel}:${message}`));
  await subscriber.subscribe('news');
  await subscriber.psubscribe('sport.*');
  const twice: string[] = [];
  both.on('message', (_channel: string, message: string) => twice.push(`channel:${message}`));
  both.on('pmessage', (_pattern: string, _channel: string, message: string) => twice.push(`pattern:${message}`));
  await both.subscribe('news');
  await both.psubscribe('n*');
  await eventually('the relay is subscribed on the backend', async () => Number((await direct.pubsub('NUMSUB', 'news'))[1]) === 1 && Number(await direct.pubsub('NUMPAT')) === 2);

  t.equal(await publisher.publish('news', 'one'), 2, "the backend's count: the other server's relay, on the channel and on n*");
  t.same((await request(a!.url, 'POST', '/publish/sport.tennis', 'two')).json, { receivers: 1 }, 'HTTP PUBLISH goes through the backend too');
  await direct.publish('news', 'three');
  await eventually('all three heard on the other server', () => heard.length === 3 && stream.events.length === 2);
  t.same(heard, ['news:one', 'sport.*>sport.tennis:two', 'news:three'], 'RESP subscriber, in order; a message of the backend itself too');
  t.same(stream.events.map((event) => event.data), ['one', 'three'], 'the SSE subscriber on the same server');
  await eventually('a client on a channel and a matching pattern hears both, as from Redis', () => twice.length === 4);
  t.same(twice.sort(), ['channel:one', 'channel:three', 'pattern:one', 'pattern:three']);

  await subscriber.unsubscribe('news');
  await both.unsubscribe('news');
  stream.close();
  await eventually('the last subscriber gone, the relay leaves the channel', async () => Number((await direct.pubsub('NUMSUB', 'news'))[1]) === 0);
});
