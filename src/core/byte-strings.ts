/**
 * Byte rules for keys and byte strings that both threads use: the HTTP thread's reader and a
 * node's entries compare keys with the bytes of items, and a node writes items.
 */
/**
 * Whether every character of `text` is ASCII: its UTF-8 bytes are then its char codes and its
 * length its byte count. The key paths use it to skip the calls into C++ that encode a key
 * (Buffer.byteLength, buffer.write: 60-110 ns each, most of a cached shared-memory read).
 */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The UTF-8 length of `text`, counted here when it is ASCII. */
export function utf8Length(text: string): number {
  return isAscii(text) ? text.length : Buffer.byteLength(text, 'utf8');
}

/** Whether the bytes of `buffer` from `start` are those of `text`, an ASCII or byte string (one byte a character). */
export function sameBytes(buffer: Uint8Array, start: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (buffer[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Longest byte string {@link writeBytes} copies itself: past it, buffer.write's call costs less than the loop. */
const SHORT_WRITE = 64;

/** Writes `text`, an ASCII or byte string (one byte a character), into `buffer` at `offset`. */
export function writeBytes(buffer: Buffer, text: string, offset: number): void {
  if (text.length > SHORT_WRITE) {
    buffer.write(text, offset, text.length, 'latin1');
    return;
  }
  for (let i = 0; i < text.length; i++) buffer[offset + i] = text.charCodeAt(i);
}
