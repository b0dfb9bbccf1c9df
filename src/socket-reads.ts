import { Buffer } from 'node:buffer';
import { Socket, type OnReadOpts, type Server, type SocketConstructorOpts } from 'node:net';

/** What a read hands on: a view of the bytes read, valid only until the call returns. */
export type OnBytes = (bytes: Buffer) => void;

/** The parts of a net.Socket below its public API that {@link adoptReads} moves to the new socket. */
interface SocketInternals {
  /** The TCP handle (libuv's stream), a C++ object. */
  _handle: object | null;
  /** The server whose connection count the socket's close takes one off. */
  _server: Server | null;
  server: Server | null;
}

/**
 * Every adopted socket of this thread reads into this one buffer: a read is handed on at once and
 * what a connection keeps of it is copied (src/http/fast/inbox.ts, src/resp/parser.ts), so no
 * read needs a buffer of its own. 64 KiB: what libuv asks for a read anyway.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * A socket that a net.Server has just accepted, as a new Socket on the same connection whose reads
 * land in {@link READ_BUFFER} and go to `onBytes` (net.Socket's `onread` option, which net.Server
 * does not offer for the sockets it accepts). Call it in the server's 'connection' listener, before
 * anything listens on `socket`; use only the socket it returns.
 *
 * Why: a stream read allocates a 64 KiB buffer in C++, wraps it in a Buffer and goes through
 * Readable's push, its 'data' event and its read-more tick. Without that, a bare `net` HTTP server
 * answering a constant spends 4.8 instead of 5.6 us of CPU a request (wrk -c50, 4 alternating rounds
 * of 3 s: 195k against 178k req/s). The events 'end', 'close', 'drain' and 'error', writes,
 * pause() and resume() are those of any socket; a read goes to `onBytes` until something listens
 * for 'data', and is then emitted as 'data' (copied), as on any socket.
 *
 * It moves the accepted socket's handle (`_handle`), which node does not document: if a later node
 * lays its sockets out otherwise, the socket is kept as it is and its 'data' events feed `onBytes`.
 */
export function adoptReads(socket: Socket, allowHalfOpen: boolean, onBytes: OnBytes): Socket {
  const accepted = socket as unknown as SocketInternals;
  const handle = accepted._handle;
  if (handle === null || typeof handle !== 'object' || !('readStart' in handle) || accepted._server === undefined) {
    socket.on('data', onBytes);
    return socket;
  }
  const onread: OnReadOpts = {
    buffer: READ_BUFFER,
    callback(read: number, buffer: Uint8Array): boolean {
      const bytes = (buffer as Buffer).subarray(0, read);
      // Once something else reads the socket as a stream (node:http, after the fast path hands a
      // connection over), a read is its: pushed as a 'data' chunk of its own.
      if (adopted.listenerCount('data') > 0) adopted.push(Buffer.from(bytes));
      else onBytes(bytes);
      return true;
    },
  };
  // The accepted socket lets go of the handle and of its place in the server's count.
  accepted._handle = null;
  const options: SocketConstructorOpts & { handle: object; onread: OnReadOpts } = { handle, allowHalfOpen, onread };
  const adopted = new Socket(options);
  const internals = adopted as unknown as SocketInternals;
  internals._server = accepted._server;
  internals.server = accepted.server;
  accepted._server = null;
  return adopted;
}
