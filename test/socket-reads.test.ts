import t from 'tap';
import { Buffer } from 'node:buffer';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { adoptReads } from '../src/socket-reads.js';
import { connected } from './fixtures/raw.js';
import { prng } from './fixtures/prng.js';
import { startTestServer } from './fixtures/server.js';

function listening(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

t.test('an adopted socket reads into the shared buffer and keeps the server count, the end and the close', async (t) => {
  const reads: string[] = [];
  let adopted: Socket | undefined;
  let accepted: Socket | undefined;
  let ended: () => void = () => undefined;
  const end = new Promise<void>((resolve) => (ended = resolve));
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted = socket;
    const own = adoptReads(socket, true, (bytes) => reads.push(bytes.toString('latin1')));
    own.on('end', () => {
      own.end('bye');
      ended();
    });
    adopted = own;
  });
  const port = await listening(server);
  const client = await connected(port);
  let answer = '';
  client.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  client.write('one');
  await sleep(50);
  client.write('two');
  await sleep(50);
  t.not(adopted, accepted, 'this node lets the handle be adopted (else every read takes a buffer of its own)');
  t.same(reads, ['one', 'two'], 'each read handed on as it came');
  t.equal(await connections(server), 1, 'the server counts the connection once');
  client.end();
  await end;
  await new Promise((resolve) => client.once('close', resolve));
  t.equal(answer, 'bye', 'a half-closed client is still written to');
  await sleep(20);
  t.equal(await connections(server), 0, 'its close leaves the server count');
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

t.test('--max-connections still counts adopted sockets, and a reader of data events gets the reads as a stream', async (t) => {
  const server = createServer((socket) => {
    const adopted = adoptReads(socket, false, () => t.fail('no read goes past a data listener'));
    adopted.on('data', (chunk: Buffer) => adopted.write(chunk));
  });
  server.maxConnections = 1;
  t.teardown(() => server.close());
  const port = await listening(server);
  const first = await connected(port);
  const echoed = new Promise<string>((resolve) => first.once('data', (chunk: Buffer) => resolve(chunk.toString())));
  first.write('echo');
  t.equal(await echoed, 'echo');
  const second = await connected(port);
  await new Promise((resolve) => second.once('close', resolve));
  t.pass('a second connection is dropped while the first is open');
  first.destroy();
  await sleep(50);
  const third = await connected(port);
  const again = new Promise<string>((resolve) => third.once('data', (chunk: Buffer) => resolve(chunk.toString())));
  third.write('again');
  t.equal(await again, 'again', 'the first one closed, a new one is taken');
  third.destroy();
});

/** Values of sizes that end inside, at and across 64 KiB reads, of random bytes. */
function values(random: () => number): Buffer[] {
  return [1, 100, 65_535, 65_536, 65_537, 200_000, 700_001].map((size) => Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256))));
}

t.test('values that span many reads of the shared buffer arrive whole, over RESP and HTTP, on connections side by side', async (t) => {
  const server = await startTestServer({ respPort: 0 });
  t.teardown(() => server.close());
  const random = prng(7);
  const all = values(random);
  const clients = [0, 1, 2].map(() => new Redis({ port: server.resp!.port, host: '127.0.0.1' }));
  t.teardown(() => clients.forEach((client) => client.disconnect()));
  // Each client's commands reach the server in many reads, interleaved with the others' reads.
  await Promise.all(clients.map((client, c) => Promise.all(all.map((value, i) => client.set(`resp-${c}-${i}`, value)))));
  for (let c = 0; c < clients.length; c++) {
    for (let i = 0; i < all.length; i++) {
      const back = await clients[0]!.getBuffer(`resp-${c}-${i}`);
      t.ok(back !== null && back.equals(all[i]!), `RESP: client ${c}'s value of ${all[i]!.length} bytes`);
    }
  }
  // HTTP: PUT bodies written in uneven pieces, the connections taking turns.
  const port = Number(new URL(server.url).port);
  const sockets = await Promise.all([0, 1, 2].map(() => connected(port)));
  const answered = sockets.map((socket) => {
    let text = '';
    return new Promise<void>((resolve) =>
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if ((text.match(/HTTP\/1\.1 201/g) ?? []).length === all.length) resolve();
      }),
    );
  });
  const requests = sockets.map((_, c) => Buffer.concat(all.flatMap((value, i) => [Buffer.from(`PUT /keys/http-${c}-${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${value.length}\r\n\r\n`), value])));
  const offsets = sockets.map(() => 0);
  while (offsets.some((at, c) => at < requests[c]!.length)) {
    for (let c = 0; c < sockets.length; c++) {
      const piece = Math.floor(random() * 90_000) + 1;
      sockets[c]!.write(requests[c]!.subarray(offsets[c], offsets[c]! + piece));
      offsets[c] = Math.min(requests[c]!.length, offsets[c]! + piece);
    }
    await sleep(1);
  }
  await Promise.all(answered);
  sockets.forEach((socket) => socket.destroy());
  for (let c = 0; c < sockets.length; c++) {
    for (let i = 0; i < all.length; i++) {
      const back = Buffer.from(await (await fetch(`${server.url}/keys/http-${c}-${i}`)).arrayBuffer());
      t.ok(back.equals(all[i]!), `HTTP: connection ${c}'s body of ${all[i]!.length} bytes`);
    }
  }
});
