import t from 'tap';
import fc from 'fast-check';
import { request, startTestServer } from './fixtures/server.js';

/**
 * A random sequence of set / get / delete / ttl operations through the HTTP API gives the same
 * answers as a plain Map, its reads answered from the nodes' shared memory. TTLs are long (hours), so time never decides an answer: the model
 * tracks only whether a key has one.
 */
interface Entry {
  value: string;
  ttl: boolean;
}

const key = fc.constantFrom('a', 'b', 'c', 'ключ', 'x/y', 'sp ace', '😀', '%41');
const text = fc.string({ unit: 'binary', minLength: 0, maxLength: 40 });
const op = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key, value: text, ttl: fc.boolean(), mode: fc.constantFrom('', 'nx', 'xx') }),
  fc.record({ kind: fc.constant('seedSet' as const), key, value: text.filter((v) => v.length > 0), ttl: fc.boolean() }),
  fc.record({ kind: fc.constantFrom('get' as const, 'seedGet' as const, 'delete' as const, 'ttl' as const, 'head' as const), key }),
);

t.test('HTTP API behaves like a Map', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const base = server.url;
  const path = (k: string) => `/keys/${encodeURIComponent(k)}`;
  let checked = 0;
  let reads = 0;

  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
      await request(base, 'POST', '/flush');
      const model = new Map<string, Entry>();
      for (const o of ops) {
        checked++;
        const held = model.get(o.key);
        switch (o.kind) {
          case 'put': {
            const query = [o.ttl ? 'ttl=36000' : '', o.mode].filter(Boolean).join('&');
            const r = await fetch(`${base}${path(o.key)}${query ? `?${query}` : ''}`, { method: 'PUT', body: o.value });
            const expected = o.mode === 'nx' && held ? 409 : o.mode === 'xx' && !held ? 404 : 201;
            if (r.status !== expected) throw new Error(`PUT ${o.key} ${o.mode}: ${r.status}, expected ${expected}`);
            if (expected === 201) model.set(o.key, { value: o.value, ttl: o.ttl });
            break;
          }
          case 'seedSet': {
            const ttl = o.ttl ? '&ttl=36000' : '';
            const r = await request(base, 'POST', `/set?key=${encodeURIComponent(o.key)}&value=${encodeURIComponent(o.value)}${ttl}`);
            if (r.status !== 201) throw new Error(`/set ${o.key}: ${r.status}`);
            model.set(o.key, { value: o.value, ttl: o.ttl });
            break;
          }
          case 'get': {
            reads++;
            const r = await fetch(`${base}${path(o.key)}`);
            const body = await r.text();
            if (held === undefined ? r.status !== 404 : r.status !== 200 || body !== held.value) {
              throw new Error(`GET ${o.key}: ${r.status} ${JSON.stringify(body)}, expected ${JSON.stringify(held)}`);
            }
            break;
          }
          case 'seedGet': {
            reads++;
            const r = await request(base, 'GET', `/get?key=${encodeURIComponent(o.key)}`);
            const value = (r.json as { value?: string } | undefined)?.value;
            if (held === undefined ? r.status !== 404 : r.status !== 200 || value !== held.value) {
              throw new Error(`/get ${o.key}: ${r.status} ${r.text}, expected ${JSON.stringify(held)}`);
            }
            break;
          }
          case 'head': {
            reads++;
            const r = await fetch(`${base}${path(o.key)}`, { method: 'HEAD' });
            if (r.status !== (held ? 200 : 404)) throw new Error(`HEAD ${o.key}: ${r.status}`);
            break;
          }
          case 'delete': {
            const r = await fetch(`${base}${path(o.key)}`, { method: 'DELETE' });
            if (r.status !== (held ? 204 : 404)) throw new Error(`DELETE ${o.key}: ${r.status}`);
            model.delete(o.key);
            break;
          }
          case 'ttl': {
            const r = await request(base, 'GET', `${path(o.key)}/ttl`);
            const ttl = (r.json as { ttl?: number | null } | undefined)?.ttl;
            const ok = held === undefined ? r.status === 404 : r.status === 200 && (held.ttl ? typeof ttl === 'number' && ttl > 35_000 : ttl === null);
            if (!ok) throw new Error(`ttl ${o.key}: ${r.status} ${r.text}, expected ${JSON.stringify(held)}`);
            break;
          }
        }
      }
    }),
    { numRuns: 200 },
  );
  t.ok(checked >= 200, `${checked} operations matched the model`);
  // The reads went through the nodes' shared memory: answered on the HTTP thread, no message.
  const local = server.cluster.membership.members.all().reduce((sum, node) => sum + node.client.reader.hits + node.client.reader.misses, 0);
  t.ok(local >= reads * 0.95, `${local} of ${reads} reads answered from shared memory`);
});
