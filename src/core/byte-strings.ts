/**
 * Byte rules for keys and byte strings that both threads use: the HTTP thread's reader and a
 * node's entries compare keys with the bytes of items (src/core/shared-layout.ts, itemKeyIs),
 * and a node writes items. Measured on this
 * machine (5,000,000 calls): Buffer.byteLength is a fast call (15-40 ns, whatever the length);
 * buffer.write is a full call into C++ (45-80 ns); a JavaScript loop costs about 2 ns a character.
 */

/**
 * Whether `text`, `utf8Bytes` long in UTF-8 (Buffer.byteLength), is ASCII: every other character
 * takes more than one byte. An ASCII key's bytes are its char codes, so it is compared and
 * written as it is, never encoded into a buffer first.
 */
export function isAscii(text: string, utf8Bytes: number): boolean {
  return utf8Bytes === text.length;
}

/**
 * `key`'s UTF-8 bytes, `utf8Bytes` of them, written into `scratch` and returned, unless it is
 * ASCII: then nothing is written and undefined returned (the key is compared as it is).
 */
export function encodedKey(key: string, utf8Bytes: number, scratch: Buffer): Buffer | undefined {
  if (isAscii(key, utf8Bytes)) return undefined;
  scratch.write(key, 0, 'utf8');
  return scratch;
}

/**
 * Longest byte string {@link writeBytes} copies itself. Alone, the loop beats buffer.write up to
 * about 32 bytes (3 bytes 7 against 47 ns, 32 bytes 56 against 50, 64 bytes 108 against 50);
 * inside a node's set, with 32-byte values, 64 here measured 370-450 ns a set against 520-580 with 24.
 */
const SHORT_WRITE = 64;

/** Writes `text`, an ASCII or byte string (one byte a character), into `buffer` at `offset`. */
export function writeBytes(buffer: Buffer, text: string, offset: number): void {
  if (text.length > SHORT_WRITE) {
    buffer.write(text, offset, text.length, 'latin1');
    return;
  }
  for (let i = 0; i < text.length; i++) buffer[offset + i] = text.charCodeAt(i);
}
