/**
 * Slow and flooding clients against the HTTP port: heads sent a byte at a time, and heads of
 * thousands of headers, from hundreds of connections at once. They are cut at --header-timeout
 * with a 408, the server's memory stays bounded, and an ordinary client beside them is answered
 * throughout.
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { spawnServer } from './fixtures/process.js';

const MIB = 1024 * 1024;

const stats = async (url: string): Promise<{ rssBytes: number }> => ((await (await fetch(`${url}/stats`)).json()) as { process: { rssBytes: number } }).process;

/** A connection that sends `head` `bytesPerTick` at a time every `tickMs`, never ending it; resolves with what it was answered. */
function dribble(port: number, head: Buffer, bytesPerTick: number, tickMs: number): { answer: Promise<string>; socket: Socket } {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const done = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(answer));
    let at = 0;
    const tick = (): void => {
      if (socket.destroyed || at >= head.length) return;
      socket.write(head.subarray(at, at + bytesPerTick));
      at += bytesPerTick;
      setTimeout(tick, tickMs);
    };
    socket.on('connect', tick);
  });
  return { answer: done, socket };
}

/** An ordinary client's GETs, one after another, until `stop()`: how many were answered, and how many not as they should be. */
function ordinaryClient(url: string): { stop: () => Promise<{ ok: number; failed: number }> } {
  let running = true;
  let ok = 0;
  let failed = 0;
  const loop = (async () => {
    while (running) {
      try {
        const response = await fetch(`${url}/get?key=k`);
        if (response.status === 200 && ((await response.json()) as { value: string }).value === 'v') ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { ok, failed };
    },
  };
}

t.test('500 slowloris connections are cut at --header-timeout while an ordinary client is served', async (t) => {
  const server = await spawnServer(['--header-timeout', '2', '--max-connections', '5000']);
  t.teardown(() => server.child.kill('SIGKILL'));
  const port = Number(new URL(server.url).port);
  t.equal((await fetch(`${server.url}/set?key=k&value=v`, { method: 'POST' })).status, 201);
  const before = await stats(server.url);
  const client = ordinaryClient(server.url);
  // A byte every 100 ms: a 1,000-byte head would take 100 s.
  const head = Buffer.from(`GET /get?key=${'s'.repeat(960)} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1');
  const slow = Array.from({ length: 500 }, () => dribble(port, head, 1, 100));
  const answers = await Promise.all(slow.map((s) => s.answer));
  const after = await stats(server.url);
  const { ok, failed } = await client.stop();
  const timedOut = answers.filter((a) => a.startsWith('HTTP/1.1 408') && a.includes('"code":"REQUEST_TIMEOUT"')).length;
  t.equal(timedOut, 500, 'every slow connection answered 408 and closed');
  t.equal(failed, 0, `the ordinary client got every answer right meanwhile (${ok} GETs)`);
  t.ok(ok > 0, 'and was served');
  t.ok(after.rssBytes - before.rssBytes < 64 * MIB, `RSS grew ${((after.rssBytes - before.rssBytes) / MIB).toFixed(1)} MB (bound: 64 MB)`);
});

t.test('a flood of headers from 300 connections: refused or cut, memory bounded, the ordinary client served', async (t) => {
  const server = await spawnServer(['--header-timeout', '2', '--header-memory', '16mb', '--max-connections', '5000']);
  t.teardown(() => server.child.kill('SIGKILL'));
  const port = Number(new URL(server.url).port);
  t.equal((await fetch(`${server.url}/set?key=k&value=v`, { method: 'POST' })).status, 201);
  const before = await stats(server.url);
  const client = ordinaryClient(server.url);
  // 4,000 headers of 60 bytes (240 KB) each, sent 16 KiB every 20 ms, never ended.
  const lines = Array.from({ length: 4000 }, (_, i) => `X-Flood-${i}: ${'f'.repeat(46)}\r\n`).join('');
  const head = Buffer.from(`GET /get?key=k HTTP/1.1\r\nHost: x\r\n${lines}`, 'latin1');
  const flood = Array.from({ length: 300 }, () => dribble(port, head, 16 * 1024, 20));
  const answers = await Promise.all(flood.map((f) => f.answer));
  const after = await stats(server.url);
  const { ok, failed } = await client.stop();
  const refused = answers.filter((a) => /^HTTP\/1\.1 (431|408)/.test(a)).length;
  t.equal(refused, 300, 'every flooding connection answered 431 or 408 and closed');
  t.equal(failed, 0, `the ordinary client got every answer right meanwhile (${ok} GETs)`);
  t.ok(after.rssBytes - before.rssBytes < 128 * MIB, `RSS grew ${((after.rssBytes - before.rssBytes) / MIB).toFixed(1)} MB (bound: 128 MB)`);
});

t.test('a client that pipelines 100,000 requests and never reads holds neither memory nor others', async (t) => {
  const server = await spawnServer([]);
  t.teardown(() => server.child.kill('SIGKILL'));
  const port = Number(new URL(server.url).port);
  t.equal((await fetch(`${server.url}/keys/big`, { method: 'PUT', body: 'b'.repeat(4096) })).status, 201);
  t.equal((await fetch(`${server.url}/set?key=k&value=v`, { method: 'POST' })).status, 201);
  const before = await stats(server.url);
  // 100,000 GETs of a 4 KiB value: 400 MB of answers, none of them read.
  const greedy = connect(port, '127.0.0.1');
  greedy.on('error', () => undefined);
  greedy.pause();
  const requests = Buffer.from('GET /keys/big HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(100_000), 'latin1');
  await new Promise<void>((resolve) => greedy.once('connect', () => resolve()));
  greedy.write(requests);
  const client = ordinaryClient(server.url);
  // The server reads the requests until its answers back up, then stops reading them.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = await stats(server.url);
  const { ok, failed } = await client.stop();
  greedy.destroy();
  t.equal(failed, 0, `the ordinary client got every answer right meanwhile (${ok} GETs)`);
  t.ok(ok > 0, 'and was served');
  t.ok(after.rssBytes - before.rssBytes < 96 * MIB, `RSS grew ${((after.rssBytes - before.rssBytes) / MIB).toFixed(1)} MB with 400 MB of answers unread (bound: 96 MB)`);
});
