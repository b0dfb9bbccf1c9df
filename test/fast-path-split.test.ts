import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { connected } from './fixtures/raw.js';
import { startTestServer } from './fixtures/server.js';

/** Writes `parts` one at a time, `gapMs` apart (each its own segment), and resolves with the first answer's status line. */
async function statusOf(port: number, parts: readonly string[], gapMs = 30): Promise<string> {
  const socket = await connected(port);
  let text = '';
  const answered = new Promise<string>((resolve) => {
    const done = (): void => resolve(text.split('\r\n')[0] ?? '');
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) done();
    });
    socket.on('error', () => undefined);
    socket.on('close', done);
  });
  for (const part of parts) {
    socket.write(part, 'latin1');
    await sleep(gapMs);
  }
  const status = await answered;
  socket.destroy();
  return status;
}

// A head that arrives in pieces is looked at again only once a blank line has come, so that a
// slow head is not scanned from its start on every byte. A head whose lines end in a bare LF or
// CR never has a blank line of CR LF CR LF: node:http answers it as soon as it can, and so must a
// server with the fast path in front, not wait for a blank line that never comes.
t.test('a head split over several segments with a line ended by a bare LF or CR is answered at once, as by node:http', async (t) => {
  const server = await startTestServer({ headerTimeout: 60 });
  t.teardown(() => server.close());
  const port = Number(new URL(server.url).port);
  t.equal(await statusOf(port, ['POST /set?key=c&value=', '%FF HTTP/1.', '0\n\r\n']), 'HTTP/1.1 400 Bad Request', 'the request line ends in LF');
  t.equal(await statusOf(port, ['GET /get?key=c HTTP/1.1\r\nHost: x', '\n', '\n']), 'HTTP/1.1 400 Bad Request', 'a header line ends in LF');
  t.equal(await statusOf(port, ['GET /get?key=c HTTP/1.1\r\nHost: x', '\r', 'X: y\r\n']), 'HTTP/1.1 400 Bad Request', 'a bare CR');
  t.equal(await statusOf(port, ['POST /set?key=c&value=1 HTTP/1.1\r\n', 'Host: x\r\n', '\r\n']), 'HTTP/1.1 201 Created', 'a plain head in three pieces');
  t.equal(await statusOf(port, ['GET /get?key=c HTTP/1.1\r', '\n', 'Host: x\r', '\n\r', '\n']), 'HTTP/1.1 200 OK', 'split inside each CR LF');
  t.equal(server.fastPath!.answers, 2, 'the plain ones were the fast path’s');
});
