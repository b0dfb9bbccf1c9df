import t from 'tap';
import { request as httpRequest } from 'node:http';
import { spawnServer } from './fixtures/process.js';
import { firstAnswerHead } from './fixtures/raw.js';

const MIB = 1024 * 1024;
const rss = async (url: string): Promise<number> =>
  ((await (await fetch(`${url}/stats`)).json()) as { process: { rssBytes: number } }).process.rssBytes;

/** PUT with `Expect: 100-continue`, as curl sends it for large bodies: the body follows a 100 only. */
function putExpecting(url: URL, path: string, size: number): Promise<{ status: number; sentBody: boolean }> {
  return new Promise((resolve, reject) => {
    let sentBody = false;
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: 'PUT',
      path,
      headers: { 'content-length': size, expect: '100-continue' },
    });
    req.on('continue', () => {
      sentBody = true;
      req.end(Buffer.alloc(size, 0x61));
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, sentBody }));
      req.destroy();
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

/** PUT without Expect: headers and the whole body at once, then read the answer's status line start. */
async function putRaw(url: URL, path: string, size: number): Promise<string> {
  const head = await firstAnswerHead(Number(url.port), `PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`, Buffer.alloc(size, 0x62));
  return head.slice(0, 12);
}

t.test('2 MiB bodies over --max-value 1mb get 413 and do not grow the RSS', async (t) => {
  const server = await spawnServer(['--max-value', '1mb']);
  t.teardown(() => server.child.kill('SIGKILL'));
  const url = new URL(server.url);
  await putExpecting(url, '/keys/warm', 2 * MIB);
  await putRaw(url, '/keys/warm', 2 * MIB);
  const before = await rss(server.url);
  for (let i = 0; i < 10; i++) {
    t.same(await putExpecting(url, `/keys/e${i}`, 2 * MIB), { status: 413, sentBody: false }, 'refused before the body is sent');
  }
  const growth = (await rss(server.url)) - before;
  t.ok(growth < 2 * MIB, `RSS grew ${(growth / 1024).toFixed(0)} KiB over ten 2 MiB bodies`);
  for (let i = 0; i < 10; i++) {
    t.equal(await putRaw(url, `/keys/r${i}`, 2 * MIB), 'HTTP/1.1 413', 'without Expect: refused as the body streams in');
  }
  t.comment(`after ten more sent whole without Expect, RSS is ${(((await rss(server.url)) - before) / 1024).toFixed(0)} KiB above the start`);
  t.equal((await fetch(`${server.url}/keys/e0`)).status, 404, 'nothing was stored');
  const fits = await putExpecting(url, '/keys/fits', MIB);
  t.same(fits, { status: 201, sentBody: true }, 'a body at the limit is asked for and stored');
});
