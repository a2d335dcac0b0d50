/**
 * libhashkit's `murmur` key hash: MurmurHash2 (32-bit), with the seed
 * libhashkit derives from the length, `0xdeadbeef * length`. Not MurmurHash3.
 */

import { utf8Scratch, writeUtf8ToScratch } from './utf8.js';

const M = 0x5bd1e995;

function murmurOfBytes(bytes: Uint8Array, length: number): number {
  let h = Math.imul(0xdeadbeef | 0, length) ^ length;
  let p = 0;
  for (; length - p >= 4; p += 4) {
    let k = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length - p;
  if (rest > 0) {
    // The 1-3 bytes left, as a little-endian word.
    let k = bytes[p]!;
    if (rest > 1) k |= bytes[p + 1]! << 8;
    if (rest > 2) k |= bytes[p + 2]! << 16;
    h = Math.imul(h ^ k, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h >>> 0;
}

export function murmur(data: Uint8Array | string): number {
  if (typeof data === 'string') {
    const length = writeUtf8ToScratch(data);
    return murmurOfBytes(utf8Scratch(), length);
  }
  return murmurOfBytes(data, data.length);
}
