/**
 * The subscribers of `bench/pubsub.ts`, in a process of their own (forked), so that the server's
 * CPU and theirs are told apart and the bench process stays free to publish on time:
 * `node dist/bench/subscribers.js sse|resp PORT COUNT`. Each subscriber is a raw socket on the
 * channel `bench`, SSE (`GET /subscribe/bench`) or RESP (`SUBSCRIBE bench`).
 *
 * A million deliveries a second or more cannot each be parsed in JavaScript on the cores the
 * server runs on, so a subscriber reads cheaply, and still exactly for what is counted:
 * - every message is the same size on the wire (the bench publishes fixed-width send times, the
 *   server's ids have a fixed width), so the messages received are the bytes of messages
 *   received over that size (SSE's chunked framing is parsed and left out of the count);
 * - latency is sampled once per read: the first message that starts in the read, which is the
 *   oldest of it, so each sample bounds the latency of every message of that read.
 * The parent sends 'report'; the answer is the count each subscriber received, and the samples.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [protocol, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
/** The send time's width: `Date.now()` in ms with three decimals (17 characters until 2286). */
const STAMP = 17;
const clock = (): number => performance.timeOrigin + performance.now();

/** What a message is on the wire, before its send time; and how many bytes follow the send time. */
const MARK = protocol === 'sse' ? Buffer.from('data: ') : Buffer.from(`$${STAMP}\r\n`);
const SIZE =
  protocol === 'sse'
    ? `id: ${'1'.repeat(16)}\nevent: message\ndata: ${'1'.repeat(STAMP)}\n\n`.length
    : `*3\r\n$7\r\nmessage\r\n$5\r\nbench\r\n$${STAMP}\r\n${'1'.repeat(STAMP)}\r\n`.length;
/** What comes before the first message: SSE's comment line, RESP's subscription confirmation. */
const PREAMBLE = protocol === 'sse' ? ': subscribed to channel "bench"\n\n'.length : '*3\r\n$9\r\nsubscribe\r\n$5\r\nbench\r\n:1\r\n'.length;

const samples: number[] = [];

class Subscriber {
  /** Bytes of messages (SSE: chunk payload, after the response head). */
  payload = 0;
  #head = protocol === 'sse';
  /** SSE's chunked framing: bytes of the current chunk still to come, or -1 while reading a size line. */
  #chunkLeft = -1;
  #sizeLine = '';

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('error', () => undefined);
  }

  get received(): number {
    return Math.max(0, Math.floor((this.payload - PREAMBLE) / SIZE));
  }

  #read(chunk: Buffer): void {
    let at = 0;
    if (this.#head) {
      const end = chunk.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.#head = false;
      at = end + 4;
    }
    this.#sample(chunk, at);
    if (protocol !== 'sse') return void (this.payload += chunk.length - at);
    while (at < chunk.length) {
      if (this.#chunkLeft < 0) {
        const end = chunk.indexOf('\n', at);
        this.#sizeLine += chunk.toString('latin1', at, end < 0 ? chunk.length : end);
        if (end < 0) return;
        at = end + 1;
        // Each chunk's payload is followed by CRLF, which reads here as an empty size line.
        if (this.#sizeLine.trim() !== '') this.#chunkLeft = parseInt(this.#sizeLine, 16);
        this.#sizeLine = '';
        continue;
      }
      const take = Math.min(this.#chunkLeft, chunk.length - at);
      this.payload += take;
      this.#chunkLeft -= take;
      at += take;
      if (this.#chunkLeft === 0) this.#chunkLeft = -1;
    }
  }

  #sample(chunk: Buffer, from: number): void {
    const mark = chunk.indexOf(MARK, from);
    if (mark < 0 || mark + MARK.length + STAMP > chunk.length) return;
    const sent = Number(chunk.toString('latin1', mark + MARK.length, mark + MARK.length + STAMP));
    if (Number.isFinite(sent)) samples.push(clock() - sent);
  }
}

function open(): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      if (protocol === 'sse') socket.write('GET /subscribe/bench HTTP/1.1\r\nHost: bench\r\n\r\n');
      else socket.write('*2\r\n$9\r\nSUBSCRIBE\r\n$5\r\nbench\r\n');
      resolve(new Subscriber(socket));
    });
    socket.once('error', reject);
  });
}

const subscribers: Subscriber[] = [];
for (let i = 0; i < count; i += 100) subscribers.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, open))));

process.on('message', (message: unknown) => {
  if (message !== 'report') return;
  for (const s of subscribers) s.socket.destroy();
  // Disconnecting only once the report is written: a large one would otherwise be cut.
  process.send?.({ received: subscribers.map((s) => s.received), samples }, () => process.disconnect?.());
});
process.send?.('ready');
