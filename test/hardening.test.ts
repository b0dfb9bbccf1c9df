import t from 'tap';
import { connect, type Socket } from 'node:net';
import { runCli, spawnServer } from './fixtures/process.js';
import { connected } from './fixtures/raw.js';
import { request, startTestServer, type RunningServer } from './fixtures/server.js';
import { eventually } from './fixtures/wait.js';

/** Client connections the server holds now. */
function connections(server: RunningServer): Promise<number> {
  return new Promise((resolve, reject) => server.listener.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

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
  for (const header of ['bearer s3cret', 'BEARER s3cret', 'Bearer   s3cret ']) {
    const r = await fetch(`${server.url}/stats`, { headers: { authorization: header } });
    t.equal(r.status, 200, `the scheme is case-insensitive, spaces around the token are not part of it: '${header}'`);
  }
  for (const header of ['Bearer', 'Bearer ', 's3cret', 'Basic s3cret', 'Bearer s3cret2']) {
    t.equal((await fetch(`${server.url}/stats`, { headers: { authorization: header } })).status, 401, `'${header}' is refused`);
  }
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
 * Opens a connection that sends a request's headers one byte every `everyMs`; resolves with
 * whether the server cut it off before the client had sent them all.
 */
function slowloris(port: number, everyMs: number): Promise<boolean> {
  const text = 'GET /get?key=a HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'z'.repeat(1000);
  let i = 0;
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(text[i++]!));
    const timer = setInterval(() => {
      if (i < text.length && !socket.destroyed) socket.write(text[i++]!);
    }, everyMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(i < text.length);
    });
    socket.resume();
  });
}

/** GETs of a held key from `parallel` clients for `ms`: how many were answered 200, and how many otherwise. */
async function countRequests(url: string, ms: number, parallel = 10): Promise<{ ok: number; other: number }> {
  const end = performance.now() + ms;
  const count = { ok: 0, other: 0 };
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < end) {
        if ((await request(url, 'GET', '/get?key=k')).status === 200) count.ok++;
        else count.other++;
      }
    }),
  );
  return count;
}

t.test('slowloris clients are cut off by the header timeout; others are served meanwhile', async (t) => {
  // The server in its own process, so that the slow clients' timers here do not slow it down.
  const server = await spawnServer(['--header-timeout', '1']);
  t.teardown(() => server.child.kill('SIGKILL'));
  await request(server.url, 'POST', '/set?key=k&value=v');
  const port = Number(new URL(server.url).port);
  // 1,000 header bytes at one every 100 ms would take 100 s: only the server's timeout ends them.
  const slow = Array.from({ length: 50 }, () => slowloris(port, 100));
  const during = await countRequests(server.url, 1000);
  const cut = await Promise.all(slow);
  t.equal(cut.filter(Boolean).length, 50, 'all 50 slow clients were cut off before they had sent their headers');
  t.ok(during.ok > 0 && during.other === 0, `10 normal clients made ${during.ok} requests in 1 s meanwhile, all answered 200`);
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
  await eventually('the stalled readers are connected', async () => (await connections(server)) >= 5);
  const served = await countRequests(server.url, 500, 5);
  t.ok(served.ok > 0 && served.other === 0, `${served.ok} other requests served in 500 ms while 5 readers stall on 8 MiB each`);
  for (const socket of stalled) socket.destroy();
});

t.test('--max-connections closes connections past the cap', async (t) => {
  const server = await startTestServer({ maxConnections: 3 });
  t.teardown(() => server.close());
  const port = Number(new URL(server.url).port);
  const held = await Promise.all(Array.from({ length: 3 }, () => connected(port)));
  await eventually('the server holds the 3 connections', async () => (await connections(server)) === 3);
  const refused = await new Promise<string>((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
  });
  t.equal(refused, '', 'the 4th connection is closed without an answer');
  for (const s of held) s.destroy();
  await eventually('the 3 connections are gone', async () => (await connections(server)) === 0);
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
  await eventually('writes are being acknowledged', () => acknowledged.length > 100);
  const started = performance.now();
  await server.drain();
  const drainedIn = performance.now() - started;
  stop = true;
  // A request left hanging would hold this until tap's timeout fails the test.
  await Promise.all(clients);
  t.comment(`drained in ${drainedIn.toFixed(0)} ms; every client request settled: answered or refused`);
  const values = await server.cluster.data.getMany(acknowledged);
  const applied = values.filter((value) => value !== undefined).length;
  t.equal(applied, acknowledged.length, `${applied} of ${acknowledged.length} acknowledged writes are in the nodes`);
  t.comment(`${failed} requests refused or cut after the listener closed`);
  await server.close();
});
