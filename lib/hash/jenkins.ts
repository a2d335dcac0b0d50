/**
 * libhashkit's `jenkins` key hash: Bob Jenkins' lookup3 `hashlittle` with
 * initval 13, bytes read as unsigned little-endian words (on little-endian
 * machines its word-at-a-time and byte-at-a-time paths agree).
 */

import { utf8Scratch, writeUtf8ToScratch } from './utf8.js';

const INITVAL = 13;

// Bytes `at` to `at + count - 1` (count 1-4) as a little-endian word, zero-padded.
function wordAt(bytes: Uint8Array, at: number, count: number): number {
  let word = bytes[at]!;
  if (count > 1) word |= bytes[at + 1]! << 8;
  if (count > 2) word |= bytes[at + 2]! << 16;
  if (count > 3) word |= bytes[at + 3]! << 24;
  return word;
}

function jenkinsOfBytes(bytes: Uint8Array, length: number): number {
  let a = (0xdeadbeef + length + INITVAL) | 0;
  let b = a;
  let c = a;
  if (length === 0) return c >>> 0;
  let p = 0;
  for (; length - p > 12; p += 12) {
    a = (a + wordAt(bytes, p, 4)) | 0;
    b = (b + wordAt(bytes, p + 4, 4)) | 0;
    c = (c + wordAt(bytes, p + 8, 4)) | 0;
    // mix(a, b, c)
    a = (a - c) | 0; a ^= (c << 4) | (c >>> 28); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 6) | (a >>> 26); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 8) | (b >>> 24); b = (b + a) | 0;
    a = (a - c) | 0; a ^= (c << 16) | (c >>> 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 19) | (a >>> 13); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 4) | (b >>> 28); b = (b + a) | 0;
  }
  // The last 1-12 bytes.
  const rest = length - p;
  a = (a + wordAt(bytes, p, Math.min(rest, 4))) | 0;
  if (rest > 4) b = (b + wordAt(bytes, p + 4, Math.min(rest - 4, 4))) | 0;
  if (rest > 8) c = (c + wordAt(bytes, p + 8, rest - 8)) | 0;
  // final(a, b, c)
  c ^= b; c = (c - ((b << 14) | (b >>> 18))) | 0;
  a ^= c; a = (a - ((c << 11) | (c >>> 21))) | 0;
  b ^= a; b = (b - ((a << 25) | (a >>> 7))) | 0;
  c ^= b; c = (c - ((b << 16) | (b >>> 16))) | 0;
  a ^= c; a = (a - ((c << 4) | (c >>> 28))) | 0;
  b ^= a; b = (b - ((a << 14) | (a >>> 18))) | 0;
  c ^= b; c = (c - ((b << 24) | (b >>> 8))) | 0;
  return c >>> 0;
}

export function jenkins(data: Uint8Array | string): number {
  if (typeof data === 'string') {
    const length = writeUtf8ToScratch(data);
    return jenkinsOfBytes(utf8Scratch(), length);
  }
  return jenkinsOfBytes(data, data.length);
}
