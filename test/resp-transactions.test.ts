import t from 'tap';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { rawExchange } from './fixtures/resp.js';
import { request, startTestServer } from './fixtures/server.js';
import { sleep } from './fixtures/wait.js';
import type { CommandSpec } from '../src/resp/command.js';
import { Queued } from '../src/resp/queued.js';
import { COMMANDS } from '../src/resp/server.js';
import { MultiState } from '../src/resp/transaction.js';

// MULTI / EXEC / DISCARD / WATCH / UNWATCH with Redis's replies, and what they promise: the
// queued commands run as one step, and a watched key changed by anyone aborts the EXEC.
t.test('transactions', async (t) => {
  const server = await startTestServer({ respPort: 0 });
  const port = server.resp!.port;
  const connect = (): Redis => new Redis({ port, host: '127.0.0.1' });
  const redis = connect();
  const other = connect();
  t.teardown(async () => {
    redis.disconnect();
    other.disconnect();
    await server.close();
  });

  t.test('on the wire: QUEUED for each command, then one array of their replies, errors in place', async (t) => {
    const wire = 'MULTI\r\nSET tx:a 1\r\nINCR tx:a\r\nGET tx:a\r\nSET tx:s text\r\nINCR tx:s\r\nMGET tx:a tx:s tx:none\r\nEXEC\r\nGET tx:a\r\n';
    const { replies } = await rawExchange(port, wire, 9);
    t.same(replies, [
      'OK',
      'QUEUED',
      'QUEUED',
      'QUEUED',
      'QUEUED',
      'QUEUED',
      'QUEUED',
      ['OK', 2, '2', 'OK', { error: 'ERR value is not an integer or out of range' }, ['2', 'text', null]],
      '2',
    ]);
  });

  t.test("Redis's errors: EXECABORT after a refused command, nothing run; EXEC and DISCARD without MULTI; no nesting", async (t) => {
    await redis.del('tx:b');
    const wire = 'MULTI\r\nSET tx:b 1\r\nNOSUCH x\r\nGET\r\nEXEC\r\nEXISTS tx:b\r\nEXEC\r\nDISCARD\r\nMULTI\r\nMULTI\r\nWATCH tx:b\r\nSUBSCRIBE ch\r\nEXEC\r\nPING\r\n';
    const { replies } = await rawExchange(port, wire, 14);
    t.same(replies, [
      'OK',
      'QUEUED',
      { error: "ERR unknown command 'NOSUCH', with args beginning with: 'x' " },
      { error: "ERR wrong number of arguments for 'get' command" },
      { error: 'EXECABORT Transaction discarded because of previous errors.' },
      0,
      { error: 'ERR EXEC without MULTI' },
      { error: 'ERR DISCARD without MULTI' },
      'OK',
      { error: 'ERR MULTI calls can not be nested' },
      { error: 'ERR WATCH inside MULTI is not allowed' },
      { error: 'ERR Command not allowed inside a transaction' },
      { error: 'EXECABORT Transaction discarded because of previous errors.' },
      'PONG',
    ]);
  });

  t.test('DISCARD drops the queue; an empty transaction answers an empty array', async (t) => {
    const { replies } = await rawExchange(port, 'MULTI\r\nSET tx:c 1\r\nDISCARD\r\nEXISTS tx:c\r\nMULTI\r\nEXEC\r\n', 6);
    t.same(replies, ['OK', 'QUEUED', 'OK', 0, 'OK', []]);
  });

  t.test("ioredis's and node-redis's multi()", async (t) => {
    const results = await redis.multi().set('tx:io', '10').incrby('tx:io', 5).get('tx:io').exec();
    t.same(results, [
      [null, 'OK'],
      [null, 15],
      [null, '15'],
    ]);
    const client = createClient({ socket: { port, host: '127.0.0.1' } });
    await client.connect();
    t.teardown(() => client.quit());
    t.same(await client.multi().set('tx:nr', 'a').append('tx:nr', 'bc').get('tx:nr').exec(), ['OK', 3, 'abc']);
    await client.watch('tx:nr');
    await other.set('tx:nr', 'changed');
    await t.rejects(client.multi().set('tx:nr', 'mine').exec(), /WATCH/i, 'node-redis reports the aborted EXEC');
    t.equal(await redis.get('tx:nr'), 'changed');
  });

  t.test('WATCH: a change by another client, by HTTP or by the watcher itself aborts; none does not', async (t) => {
    await redis.set('w:k', '1');
    await redis.watch('w:k');
    await other.set('w:k', '2');
    t.equal(await redis.multi().set('w:k', 'mine').exec(), null, 'another RESP client');
    t.equal(await redis.get('w:k'), '2');

    await redis.watch('w:k');
    await request(server.url, 'POST', '/set?key=w:k&value=3');
    t.equal(await redis.multi().set('w:k', 'mine').exec(), null, 'an HTTP client');

    await redis.watch('w:k');
    await redis.incr('w:k');
    t.equal(await redis.multi().set('w:k', 'mine').exec(), null, 'the watcher itself, before MULTI');

    await redis.watch('w:k', 'w:other');
    await other.set('w:unwatched', 'x');
    t.same(await redis.multi().set('w:k', 'mine').exec(), [[null, 'OK']], 'a change of another key');
    await other.set('w:k', 'after');
    t.same(await redis.multi().get('w:k').exec(), [[null, 'after']], 'EXEC unwatches: a later change aborts nothing');

    await redis.watch('w:k');
    await redis.unwatch();
    await other.set('w:k', 'again');
    t.same(await redis.multi().get('w:k').exec(), [[null, 'again']], 'UNWATCH');

    await redis.del('w:absent');
    await redis.watch('w:absent');
    await other.del('w:absent');
    t.same(await redis.multi().ping().exec(), [[null, 'PONG']], 'deleting a key that is not there changes nothing');
  });

  t.test('WATCH: an expiry, a flush; a key already expired when watched is no change', async (t) => {
    await redis.set('w:ttl', 'v', 'PX', 50);
    await redis.watch('w:ttl');
    await sleep(120);
    t.equal(await redis.multi().ping().exec(), null, 'the key expired between WATCH and EXEC');

    await redis.set('w:stale', 'v', 'PX', 1);
    await sleep(20);
    await redis.watch('w:stale');
    t.same(await redis.multi().ping().exec(), [[null, 'PONG']], 'it had expired before WATCH');

    await redis.set('w:held', 'v');
    await redis.watch('w:held', 'w:never');
    await other.flushall();
    t.equal(await redis.multi().ping().exec(), null, 'FLUSHALL removed a watched key');
    await redis.watch('w:never');
    await other.flushall();
    t.same(await redis.multi().ping().exec(), [[null, 'PONG']], 'FLUSHALL of a key that was not there');
  });

  t.test('WATCH makes a compare-and-set: 20 clients adding 15 each to one counter lose no increment', async (t) => {
    await redis.set('cas', '0');
    const clients = Array.from({ length: 20 }, connect);
    t.teardown(() => clients.forEach((client) => client.disconnect()));
    let aborted = 0;
    await Promise.all(
      clients.map(async (client) => {
        for (let done = 0; done < 15; ) {
          await client.watch('cas');
          const value = Number(await client.get('cas'));
          const result = await client.multi().set('cas', String(value + 1)).exec();
          if (result === null) aborted++;
          else done++;
        }
      }),
    );
    t.equal(await redis.get('cas'), '300', `every increment counted (${aborted} EXECs aborted and retried)`);
    t.ok(aborted > 0, 'the clients did race');
  });

  t.test('EXEC is one step: no reader sees some of its writes and not the others', async (t) => {
    const keys = ['one:a', 'one:b', 'one:c', 'one:d'];
    await redis.mset(keys.flatMap((key) => [key, '0']));
    let writing = true;
    const writer = (async () => {
      for (let i = 1; i <= 200; i++) {
        const transaction = redis.multi();
        for (const key of keys) transaction.set(key, String(i));
        await transaction.exec();
      }
      writing = false;
    })();
    let looks = 0;
    let torn = 0;
    while (writing) {
      const [values, viaHttp] = await Promise.all([other.mget(keys), request(server.url, 'POST', '/mget', JSON.stringify({ keys }))]);
      looks++;
      if (new Set(values).size !== 1) torn++;
      const fromHttp = viaHttp.json as { values: Record<string, string | null> };
      if (new Set(Object.values(fromHttp.values)).size !== 1) torn++;
    }
    await writer;
    t.equal(torn, 0, `${looks} looks at the four keys from RESP and HTTP, each saw one transaction's values`);
    t.same(await redis.mget(keys), ['200', '200', '200', '200']);
  });

  t.test('a long transaction: 3,000 commands, every reply in its place', async (t) => {
    const transaction = redis.multi();
    for (let i = 0; i < 1_000; i++) transaction.set(`long:${i % 10}`, String(i)).incr(`long:${i % 10}`).get(`long:${i % 10}`);
    const results = (await transaction.exec())!;
    t.equal(results.length, 3_000);
    const wrong = results.filter(([failure, reply], i) => failure !== null || String(reply) !== (i % 3 === 0 ? 'OK' : String(Math.floor(i / 3) + 1))).length;
    t.equal(wrong, 0);
  });

  t.test("CLIENT LIST shows a transaction being queued and a subscriber's subscriptions, as Redis", async (t) => {
    const queuing = connect();
    const subscriber = connect();
    t.teardown(() => {
      queuing.disconnect();
      subscriber.disconnect();
    });
    await queuing.client('SETNAME', 'queuing');
    await queuing.call('MULTI');
    await queuing.call('SET', 'list:a', '1');
    await queuing.call('GET', 'list:a');
    await subscriber.client('SETNAME', 'subscriber');
    await subscriber.subscribe('c1', 'c2');
    await subscriber.psubscribe('p*');
    const lines = String(await redis.client('LIST')).split('\n');
    t.match(lines.find((line) => line.includes('name=queuing ')), / flags=x .* multi=2 /);
    t.match(lines.find((line) => line.includes('name=subscriber ')), / flags=P .* sub=2 psub=1 multi=-1 /);
    t.match(lines.find((line) => line.includes('cmd=client')), / flags=N .* sub=0 psub=0 multi=-1 /);
    t.same(await queuing.call('EXEC'), ['OK', '1']);
  });

  t.test('a connection gone mid-transaction leaves no watch behind', async (t) => {
    const gone = connect();
    await gone.watch('w:left', 'w:left2');
    await gone.multi().exec();
    await gone.watch('w:left');
    gone.disconnect();
    await sleep(100);
    t.equal(server.cluster.data.watches.size, 0);
  });
});

// The queue's own rules, on the real command table: what is queued, what aborts, the byte bound.
t.test('MULTI as commands are read: queued, refused, bounded', async (t) => {
  const spec = (name: string): CommandSpec => COMMANDS.get(name)!;
  const multi = new MultiState(1_000, false);
  t.equal(multi.read(spec('get'), ['GET', 'k']), undefined, 'outside MULTI a command goes in order');
  t.equal(multi.read(spec('multi'), ['MULTI']), undefined, "MULTI goes in order too (its reply is MULTI's own)");
  t.equal(multi.read(spec('set'), ['SET', 'k', 'v']), '+QUEUED\r\n');
  t.equal(multi.read(spec('set'), ['SET', 'k', 'v'.repeat(1_000)]), '-ERR the commands queued since MULTI pass 1000 bytes\r\n');
  t.equal(multi.read(spec('set'), ['SET', 'k', 'v']), '+QUEUED\r\n', 'then QUEUED as Redis, keeping nothing');
  const ended = multi.read(spec('exec'), ['EXEC']);
  t.ok(ended instanceof Queued && ended.aborted && ended.commands.length === 0, 'EXEC gets an aborted, empty transaction');
  t.equal(multi.read(spec('exec'), ['EXEC']), undefined, 'the next EXEC has none');
  t.equal(new MultiState(1_000, true).read(spec('multi'), ['MULTI']), '-ERR MULTI and WATCH are not supported with --backend\r\n');
});
