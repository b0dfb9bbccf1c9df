import t from 'tap';
import { firstAnswerHead } from './fixtures/raw.js';
import { ownerOf, request, startTestServer } from './fixtures/server.js';
import { sleep } from './fixtures/wait.js';


t.test('resource API', async (t) => {
  const server = await startTestServer({ maxValue: 64 * 1024 });
  t.teardown(() => server.close());
  const base = server.url;

  t.test('binary values round-trip byte for byte, with the owner in X-Cache-Node', async (t) => {
    const bytes = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));
    const put = await fetch(`${base}/keys/bin`, { method: 'PUT', body: bytes });
    t.equal(put.status, 201);
    t.same(await put.json(), { message: 'Value set successfully', key: 'bin', node: ownerOf(server, 'bin') });
    const got = await fetch(`${base}/keys/bin`);
    t.equal(got.status, 200);
    t.equal(got.headers.get('content-type'), 'application/octet-stream');
    t.equal(got.headers.get('x-cache-node'), ownerOf(server, 'bin'));
    t.same(Buffer.from(await got.arrayBuffer()), bytes, 'identical bytes 0x00-0xFF');
    const empty = await fetch(`${base}/keys/empty`, { method: 'PUT', body: '' });
    t.equal(empty.status, 201, 'an empty value is a value');
    t.equal(await (await fetch(`${base}/keys/empty`)).text(), '');
  });

  t.test('HEAD answers 200 or 404 with no body', async (t) => {
    await fetch(`${base}/keys/h`, { method: 'PUT', body: 'hello' });
    const head = await fetch(`${base}/keys/h`, { method: 'HEAD' });
    t.equal(head.status, 200);
    t.equal(head.headers.get('content-length'), '5');
    t.equal(await head.text(), '');
    t.equal((await fetch(`${base}/keys/nope`, { method: 'HEAD' })).status, 404);
  });

  t.test('DELETE is 204 when the key existed, 404 when not', async (t) => {
    await fetch(`${base}/keys/d`, { method: 'PUT', body: 'x' });
    t.equal((await fetch(`${base}/keys/d`, { method: 'DELETE' })).status, 204);
    const again = await request(base, 'DELETE', '/keys/d');
    t.equal(again.status, 404);
    t.same(again.json, { error: 'Key not found', code: 'KEY_NOT_FOUND' });
  });

  t.test('keys are decoded path segments; %2F makes a slash; malformed escapes are 400', async (t) => {
    const key = 'a/b c?d#e%f ключ';
    await fetch(`${base}/keys/${encodeURIComponent(key)}`, { method: 'PUT', body: 'slashy' });
    t.equal(await (await fetch(`${base}/keys/${encodeURIComponent(key)}`)).text(), 'slashy');
    t.match((await request(base, 'GET', `/get?key=${encodeURIComponent(key)}`)).json, { key, value: 'slashy' }, 'the same key through the seed API');
    t.equal((await request(base, 'GET', '/keys/a/b')).status, 404, 'an unencoded slash is another path');
    t.match((await request(base, 'GET', '/keys/%ZZ')).json, { code: 'BAD_REQUEST' });
    t.equal((await request(base, 'PUT', `/keys/${'k'.repeat(1025)}`, 'v')).status, 400, 'key over 1024 bytes');
    t.match(await request(base, 'PUT', '/keys/', 'v'), { status: 400, json: { code: 'MISSING_PARAMETER' } }, 'an empty key is refused');
  });

  t.test('nx and xx', async (t) => {
    t.equal((await request(base, 'PUT', '/keys/n?xx', 'v')).status, 404, 'xx on an absent key');
    t.equal((await request(base, 'GET', '/keys/n')).status, 404, 'and nothing was stored');
    t.equal((await request(base, 'PUT', '/keys/n?nx', 'first')).status, 201);
    const conflict = await request(base, 'PUT', '/keys/n?nx=true', 'second');
    t.equal(conflict.status, 409);
    t.same(conflict.json, { error: 'Key already exists', code: 'KEY_EXISTS' });
    t.equal((await request(base, 'PUT', '/keys/n?xx=1', 'third')).status, 201);
    t.equal((await request(base, 'GET', '/keys/n')).text, 'third');
    t.equal((await request(base, 'PUT', '/keys/n?nx&xx', 'v')).status, 400);
    t.equal((await request(base, 'PUT', '/keys/n?nx=maybe', 'v')).status, 400);
  });

  t.test('ttl: set, read back, expire to the millisecond', async (t) => {
    await request(base, 'PUT', '/keys/short?ttl=0.3', 'v');
    await request(base, 'PUT', '/keys/forever', 'v');
    const ttl = await request(base, 'GET', '/keys/short/ttl');
    t.equal(ttl.status, 200);
    const body = ttl.json as { ttl: number; ttlMs: number };
    t.equal(body.ttl, 1, 'whole seconds, rounded up');
    t.ok(body.ttlMs > 0 && body.ttlMs <= 300, `ttlMs ${body.ttlMs}, of 300`);
    t.same((await request(base, 'GET', '/keys/forever/ttl')).json, { ttl: null, ttlMs: null });
    t.equal((await request(base, 'GET', '/keys/absent/ttl')).status, 404);
    await request(base, 'POST', '/set?key=seedttl&value=v&ttl=0.3');
    await sleep(350);
    t.equal((await request(base, 'GET', '/keys/short')).status, 404, 'expired through /keys');
    t.equal((await request(base, 'GET', '/get?key=seedttl')).status, 404, 'expired through /get');
    t.equal((await request(base, 'GET', '/keys/short/ttl')).status, 404);
    t.equal((await request(base, 'GET', '/keys/forever')).status, 200);
  });

  t.test('bad ttl values are 400 with a message', async (t) => {
    for (const ttl of ['-1', 'abc', '0', '1e3', '315360001', '1.2345', '']) {
      const r = await request(base, 'PUT', `/keys/x?ttl=${ttl}`, 'v');
      t.equal(r.status, 400, `ttl=${ttl}`);
      t.match(r.json, { code: 'BAD_REQUEST', error: /ttl must be/ });
      t.equal((await request(base, 'POST', `/set?key=x&value=v&ttl=${ttl}`)).status, 400, `/set ttl=${ttl}`);
    }
    t.equal((await request(base, 'PUT', '/keys/x?ttl=315360000', 'v')).status, 201, 'ten years is the limit');
  });

  t.test('UTF-8 values cross between /set and /keys', async (t) => {
    await request(base, 'POST', `/set?key=u8&value=${encodeURIComponent('héllo wörld ✓')}`);
    t.equal(await (await fetch(`${base}/keys/u8`)).text(), 'héllo wörld ✓');
    await fetch(`${base}/keys/u9`, { method: 'PUT', body: 'naïve café' });
    t.match((await request(base, 'GET', '/get?key=u9')).json, { value: 'naïve café' });
  });

  t.test('a body over --max-value is 413 before it is read whole', async (t) => {
    const big = Buffer.alloc(64 * 1024 + 1, 1);
    const r = await fetch(`${base}/keys/big`, { method: 'PUT', body: big });
    t.equal(r.status, 413);
    t.match(await r.json(), { code: 'VALUE_TOO_LARGE' });
    t.equal((await fetch(`${base}/keys/fits`, { method: 'PUT', body: Buffer.alloc(64 * 1024, 1) })).status, 201, 'the limit itself fits');
    t.equal((await request(base, 'POST', `/set?key=q&value=${'v'.repeat(100)}`)).status, 201);
  });

  t.test('413 arrives while a large body is still trickling in', async (t) => {
    const answer = await firstAnswerHead(Number(new URL(base).port), `PUT /keys/slow HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`, Buffer.alloc(1024, 7));
    t.match(answer, /^HTTP\/1\.1 413/, 'answered with 1 KiB of 2 MiB sent');
    t.equal((await request(base, 'GET', '/keys/slow')).status, 404);
  });

  t.test('a chunked body without a length is cut off once it passes the limit', async (t) => {
    const chunks = async function* () {
      for (let i = 0; i < 100; i++) yield Buffer.alloc(1024, 1);
    };
    const r = await fetch(`${base}/keys/chunked`, { method: 'PUT', body: chunks(), duplex: 'half' } as RequestInit);
    t.equal(r.status, 413);
    t.equal((await request(base, 'GET', '/keys/chunked')).status, 404);
  });

  t.test('wrong methods are 405 with Allow', async (t) => {
    const r = await request(base, 'POST', '/keys/x');
    t.equal(r.status, 405);
    t.equal(r.headers.get('allow'), 'GET, HEAD, PUT, DELETE');
    t.equal((await request(base, 'PUT', '/keys/x/ttl', 'v')).status, 405);
  });
});

t.test('a value larger than a node share is 413', async (t) => {
  const server = await startTestServer({ nodes: 2, maxMemory: 64 * 1024, maxValue: 1024 * 1024 });
  t.teardown(() => server.close());
  const r = await request(server.url, 'PUT', '/keys/x', 'v'.repeat(40 * 1024));
  t.equal(r.status, 413);
  t.match(r.json, { code: 'VALUE_TOO_LARGE', error: /memory share/ });
});
