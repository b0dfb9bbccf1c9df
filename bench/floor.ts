/**
 * The Node floor: a bare node:http server answering one constant JSON body, about the size of a
 * /get hit. Nothing answering HTTP on Node can be faster; every scenario is reported against it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = '{"key":"key-1234","value":"value-of-key-1234","node":"node-2"}\n';
const length = Buffer.byteLength(body);
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
  res.end(body);
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`"floor listening on http://127.0.0.1:${port}"\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
