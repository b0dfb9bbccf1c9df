/**
 * 32-bit FNV-1a over the UTF-8 bytes of a string, finished with MurmurHash3's fmix32 avalanche.
 *
 * FNV-1a alone clusters for short, similar inputs such as `node-1#17` and `node-1#18`; the fmix32
 * step spreads every input bit over the whole word, which is what ring balance depends on.
 * UTF-8 is encoded inline (no TextEncoder allocation), so the same key hashes the same whichever
 * way it reached us; a lone surrogate hashes as U+FFFD, as TextEncoder would encode it.
 * Cost: about 1 ns per byte plus a constant; no allocation.
 */
export function hash32(input: string): number {
  let h = 0x811c9dc5;
  const length = input.length;
  for (let i = 0; i < length; i++) {
    let c = input.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), 0x01000193);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < length ? input.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          h = Math.imul(h ^ (0xf0 | (c >> 18)), 0x01000193);
          h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), 0x01000193);
        } else {
          c = 0xfffd;
          h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193);
        }
      } else {
        h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193);
      }
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
    }
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
  }
  return fmix32(h);
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
export function fmix32(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
