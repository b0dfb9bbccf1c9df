import t from 'tap';
import { exchange, parseAnswers } from './fixtures/raw.js';
import { request, startTestServer } from './fixtures/server.js';

const MIB = 1024 * 1024;

/** One raw request on its own connection; its answer as the client frames it. */
async function raw(port: number, text: string | Buffer, method = 'GET'): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const [answer] = parseAnswers(await exchange(port, text), [method]);
  if (answer === undefined) return { status: 0, headers: {}, body: '' };
  return { status: answer.status, headers: answer.headers, body: answer.body.toString('latin1') };
}

t.test('the HTTP layer keeps the README promises', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const port = server.port;

  t.test('/set takes a value of --max-value in its query string; one byte more is a JSON 413', async (t) => {
    const value = 'v'.repeat(MIB);
    const set = await request(server.url, 'POST', `/set?key=big&value=${value}`);
    t.equal(set.status, 201);
    const got = await request(server.url, 'GET', '/get?key=big');
    t.equal((got.json as { value: string }).value, value, '1 MiB back through /get');
    const over = await request(server.url, 'POST', `/set?key=big2&value=${value}v`);
    t.equal(over.status, 413);
    t.match(over.json, { code: 'VALUE_TOO_LARGE' });
    // Percent-encoded, a 1 MiB value of non-ASCII bytes is three times as long in the query.
    const encoded = await request(server.url, 'POST', `/set?key=enc&value=${'%C3%A9'.repeat(MIB / 2)}`);
    t.equal(encoded.status, 201, '1 MiB of UTF-8 (512 Ki "é") percent-encoded: 3 MiB of query');
    const huge = await raw(port, `POST /set?key=k&value=${'v'.repeat(4 * MIB)} HTTP/1.1\r\nHost: x\r\n\r\n`, 'POST');
    t.equal(huge.status, 431, 'a head past the limit is refused');
    t.match(JSON.parse(huge.body), { code: 'HEADERS_TOO_LARGE', error: /PUT \/keys\/:key/ });
    // The header budget and node's parser both refuse such a head: the second refusal must not
    // reset the connection under the first one's answer (it did, about one time in fifteen).
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push((await raw(port, `POST /set?key=k&value=${'v'.repeat(4 * MIB)} HTTP/1.1\r\nHost: x\r\n\r\n`, 'POST')).status);
    t.same(statuses, new Array(20).fill(431), 'each of 20 such heads gets its answer');
  });

  t.test('errors below the routes are JSON with a code, and every error body ends with a newline', async (t) => {
    const cases: Array<[string, string, number, string]> = [
      ['a bad header line', 'GET /get?key=a HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 400, 'BAD_REQUEST'],
      ['an unknown method', 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'BAD_REQUEST'],
      ['a bad chunk size', 'PUT /keys/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n', 400, 'BAD_REQUEST'],
      ['an unknown route', 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n', 404, 'NOT_FOUND'],
      ['HTTP/1.1 without Host (a hot route)', 'GET /get?key=a HTTP/1.1\r\n\r\n', 400, 'BAD_REQUEST'],
      ['HTTP/1.1 without Host (a Hono route)', 'POST /mget HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}', 400, 'BAD_REQUEST'],
    ];
    for (const [what, text, status, code] of cases) {
      const answer = await raw(port, text);
      t.equal(answer.status, status, what);
      t.equal(answer.headers['content-type'], 'application/json', `${what}: JSON`);
      t.match(JSON.parse(answer.body), { code, error: String }, `${what}: error and code`);
      t.ok(answer.body.endsWith('}\n'), `${what}: ends with a newline`);
    }
    const hostless = await raw(port, 'GET /health HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    t.equal(hostless.headers.connection, 'close', 'a request without Host closes its connection (the next is not read)');
    t.equal((await raw(port, 'GET /health HTTP/1.0\r\n\r\n')).status, 200, 'HTTP/1.0 needs no Host');
    t.equal((await request(server.url, 'GET', '/keys/a/b/c')).text.endsWith('\n'), true, 'the /keys hint 404 too');
    t.equal((await request(server.url, 'DELETE', '/nodes/node-9')).text.endsWith('}\n'), true, 'and the admin routes');
  });

  t.test('GET routes answer HEAD', async (t) => {
    await request(server.url, 'POST', '/set?key=h&value=hello');
    for (const path of ['/get?key=h', '/keys/h', '/keys/h/ttl', '/', '/stats', '/health']) {
      const answer = await raw(port, `HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, 'HEAD');
      t.equal(answer.status, 200, `HEAD ${path}`);
      t.equal(answer.body, '', 'no body');
    }
    t.equal((await raw(port, 'HEAD /get?key=absent HTTP/1.1\r\nHost: x\r\n\r\n', 'HEAD')).status, 404);
  });

  t.test('a request target in absolute form is served (RFC 9112 3.2.2)', async (t) => {
    await request(server.url, 'POST', '/set?key=abs&value=1');
    const answer = await raw(port, 'GET http://cache.example:8080/get?key=abs HTTP/1.1\r\nHost: cache.example:8080\r\n\r\n');
    t.equal(answer.status, 200);
    t.match(JSON.parse(answer.body), { key: 'abs', value: '1' });
    t.equal((await raw(port, 'GET http://cache.example/health HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200, 'a Hono route too');
  });

  t.test('a transfer coding other than chunked is a 501, and nothing is stored', async (t) => {
    const answer = await raw(port, 'PUT /keys/gz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 'PUT');
    t.equal(answer.status, 501);
    t.match(JSON.parse(answer.body), { code: 'NOT_IMPLEMENTED', error: /gzip, chunked/ });
    t.equal((await request(server.url, 'GET', '/keys/gz')).status, 404);
    const chunked = await raw(port, 'PUT /keys/ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 'PUT');
    t.equal(chunked.status, 201, 'chunked alone is fine');
    t.equal((await request(server.url, 'GET', '/keys/ch')).text, 'abc');
  });

  t.test('/ answers GET and HEAD only', async (t) => {
    for (const method of ['PUT', 'DELETE', 'POST']) {
      const answer = await request(server.url, method, '/');
      t.equal(answer.status, 405, method);
      t.equal(answer.headers.get('allow'), 'GET, HEAD');
    }
  });

  t.test('/metrics counts requests by route and status, with a latency histogram per route', async (t) => {
    await request(server.url, 'GET', '/get?key=h');
    await request(server.url, 'GET', '/get?key=absent');
    const text = (await request(server.url, 'GET', '/metrics')).text;
    const count = (route: string, status: number): number =>
      Number(new RegExp(`cache_http_requests_total\\{route="${route.replace(/[/?]/g, '\\$&')}",status="${status}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    t.ok(count('/get', 200) >= 1, '/get 200 counted');
    t.ok(count('/get', 404) >= 1, '/get 404 counted');
    t.match(text, /cache_http_request_duration_seconds_bucket\{le="\+Inf",route="\/get"\} \d+/);
    t.match(text, /cache_http_request_duration_seconds_count\{route="\/keys\/:key"\} \d+/);
    const before = count('/get', 200);
    await request(server.url, 'GET', '/get?key=h');
    const after = (await request(server.url, 'GET', '/metrics')).text;
    t.match(after, new RegExp(`cache_http_requests_total\\{route="/get",status="200"\\} ${before + 1}\\b`), 'one more GET, one more count');
  });
});
