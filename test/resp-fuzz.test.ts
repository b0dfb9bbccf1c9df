import t from 'tap';
import { connected } from './fixtures/raw.js';
import { decodeAll, encodeCommand } from './fixtures/resp.js';
import { prng } from './fixtures/prng.js';
import { startTestServer } from './fixtures/server.js';
import { COMMANDS } from '../src/resp/server.js';

// CLIENT KILL would cut the other fuzzing connections: everything else is fair game.
const NAMES = [...COMMANDS.keys()].filter((name) => name !== 'client');
const WORDS = ['EX', 'PX', 'NX', 'XX', 'GET', 'KEEPTTL', 'GT', 'LT', '0', '-1', '1', '9223372036854775807', '-9223372036854775808', '99999999999999999999', '1.5', 'inf', 'nan', '', 'fuzz:a', 'fuzz:b', '*', '[a-', '\\'];

function frame(next: () => number): Buffer {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const bytes = (length: number): Buffer => Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
  const command = (): Buffer => {
    const args: Array<string | Buffer> = [pick(NAMES)];
    const count = Math.floor(next() * 6);
    for (let i = 0; i < count; i++) args.push(next() < 0.7 ? pick(WORDS) : bytes(Math.floor(next() * 40)));
    return encodeCommand(...args);
  };
  switch (Math.floor(next() * 8)) {
    case 0:
      return bytes(1 + Math.floor(next() * 200)); // garbage
    case 1: {
      const whole = command();
      return whole.subarray(0, Math.floor(next() * whole.length)); // truncated
    }
    case 2:
      return Buffer.from(`*${pick(['-1', '-7', '0', '2147483648', '99999999999', 'x', ''])}\r\n`); // odd counts
    case 3:
      return Buffer.from(`*2\r\n$3\r\nGET\r\n$${pick(['-2', '99999999999', '1073741824', 'abc', '18446744073709551616'])}\r\n`); // odd lengths
    case 4:
      return Buffer.from(`${pick(NAMES)} ${pick(WORDS)} "${pick(WORDS)}\r\n`); // inline, maybe unbalanced
    default:
      return command();
  }
}

/** Sends the frames on one connection, half-closes, and returns everything the server sent until it closed. */
async function exchange(port: number, frames: Buffer[]): Promise<string> {
  const socket = await connected(port);
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
    socket.end(Buffer.concat(frames));
  });
}

t.test('10,000 fuzzed RESP frames: every reply is valid RESP, nothing crashes', async (t) => {
  const server = await startTestServer({ respPort: 0, maxValue: 64 * 1024 });
  t.teardown(() => server.close());
  const port = server.resp!.port;
  const next = prng(20261201);
  const connections: Buffer[][] = [];
  for (let sent = 0; sent < 10_000; ) {
    const frames = Array.from({ length: 1 + Math.floor(next() * 5) }, () => frame(next));
    sent += frames.length;
    connections.push(frames);
  }
  let invalid = 0;
  let replies = 0;
  for (let i = 0; i < connections.length; i += 25) {
    const answers = await Promise.all(connections.slice(i, i + 25).map((frames) => exchange(port, frames)));
    for (const answer of answers) {
      try {
        const decoded = decodeAll(answer);
        replies += decoded.replies.length;
        if (decoded.rest !== '') invalid++;
      } catch {
        invalid++;
      }
    }
  }
  t.equal(invalid, 0, 'no connection got bytes that are not whole RESP replies');
  t.ok(replies > 5_000, `${replies} replies`);
  const after = await exchange(port, [encodeCommand('SET', 'fuzz:after', 'ok'), encodeCommand('GET', 'fuzz:after')]);
  t.equal(after, '+OK\r\n$2\r\nok\r\n', 'the server still answers');
  t.equal(server.cluster.admin.health().ok, true, 'every node is still up');
  t.same(Object.values(server.cluster.admin.health().nodes), ['up', 'up', 'up']);
});
