import t from 'tap';
import { connect, type Socket } from 'node:net';
import { runCli, spawnServer } from './fixtures/process.js';
import { request, startTestServer } from './fixtures/server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('--auth-token: every endpoint but GET /health needs the bearer token', async (t) => {
  const server = await startTestServer({ authToken: 's3cret' });
  t.teardown(() => server.close());
  const calls: Array<[string, string, string?]> = [
    ['POST', '/set?key=a&value=1'],
    ['GET', '/get?key=a'],
    ['PUT', '/keys/b', 'v'],
    ['GET', '/keys/b'],
    ['POST', '/mget', '{"keys":["a"]}'],
    ['GET', '/nodes'],
    ['GET', '/stats'],
    ['GET', '/metrics'],
    ['POST', '/flush'],
  ];
  for (const [method, path, body] of calls) {
    const bare = await fetch(server.url + path, { method, body: body ?? null });
    t.equal(bare.status, 401, `${method} ${path} without a token`);
    t.equal(bare.headers.get('www-authenticate'), 'Bearer');
    t.same(await bare.json(), { error: 'Missing or wrong bearer token', code: 'UNAUTHORIZED' });
    const wrong = await fetch(server.url + path, { method, body: body ?? null, headers: { authorization: 'Bearer s3cre' } });
    t.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
    const good = await fetch(server.url + path, { method, body: body ?? null, headers: { authorization: 'Bearer s3cret' } });
    t.ok(good.status >= 200 && good.status < 300, `${method} ${path} with the token: ${good.status}`);
  }
  t.equal((await request(server.url, 'GET', '/health')).status, 200, '/health stays open for probes');
  t.equal((await request(server.url, 'GET', '/get?key=a')).status, 401, 'nothing readable without it');
});

t.test('protected mode: a public --host without a token refuses to start and says why', async (t) => {
  const exit = await runCli(['--host', '0.0.0.0', '--port', '0']);
  t.equal(exit.code, 2);
  t.match(exit.stderr, /refusing to listen on 0\.0\.0\.0 without authentication/);
  t.match(exit.stderr, /--auth-token/);
  t.match(exit.stderr, /--insecure/);
});

/**
 * Opens a connection that sends a request's headers one byte every `everyMs`; resolves with the
 * time from its first byte to the server cutting it off.
 */
function slowloris(port: number, everyMs: number): Promise<number> {
  const text = 'GET /get?key=a HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'z'.repeat(1000);
  return new Promise((resolve) => {
    let started = 0;
    const socket: Socket = connect(port, '127.0.0.1', () => {
      started = Date.now();
      socket.write(text[i++]!);
    });
    let i = 0;
    const timer = setInterval(() => {
      if (started > 0 && i < text.length && !socket.destroyed) socket.write(text[i++]!);
    }, everyMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(Date.now() - started);
    });
    socket.resume();
  });
}

async function countRequests(url: string, ms: number, parallel = 10): Promise<number> {
  const end = Date.now() + ms;
  let count = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (Date.now() < end) if ((await request(url, 'GET', '/get?key=k')).status === 200) count++;
    }),
  );
  return count;
}

t.test('a slowloris client is cut off within the header timeout; others keep their throughput', async (t) => {
  // The server in its own process, so that the slow clients' timers here do not slow it down.
  const server = await spawnServer(['--header-timeout', '1']);
  t.teardown(() => server.child.kill('SIGKILL'));
  await request(server.url, 'POST', '/set?key=k&value=v');
  const before = await countRequests(server.url, 1000);
  const port = Number(new URL(server.url).port);
  const slow = Array.from({ length: 50 }, () => slowloris(port, 100));
  const during = await countRequests(server.url, 1000);
  const lifetimes = await Promise.all(slow);
  t.ok(Math.max(...lifetimes) <= 1000, `50 slow clients disconnected after ${Math.min(...lifetimes)}-${Math.max(...lifetimes)} ms (--header-timeout 1)`);
  t.ok(during >= before * 0.8, `10 normal clients made ${during} requests in 1 s with them connected, ${before} without`);
});

t.test('a client that does not read a large value blocks nobody', async (t) => {
  const server = await startTestServer({ maxValue: 8 * 1024 * 1024 });
  t.teardown(() => server.close());
  await request(server.url, 'POST', '/set?key=k&value=v');
  const put = await fetch(`${server.url}/keys/big`, { method: 'PUT', body: Buffer.alloc(8 * 1024 * 1024, 1) });
  t.equal(put.status, 201);
  const port = Number(new URL(server.url).port);
  // Ask for the value and never read it: it stays in the socket buffers.
  const stalled = Array.from({ length: 5 }, () => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET /keys/big HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.pause();
    return socket;
  });
  await sleep(200);
  const started = Date.now();
  const served = await countRequests(server.url, 500, 5);
  t.ok(served > 50, `${served} other requests served in 500 ms while 5 readers stall on 8 MiB each`);
  t.ok(Date.now() - started < 2000);
  for (const socket of stalled) socket.destroy();
});

t.test('--max-connections closes connections past the cap', async (t) => {
  const server = await startTestServer({ maxConnections: 3 });
  t.teardown(() => server.close());
  const port = Number(new URL(server.url).port);
  const held = await Promise.all(
    Array.from({ length: 3 }, () => new Promise<Socket>((resolve) => { const s = connect(port, '127.0.0.1', () => resolve(s)); })),
  );
  await sleep(50);
  const refused = await new Promise<string>((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
  });
  t.equal(refused, '', 'the 4th connection is closed without an answer');
  for (const s of held) s.destroy();
  await sleep(50);
  t.equal((await request(server.url, 'GET', '/health')).status, 200, 'and once they go, new ones are served');
});

t.test('shutdown under load: every acknowledged write is applied, no request hangs', async (t) => {
  const server = await startTestServer({ nodes: 3 });
  const acknowledged: string[] = [];
  let failed = 0;
  let stop = false;
  const client = async (c: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const key = `w${c}-${i}`;
      try {
        const r = await fetch(`${server.url}/set?key=${key}&value=${i}`, { method: 'POST' });
        await r.text();
        if (r.status === 201) acknowledged.push(key);
        else failed++;
      } catch {
        failed++;
        return;
      }
    }
  };
  const clients = Array.from({ length: 50 }, (_, c) => client(c));
  await sleep(500);
  const started = Date.now();
  await server.drain();
  const drainedIn = Date.now() - started;
  stop = true;
  const settled = await Promise.race([Promise.all(clients).then(() => true), sleep(5000).then(() => false)]);
  t.ok(settled, 'every client request settled: answered or refused');
  t.ok(drainedIn < 5000, `drained in ${drainedIn} ms (--shutdown-timeout 5 s)`);
  const values = await server.cluster.data.getMany(acknowledged);
  const applied = values.filter((value) => value !== undefined).length;
  t.ok(acknowledged.length > 100, `${acknowledged.length} writes acknowledged`);
  t.equal(applied, acknowledged.length, `${applied} of ${acknowledged.length} acknowledged writes are in the nodes`);
  t.comment(`${failed} requests refused or cut after the listener closed`);
  await server.close();
});
