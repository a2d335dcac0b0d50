/**
 * Jenkins one-at-a-time, exactly as libmemcached (libhashkit) computes it: its
 * C code reads the key as signed chars, so every byte >= 0x80 is added as
 * byte - 256. A textbook (unsigned) version places every non-ASCII key elsewhere.
 */

import { ErrorCode, MemcacheError } from '../errors.js';
import { encodeUtf8ToScratch, utf8Scratch } from './utf8.js';

// The final avalanche, shared by both input paths.
function avalanche(h: number): number {
  h = (h + (h << 3)) | 0;
  h ^= h >>> 11;
  h = (h + (h << 15)) | 0;
  return h >>> 0;
}

function hashBytes(data: Uint8Array, length: number): number {
  let h = 0;
  for (let i = 0; i < length; i++) {
    // (byte << 24) >> 24 sign-extends the byte, as a C `char` would be.
    h = (h + ((data[i]! << 24) >> 24)) | 0;
    h = (h + (h << 10)) | 0;
    h ^= h >>> 6;
  }
  return avalanche(h);
}

function hashString(text: string): number {
  let h = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) {
      // Not ASCII: hash the UTF-8 bytes instead, from the start.
      const byteLength = encodeUtf8ToScratch(text);
      return hashBytes(utf8Scratch(), byteLength);
    }
    h = (h + c) | 0;
    h = (h + (h << 10)) | 0;
    h ^= h >>> 6;
  }
  return avalanche(h);
}

/**
 * libmemcached's one-at-a-time hash of `data` (a string is hashed as its UTF-8
 * bytes), as an unsigned 32-bit integer. Allocation-free for ASCII strings.
 */
export function oneAtATime(data: Uint8Array | string): number {
  if (typeof data === 'string') return hashString(data);
  if (data instanceof Uint8Array) return hashBytes(data, data.length);
  throw new MemcacheError(ErrorCode.BAD_ARGUMENT, 'oneAtATime takes a string or a Uint8Array');
}
