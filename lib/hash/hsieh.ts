/**
 * libhashkit's `hsieh` key hash (Paul Hsieh's SuperFastHash), as its C code
 * computes it on x86-64: 16-bit halves read little-endian as unsigned, but
 * the third byte of a 3-byte tail read as a signed char. Debian's libhashkit
 * is built without it (PHP's setOption(OPT_HASH, HASH_HSIEH) fails there).
 */

import { utf8Scratch, writeUtf8ToScratch } from './utf8.js';

function hsiehOfBytes(bytes: Uint8Array, length: number): number {
  if (length === 0) return 0;
  let h = 0;
  let p = 0;
  for (let blocks = length >>> 2; blocks > 0; blocks--, p += 4) {
    h = (h + (bytes[p]! | (bytes[p + 1]! << 8))) | 0;
    const mixed = ((bytes[p + 2]! | (bytes[p + 3]! << 8)) << 11) ^ h;
    h = (h << 16) ^ mixed;
    h = (h + (h >>> 11)) | 0;
  }
  switch (length & 3) {
    case 3:
      h = (h + (bytes[p]! | (bytes[p + 1]! << 8))) | 0;
      h ^= h << 16;
      h ^= ((bytes[p + 2]! << 24) >> 24) << 18;
      h = (h + (h >>> 11)) | 0;
      break;
    case 2:
      h = (h + (bytes[p]! | (bytes[p + 1]! << 8))) | 0;
      h ^= h << 11;
      h = (h + (h >>> 17)) | 0;
      break;
    case 1:
      h = (h + bytes[p]!) | 0;
      h ^= h << 10;
      h = (h + (h >>> 1)) | 0;
      break;
  }
  h ^= h << 3;
  h = (h + (h >>> 5)) | 0;
  h ^= h << 4;
  h = (h + (h >>> 17)) | 0;
  h ^= h << 25;
  h = (h + (h >>> 6)) | 0;
  return h >>> 0;
}

export function hsieh(data: Uint8Array | string): number {
  if (typeof data === 'string') {
    const length = writeUtf8ToScratch(data);
    return hsiehOfBytes(utf8Scratch(), length);
  }
  return hsiehOfBytes(data, data.length);
}
