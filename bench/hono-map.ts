/**
 * The baseline a user would otherwise write: a Hono app holding one Map on the main thread, with
 * the cache's routes and answers (no nodes, no limits, no eviction). `node hono-map.js [port]`.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const map = new Map<string, string>();
const app = new Hono();
app.get('/get', (c) => {
  const key = c.req.query('key') ?? '';
  const value = map.get(key);
  return value === undefined ? c.json({ error: 'Key not found' }, 404) : c.json({ key, value, node: 'node-1' });
});
app.post('/set', (c) => {
  const key = c.req.query('key');
  const value = c.req.query('value');
  if (!key || !value) return c.json({ error: "Both 'key' and 'value' parameters are required" }, 400);
  map.set(key, value);
  return c.json({ message: 'Value set successfully', key, node: 'node-1' }, 201);
});
app.put('/keys/:key', async (c) => {
  map.set(c.req.param('key'), await c.req.text());
  return c.json({ message: 'Value set successfully', key: c.req.param('key'), node: 'node-1' }, 201);
});
app.get('/keys/:key', (c) => {
  const value = map.get(c.req.param('key'));
  return value === undefined ? c.json({ error: 'Key not found' }, 404) : c.body(value, 200, { 'content-type': 'application/octet-stream' });
});
app.post('/mget', async (c) => {
  const { keys } = await c.req.json<{ keys: string[] }>();
  return c.json({ values: Object.fromEntries(keys.map((key) => [key, map.get(key) ?? null])) });
});
app.post('/mset', async (c) => {
  const { entries } = await c.req.json<{ entries: Record<string, string> }>();
  for (const [key, value] of Object.entries(entries)) map.set(key, value);
  return c.json({ stored: Object.keys(entries).length });
});

const server = serve({ fetch: app.fetch, port: Number(process.argv[2] ?? 0), hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`"hono-map listening on http://127.0.0.1:${info.port}"\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
