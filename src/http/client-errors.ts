import { Buffer } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { CacheError, ErrorCode } from '../errors.js';
import { whenAnswered } from './order.js';
import { errorBody } from './respond.js';

/**
 * What a request that never reached a route is answered: node's parser errors and timeouts
 * (`clientError`, whose own answer has no body) and heads refused by the header budget, as the
 * same JSON error every route answers with. The connection is closed after it: its bytes can
 * no longer be framed. Nothing is written on a connection the client has reset.
 */
export function answerAndClose(socket: Socket, error: CacheError): void {
  // The answers to the requests before the bad one go first (pipelined requests whose answers
  // wait for a node): the error is the bad request's answer, never one of theirs.
  whenAnswered(socket, () => writeAndClose(socket, error));
}

function writeAndClose(socket: Socket, error: CacheError): void {
  // Answered already (the header budget and node's parser can both refuse one head): the answer
  // is on its way, and destroying the socket now would send a reset that overtakes it.
  if (socket.writableEnded) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = errorBody(error);
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // What the client is still sending is read and dropped: closing with unread bytes would send
  // a reset, and a reset that overtakes the answer makes the client's kernel discard it unread.
  socket.resume();
  // A client that never reads must not keep the socket: the answer is best effort.
  socket.setTimeout(1_000, () => socket.destroy());
}

/** node's clientError, as a CacheError with the status RFC 9110 gives it. */
export function clientErrorOf(error: NodeJS.ErrnoException, maxHeadBytes: number): CacheError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return headTooLarge(maxHeadBytes);
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new CacheError(ErrorCode.RequestTimeout, 'The request was not received in time (--header-timeout, --request-timeout)');
    case 'HPE_INVALID_METHOD':
      // A method node's parser does not know cannot even be framed: bad input, a 400 (the
      // methods it knows but a route does not take are 405s).
      return new CacheError(ErrorCode.BadRequest, 'Unknown request method');
    default:
      return new CacheError(ErrorCode.BadRequest, `Malformed request${error.code === undefined ? '' : ` (${error.code})`}`);
  }
}

export function headTooLarge(maxHeadBytes: number): CacheError {
  return new CacheError(
    ErrorCode.HeadersTooLarge,
    `The request line and headers are larger than this server accepts (${maxHeadBytes} bytes, or less while many large requests arrive at once); send large values in a body: PUT /keys/:key`,
  );
}
