import t from 'tap';
import fc from 'fast-check';
import { exchange, parseAnswers } from './fixtures/raw.js';
import { request, startTestServer } from './fixtures/server.js';

/**
 * Hostile input: random methods, paths, percent-encodings (valid and not), duplicate parameters,
 * huge headers, random bytes as keys and bodies, bad JSON and wrong content types, sent as raw
 * bytes over TCP so that nothing on the client side tidies them up. FUZZ_RUNS sets the count
 * (10,000 by default, which is what CI runs).
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);
const CONCURRENCY = 32;
/** Requests sent in one write on one connection, in the pipelined run. */
const PIPELINE = 8;

const escape = fc.oneof(
  fc.constantFrom('%ZZ', '%00', '%', '%2', '%F0%9F', '%C3%28', '%2F', '%25', '%FF%FE', '+', '&&', '=', '?', '#', '%u0041'),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const word = fc.array(fc.oneof(escape, fc.constantFrom('a', 'key', 'x', 'ключ', '😀', '..', '')), { maxLength: 4 }).map((parts) => parts.join(''));
// /flush is left out on purpose: it is a legitimate command that empties the keys checked below.
const path = fc.oneof(
  fc.constantFrom('/', '/get', '/set', '/del', '/mget', '/mset', '/nodes', '/stats', '/metrics', '/health', '/keys', '/keys/', '//get', '/get/'),
  word.map((w) => `/keys/${w}`),
  word.map((w) => `/keys/${w}/ttl`),
  word.map((w) => `/${w}`),
);
const param = fc.tuple(fc.constantFrom('key', 'value', 'ttl', 'nx', 'xx', 'k%65y', ''), word).map(([k, v]) => `${k}=${v}`);
const query = fc.array(param, { maxLength: 5 }).map((ps) => (ps.length ? `?${ps.join('&')}` : ''));
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'TRACE', 'FOO');
const body = fc.oneof(
  fc.constant(''),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.constantFrom('{"keys":', '{"keys":[1,{}]}', '{"entries":{"a":null}}', '{"entries":[]}', 'null', '[]', '{"keys":["a","a"]}', '{"entries":{"x":"y"},"ttl":"soon"}').map((s) => Buffer.from(s)),
  fc.json().map((s) => Buffer.from(s)),
);
const headers = fc.array(
  fc.oneof(
    fc.constantFrom('Content-Type: application/json', 'Content-Type: text/plain', 'Content-Type: multipart/form-data', 'Expect: 100-continue', 'Transfer-Encoding: chunked'),
    fc.nat({ max: 20_000 }).map((n) => `X-Big: ${'h'.repeat(n)}`),
  ),
  { maxLength: 3 },
);
const rawRequest = fc.record({ method, path, query, body, headers });

type RawRequest = typeof rawRequest extends fc.Arbitrary<infer R> ? R : never;

interface Outcome {
  status: number;
  text: string;
}

/** The request as bytes; `close` asks the server to close the connection after it. */
function bytesOf(r: RawRequest, close: boolean): Buffer {
  const bodyBytes = typeof r.body === 'string' ? Buffer.from(r.body) : Buffer.from(r.body);
  const chunked = r.headers.some((h) => h.startsWith('Transfer-Encoding'));
  const head =
    `${r.method} ${r.path}${r.query} HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}` +
    r.headers.map((h) => `${h}\r\n`).join('') +
    (chunked ? '' : `Content-Length: ${bodyBytes.length}\r\n`) +
    '\r\n';
  return chunked
    ? Buffer.concat([Buffer.from(head), Buffer.from(`${bodyBytes.length.toString(16)}\r\n`), bodyBytes, Buffer.from('\r\n0\r\n\r\n')])
    : Buffer.concat([Buffer.from(head), bodyBytes]);
}

async function send(port: number, r: RawRequest): Promise<Outcome> {
  const payload = bytesOf(r, true);
  // Skip interim answers (100 Continue) to the final one.
  const text = (await exchange(port, payload)).toString('latin1').replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, text };
}

t.test(`${RUNS} hostile requests: no 5xx, no crash, no key lost`, async (t) => {
  const server = await startTestServer({ maxValue: 64 * 1024 });
  t.teardown(() => server.close());
  const port = Number(new URL(server.url).port);
  const good = Array.from({ length: 200 }, (_, i) => [`good:${i}:${'Z'.repeat(i % 7)}`, `value ${i} ✓`] as const);
  for (const [key, value] of good) await request(server.url, 'POST', `/set?key=${encodeURIComponent(key)}&value=${encodeURIComponent(value)}`);

  const requests = fc.sample(rawRequest, { numRuns: RUNS, seed: Number(process.env['FUZZ_SEED'] ?? 42) });
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  const closedUnanswered: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const r = requests[next++]!;
      const { status, text } = await send(port, r);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
      if (status === 0) closedUnanswered.push(`${r.method} ${r.path}${r.query} [${r.headers.map((h) => h.slice(0, 30)).join('; ')}] body ${r.body.length}`);
      if (status >= 500) failures.push(`${status} for ${r.method} ${r.path}${r.query}: ${bodyText.slice(0, 200)}`);
      if (/\bat .+\.(js|ts):\d+|\/work\/|node_modules|dist\//.test(bodyText)) failures.push(`internals leaked for ${r.method} ${r.path}: ${bodyText.slice(0, 200)}`);
      // Every error, raised by a route or below them (node's parser, a head too large), is JSON.
      if (status >= 400 && r.method !== 'HEAD' && !/^\{"error":".*","code":"[A-Z_]+"\}\n$/s.test(bodyText)) {
        failures.push(`error without error/code for ${r.method} ${r.path}${r.query}: ${status} ${bodyText.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  t.same(failures.slice(0, 10), [], `${failures.length} bad answers`);
  // Each request is sent with a half-close after it (socket.end), which node answers only with
  // httpAllowHalfOpen set (src/http/server.ts): every request gets an answer.
  t.same(closedUnanswered.slice(0, 5), [], `${closedUnanswered.length} closed without an answer`);
  t.comment(`status codes: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  t.equal([...statuses.values()].reduce((a, b) => a + b, 0), RUNS, 'every request accounted for');
  // The fuzz may add and remove nodes (POST /nodes, DELETE /nodes/:id are open here): none may die.
  await server.cluster.membership.settled();
  const nodes = (await request(server.url, 'GET', '/nodes')).json as { nodes: Array<{ id: string; state: string; restarts: number }> };
  t.ok(nodes.nodes.length >= 1, `${nodes.nodes.length} nodes`);
  t.same(nodes.nodes.filter((n) => n.state !== 'up' || n.restarts !== 0), [], 'no node crashed');
  t.equal((await request(server.url, 'GET', '/health')).status, 200);
  const got = (await request(server.url, 'POST', '/mget', JSON.stringify({ keys: good.map(([k]) => k) }))).json as {
    values: Record<string, string | null>;
  };
  t.equal(good.filter(([k, v]) => got.values[k] === v).length, good.length, 'every key written before reads back the same');
});

t.test(`${RUNS} hostile requests pipelined, ${PIPELINE} on a connection: no 5xx, no crash, no key lost`, async (t) => {
  const server = await startTestServer({ maxValue: 64 * 1024 });
  t.teardown(() => server.close());
  const good = Array.from({ length: 100 }, (_, i) => [`good:${i}`, `value ${i} ✓`] as const);
  for (const [key, value] of good) await request(server.url, 'POST', `/set?key=${encodeURIComponent(key)}&value=${encodeURIComponent(value)}`);
  const requests = fc.sample(rawRequest, { numRuns: RUNS, seed: Number(process.env['FUZZ_SEED'] ?? 42) + 1 });
  const failures: string[] = [];
  let answered = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const batch = requests.slice(next, next + PIPELINE);
      next += PIPELINE;
      // A malformed request ends its connection (its bytes cannot be framed): the answers stop there.
      const answers = parseAnswers(await exchange(server.port, Buffer.concat(batch.map((r) => bytesOf(r, false)))), batch.map((r) => r.method));
      answered += answers.length;
      answers.forEach((answer, i) => {
        if (answer.status >= 500) failures.push(`${answer.status} for ${batch[i]!.method} ${batch[i]!.path}${batch[i]!.query} (#${i} of its pipeline): ${answer.body.toString().slice(0, 200)}`);
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.same(failures.slice(0, 10), [], `${failures.length} 5xx among ${answered} answers`);
  t.comment(`${answered} of ${RUNS} pipelined requests answered before a malformed one ended their connection`);
  await server.cluster.membership.settled();
  const nodes = (await request(server.url, 'GET', '/nodes')).json as { nodes: Array<{ state: string; restarts: number }> };
  t.same(nodes.nodes.filter((n) => n.state !== 'up' || n.restarts !== 0), [], 'no node crashed');
  const got = (await request(server.url, 'POST', '/mget', JSON.stringify({ keys: good.map(([k]) => k) }))).json as { values: Record<string, string | null> };
  t.equal(good.filter(([k, v]) => got.values[k] === v).length, good.length, 'every key written before reads back the same');
});
