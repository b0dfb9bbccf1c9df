import t from 'tap';
import { encodeCommand, rawExchange } from './fixtures/resp.js';
import { startTestServer } from './fixtures/server.js';

// The wire protocol of the RESP port, over raw sockets: what any client, well-behaved or not, gets.
t.test('RESP2 on the wire', async (t) => {
  const server = await startTestServer({ respPort: 0 });
  t.teardown(() => server.close());
  const port = server.resp!.port;

  t.test('multibulk and inline commands, with Redis quoting', async (t) => {
    const payload = Buffer.concat([encodeCommand('SET', 'wire:a', 'x y'), Buffer.from('GET wire:a\r\nSET wire:b "q\\x41\\n" \r\nGET wire:b\nset wire:c \'it\\\'s\'\r\nget wire:c\r\n\r\nPING\r\n')]);
    const { replies } = await rawExchange(port, payload, 7);
    t.same(replies, ['OK', 'x y', 'OK', 'qA\n', 'OK', "it's", 'PONG']);
  });

  t.test('a value is binary-safe: every byte comes back as it went', async (t) => {
    const value = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const { replies } = await rawExchange(port, Buffer.concat([encodeCommand('SET', 'wire:bin', value), encodeCommand('GET', 'wire:bin')]), 2);
    t.equal(replies[0], 'OK');
    t.same(Buffer.from(replies[1] as string, 'latin1'), value);
  });

  t.test('10,000 pipelined commands in one write: every answer, in order', async (t) => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 5_000; i++) parts.push(encodeCommand('SET', `wire:p${i % 50}`, String(i)), encodeCommand('GET', `wire:p${i % 50}`));
    const { replies } = await rawExchange(port, Buffer.concat(parts), 10_000);
    t.equal(replies.length, 10_000);
    const wrong = replies.filter((reply, i) => reply !== (i % 2 === 0 ? 'OK' : String((i - 1) / 2))).length;
    t.equal(wrong, 0, 'each GET sees the SET just before it on the connection');
  });

  t.test('a command split over many writes is read as one', async (t) => {
    const { connected } = await import('./fixtures/raw.js');
    const socket = await connected(port);
    const bytes = encodeCommand('SET', 'wire:split', 'v'.repeat(100_000));
    const answer = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    for (let at = 0; at < bytes.length; at += 997) {
      socket.write(bytes.subarray(at, at + 997));
      if (at % (997 * 20) === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    t.equal(await answer, '+OK\r\n');
    socket.destroy();
  });

  t.test("errors name the command as Redis's do", async (t) => {
    const { replies } = await rawExchange(port, 'FOO bar baz\r\nGET\r\nGET a b\r\nSET k v EX 0\r\nSET k v NX XX\r\nINCR wire:a\r\n', 6);
    t.same(replies, [
      { error: "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' " },
      { error: "ERR wrong number of arguments for 'get' command" },
      { error: "ERR wrong number of arguments for 'get' command" },
      { error: "ERR invalid expire time in 'set' command" },
      { error: 'ERR syntax error' },
      { error: 'ERR value is not an integer or out of range' },
    ]);
  });

  for (const [what, payload, message] of [
    ['a bad multibulk length', '*abc\r\n', 'ERR Protocol error: invalid multibulk length'],
    ['a bad bulk length', '*1\r\n$-5\r\n', 'ERR Protocol error: invalid bulk length'],
    ['a bulk longer than --max-value', `*2\r\n$3\r\nSET\r\n$${2 * 1024 * 1024}\r\n`, 'ERR Protocol error: invalid bulk length'],
    ['no $ where a bulk starts', '*1\r\n:5\r\n', "ERR Protocol error: expected '$', got ':'"],
    ['unbalanced quotes', 'SET a "b\r\n', 'ERR Protocol error: unbalanced quotes in request'],
    ['an inline line past 64 KiB', 'x'.repeat(70_000), 'ERR Protocol error: too big inline request'],
  ] as const) {
    t.test(`${what}: the error, then the connection closes`, async (t) => {
      const { replies, closed } = await rawExchange(port, Buffer.concat([encodeCommand('PING'), Buffer.from(payload), encodeCommand('PING')]), 3);
      t.same(replies, ['PONG', { error: message }], 'the commands before it are answered, none after');
      t.equal(closed, true);
    });
  }

  t.test('a client that half-closes after its commands still gets every reply', async (t) => {
    const { connected } = await import('./fixtures/raw.js');
    const socket = await connected(port);
    const received = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
    });
    socket.end(Buffer.concat([encodeCommand('SET', 'wire:half', '1'), encodeCommand('INCR', 'wire:half'), encodeCommand('GET', 'wire:half')]));
    t.equal(await received, '+OK\r\n:2\r\n$1\r\n2\r\n');
  });

  t.test('QUIT answers OK and closes after the replies before it', async (t) => {
    const { replies, closed } = await rawExchange(port, 'SET wire:q 1\r\nQUIT\r\nGET wire:q\r\n', 3);
    t.same(replies, ['OK', 'OK']);
    t.equal(closed, true);
  });

  t.test('SELECT 0 only; HELLO 2 and HELLO 3 answer the server map, in their protocol; HELLO 4 is NOPROTO', async (t) => {
    const { replies, rest } = await rawExchange(port, 'SELECT 0\r\nSELECT 1\r\nHELLO 4\r\nHELLO 2\r\nGET wire:none\r\nHELLO 3\r\nGET wire:none\r\nMGET wire:none wire:a\r\n', 8);
    t.same(replies.slice(0, 3), ['OK', { error: 'ERR DB index is out of range' }, { error: 'NOPROTO unsupported protocol version' }]);
    const fields = (reply: unknown): Record<string, unknown> => {
      const flat = reply as string[];
      return Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]));
    };
    t.match(fields(replies[3]), { server: 'redis', proto: 2, role: 'master' });
    t.match(fields(replies[5]), { server: 'redis', proto: 3, role: 'master' });
    t.same([replies[4], replies[6], replies[7]], [null, null, [null, 'x y']]);
    t.equal(rest, '');
  });

  t.test('RESP3 spells null and maps its own way', async (t) => {
    const { connected } = await import('./fixtures/raw.js');
    const socket = await connected(port);
    const bytes = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.split('\r\n').includes('_') && text.includes('maxclients')) resolve(text);
      });
      socket.write('HELLO 3\r\nGET wire:none\r\nCONFIG GET maxclients\r\n');
    });
    socket.destroy();
    t.match(bytes, /^%7\r\n/);
    t.match(bytes, /\r\n_\r\n%1\r\n\$10\r\nmaxclients\r\n\$\d+\r\n\d+\r\n$/);
  });
});

t.test('RESP with --auth-token: NOAUTH until AUTH, limits before it', async (t) => {
  const server = await startTestServer({ respPort: 0, authToken: 's3cret' });
  t.teardown(() => server.close());
  const port = server.resp!.port;

  t.test('commands before AUTH are refused; a wrong token is WRONGPASS; the right one lets them through', async (t) => {
    const { replies } = await rawExchange(port, 'GET a\r\nAUTH nope\r\nGET a\r\nAUTH default nope\r\nAUTH s3cret\r\nSET a 1\r\nGET a\r\nAUTH default s3cret\r\n', 8);
    t.same(replies, [
      { error: 'NOAUTH Authentication required.' },
      { error: 'WRONGPASS invalid username-password pair or user is disabled.' },
      { error: 'NOAUTH Authentication required.' },
      { error: 'WRONGPASS invalid username-password pair or user is disabled.' },
      'OK',
      'OK',
      '1',
      'OK',
    ]);
  });

  t.test('HELLO 2 AUTH authenticates; HELLO without it is refused', async (t) => {
    const { replies } = await rawExchange(port, 'HELLO 2\r\nHELLO 2 AUTH default s3cret\r\nPING\r\n', 3);
    t.match((replies[0] as { error: string }).error, /^NOAUTH HELLO must be called with the client already authenticated/);
    t.ok(Array.isArray(replies[1]));
    t.equal(replies[2], 'PONG');
  });

  t.test('before AUTH a command may not be large (as Redis limits it)', async (t) => {
    const { replies, closed } = await rawExchange(port, '*2\r\n$3\r\nGET\r\n$100000\r\n', 2);
    t.same(replies, [{ error: 'ERR Protocol error: unauthenticated bulk length' }]);
    t.equal(closed, true);
  });
});

t.test('AUTH without a token configured says so, as Redis does', async (t) => {
  const server = await startTestServer({ respPort: 0 });
  t.teardown(() => server.close());
  const { replies } = await rawExchange(server.resp!.port, 'AUTH x\r\nAUTH default x\r\n', 2);
  t.match((replies[0] as { error: string }).error, /^ERR AUTH <password> called without any password configured/);
  t.equal(replies[1], 'OK');
});
