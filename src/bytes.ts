import { Buffer, isUtf8 } from 'node:buffer';

/**
 * Conversions between what clients send and the byte strings the nodes store (one character
 * per byte, 0-255; see src/core/protocol.ts). ASCII text is the same in both forms, so the common case
 * costs one regular-expression scan and no copy.
 */
const NON_ASCII = /[^\x00-\x7f]/;

/** A text value (from the seed API or JSON) as the byte string of its UTF-8 encoding. */
export function textToBytes(text: string): string {
  return NON_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/** A stored byte string decoded as UTF-8 (invalid sequences become U+FFFD, as any decoder does). */
export function bytesToText(bytes: string): string {
  return NON_ASCII.test(bytes) ? Buffer.from(bytes, 'latin1').toString('utf8') : bytes;
}

/** A request body as a byte string. */
export function bufferToBytes(buffer: Uint8Array): string {
  return Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength).toString('latin1');
}

/** A stored byte string as the bytes to send. */
export function bytesToBuffer(bytes: string): Uint8Array<ArrayBuffer> {
  const buffer = Buffer.from(bytes, 'latin1');
  // Buffer.from never returns shared memory; the view only narrows the type.
  return new Uint8Array(buffer.buffer as ArrayBuffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * A byte string (a RESP argument) as the text key it spells in UTF-8, or undefined if it is not
 * UTF-8: keys are text on both front ends (HTTP's are percent-decoded UTF-8), so the same key
 * means the same entry whichever way it came.
 */
export function bytesToKey(bytes: string): string | undefined {
  if (!NON_ASCII.test(bytes)) return bytes;
  const buffer = Buffer.from(bytes, 'latin1');
  return isUtf8(buffer) ? buffer.toString('utf8') : undefined;
}
