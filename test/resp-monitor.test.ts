import t from 'tap';
import { Redis } from 'ioredis';
import { connected } from './fixtures/raw.js';
import { decodeAll, encodeCommand, rawExchange } from './fixtures/resp.js';
import { startTestServer } from './fixtures/server.js';
import { sleep } from './fixtures/wait.js';

/** A raw MONITOR connection: every line it has been sent so far. */
async function rawMonitor(port: number): Promise<{ lines: () => string[]; pause: () => void; end: () => void }> {
  const socket = await connected(port);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.write(encodeCommand('MONITOR'));
  while (!text.startsWith('+OK\r\n')) await sleep(5);
  return {
    lines: () => decodeAll(text).replies.slice(1) as string[],
    pause: () => socket.pause(),
    end: () => socket.destroy(),
  };
}

// MONITOR as Redis's: a line per command of every RESP client, quoted as Redis quotes, secrets
// redacted, and a monitor that does not read dropped at its limit.
t.test('MONITOR', async (t) => {
  const server = await startTestServer({ respPort: 0, subscriberBuffer: 64 * 1024 });
  const port = server.resp!.port;
  const redis = new Redis({ port, host: '127.0.0.1' });
  t.teardown(async () => {
    redis.disconnect();
    await server.close();
  });
  const monitors = (): number => server.resp!.monitors;

  t.test('each command, as sent, with its time and its client', async (t) => {
    const monitor = await rawMonitor(port);
    const id = await redis.client('ID');
    const address = String(await redis.client('INFO')).match(/addr=(\S+)/)![1]!;
    await rawExchange(port, Buffer.concat([encodeCommand('set', 'a b', 'x\ty"\\\u0001é'), encodeCommand('AUTH', 'secret'), encodeCommand('CONFIG', 'GET', 'maxmemory')]), 3);
    await redis.multi().set('m:k', '1').incr('m:k').exec();
    await sleep(50);
    const lines = monitor.lines();
    const lineOf = (text: string): string | undefined => lines.find((line) => line.includes(text));
    t.match(lineOf('"set"'), /^\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] "set" "a b" "x\\ty\\"\\\\\\x01\\xc3\\xa9"$/, 'quoted as sdscatrepr: escapes, and bytes over 0x7e in hex');
    t.match(lineOf('"AUTH"'), / "AUTH" "\(redacted\)"$/, "AUTH's password is never shown");
    t.notOk(lineOf('CONFIG'), 'admin commands are not shown');
    const transaction = lines.filter((line) => line.includes(`[0 ${address}]`)).map((line) => line.split('] ')[1]);
    t.same(transaction.slice(-4), ['"multi"', '"set" "m:k" "1"', '"incr" "m:k"', '"exec"'], 'EXEC after the commands it ran, as Redis shows it');
    t.ok(id > 0);
    monitor.end();
  });

  t.test("ioredis's monitor() reads the stream", async (t) => {
    const monitor = await redis.monitor();
    t.teardown(() => monitor.disconnect());
    const seen = new Promise<string[]>((resolve) => monitor.on('monitor', (_time: string, args: string[]) => args[1] === 'io:key' && resolve(args)));
    await redis.set('io:key', 'value');
    t.same(await seen, ['set', 'io:key', 'value']);
  });

  t.test('MONITOR inside EXEC is refused as Redis refuses it', async (t) => {
    const { replies } = await rawExchange(port, 'MULTI\r\nMONITOR\r\nPING\r\nEXEC\r\nPING\r\n', 5);
    t.same(replies, ['OK', 'QUEUED', 'QUEUED', [{ error: "ERR MONITOR isn't allowed for DENY BLOCKING client" }, 'PONG'], 'PONG']);
  });

  t.test('a monitor that stops reading is dropped at --subscriber-buffer; RESET and a close end the others', async (t) => {
    while (monitors() > 0) await sleep(10);
    const stalled = await rawMonitor(port);
    const reading = await rawMonitor(port);
    stalled.pause();
    const value = 'v'.repeat(10_000);
    let rounds = 0;
    for (; rounds < 200 && monitors() === 2; rounds++) {
      const pipeline = redis.pipeline();
      for (let i = 0; i < 50; i++) pipeline.set(`mon:${i}`, value);
      await pipeline.exec();
    }
    t.equal(monitors(), 1, `the stalled monitor was cut off (after ${rounds} rounds of 50 commands of 10 kB), the one that reads goes on`);
    t.ok(reading.lines().length >= 50, `${reading.lines().length} lines to the one reading`);
    const reset = await rawExchange(port, 'MONITOR\r\nRESET\r\nPING\r\n', 3);
    t.same(reset.replies, ['OK', 'RESET', 'PONG'], 'RESET ends monitoring: PING is answered, not streamed');
    reading.end();
    await sleep(50);
    t.equal(monitors(), 0, 'none left once their connections are gone');
    t.equal(await redis.set('after', 'x'), 'OK');
  });
});
