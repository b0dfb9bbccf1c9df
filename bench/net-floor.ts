/**
 * The `net` floor: the node:http floor's answer (bench/floor.ts), byte for byte as node:http would
 * send it, from a bare `net` server that finds each request's end and nothing more. Nothing
 * answering HTTP on Node can be faster: the physical limit of a Node HTTP server on this machine.
 */
import { Buffer } from 'node:buffer';
import { createServer, type AddressInfo } from 'node:net';
import { adoptReads } from '../src/socket-reads.js';

const body = '{"key":"key-1234","value":"value-of-key-1234","node":"node-2"}\n';
const answer = (): string =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nDate: ${new Date().toUTCString()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n${body}`;
let cached = answer();
setInterval(() => (cached = answer()), 1000).unref();

// Read as the cache's own sockets are (src/socket-reads.ts): into one shared buffer, no stream push.
const server = createServer((accepted) => {
  const socket = adoptReads(accepted, false, (chunk: Buffer) => {
    let out = '';
    for (let at = chunk.indexOf('\r\n\r\n'); at >= 0; at = chunk.indexOf('\r\n\r\n', at + 4)) out += cached;
    if (out !== '') socket.write(out);
  });
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`"net floor listening on http://127.0.0.1:${port}"\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
