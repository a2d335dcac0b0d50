/**
 * MD5 (RFC 1321) in plain TypeScript over Uint8Array, for ketama key placement.
 * No node:crypto and no WebCrypto (which is async-only), so the ring runs
 * unchanged on Node, Deno, Bun and Workers. The hot path hashes a short key
 * without allocating: one preallocated block, the state in module scratch.
 */

import { ErrorCode, MemcacheError } from '../errors.js';
import { encodeUtf8ToScratch, utf8Scratch } from './utf8.js';

// The 16 little-endian words of the block being compressed.
const block = new Int32Array(16);
// The chaining state A, B, C, D; after the last block, the digest's four LE words.
const state = new Int32Array(4);

function resetState(): void {
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
}

// One compression of `block` into `state`: the 64 steps unrolled, Int32 arithmetic
// throughout. Each step sums a + word + constant first and adds the round function
// of b last, so only that function and the rotation wait on the previous step.
function compress(): void {
  const x0 = block[0]!, x1 = block[1]!, x2 = block[2]!, x3 = block[3]!;
  const x4 = block[4]!, x5 = block[5]!, x6 = block[6]!, x7 = block[7]!;
  const x8 = block[8]!, x9 = block[9]!, x10 = block[10]!, x11 = block[11]!;
  const x12 = block[12]!, x13 = block[13]!, x14 = block[14]!, x15 = block[15]!;
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!;

  a = (a + x0 - 680876936 + (d ^ (b & (c ^ d)))) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + x1 - 389564586 + (c ^ (a & (b ^ c)))) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + x2 + 606105819 + (b ^ (d & (a ^ b)))) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + x3 - 1044525330 + (a ^ (c & (d ^ a)))) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + x4 - 176418897 + (d ^ (b & (c ^ d)))) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + x5 + 1200080426 + (c ^ (a & (b ^ c)))) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + x6 - 1473231341 + (b ^ (d & (a ^ b)))) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + x7 - 45705983 + (a ^ (c & (d ^ a)))) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + x8 + 1770035416 + (d ^ (b & (c ^ d)))) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + x9 - 1958414417 + (c ^ (a & (b ^ c)))) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + x10 - 42063 + (b ^ (d & (a ^ b)))) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + x11 - 1990404162 + (a ^ (c & (d ^ a)))) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + x12 + 1804603682 + (d ^ (b & (c ^ d)))) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + x13 - 40341101 + (c ^ (a & (b ^ c)))) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + x14 - 1502002290 + (b ^ (d & (a ^ b)))) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + x15 + 1236535329 + (a ^ (c & (d ^ a)))) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;

  a = (a + x1 - 165796510 + (c & ~d) + (b & d)) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + x6 - 1069501632 + (b & ~c) + (a & c)) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + x11 + 643717713 + (a & ~b) + (d & b)) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + x0 - 373897302 + (d & ~a) + (c & a)) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + x5 - 701558691 + (c & ~d) + (b & d)) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + x10 + 38016083 + (b & ~c) + (a & c)) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + x15 - 660478335 + (a & ~b) + (d & b)) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + x4 - 405537848 + (d & ~a) + (c & a)) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + x9 + 568446438 + (c & ~d) + (b & d)) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + x14 - 1019803690 + (b & ~c) + (a & c)) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + x3 - 187363961 + (a & ~b) + (d & b)) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + x8 + 1163531501 + (d & ~a) + (c & a)) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + x13 - 1444681467 + (c & ~d) + (b & d)) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + x2 - 51403784 + (b & ~c) + (a & c)) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + x7 + 1735328473 + (a & ~b) + (d & b)) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + x12 - 1926607734 + (d & ~a) + (c & a)) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;

  a = (a + x5 - 378558 + (c ^ d ^ b)) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + x8 - 2022574463 + (b ^ c ^ a)) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + x11 + 1839030562 + (a ^ b ^ d)) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + x14 - 35309556 + (d ^ a ^ c)) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + x1 - 1530992060 + (c ^ d ^ b)) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + x4 + 1272893353 + (b ^ c ^ a)) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + x7 - 155497632 + (a ^ b ^ d)) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + x10 - 1094730640 + (d ^ a ^ c)) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + x13 + 681279174 + (c ^ d ^ b)) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + x0 - 358537222 + (b ^ c ^ a)) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + x3 - 722521979 + (a ^ b ^ d)) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + x6 + 76029189 + (d ^ a ^ c)) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + x9 - 640364487 + (c ^ d ^ b)) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + x12 - 421815835 + (b ^ c ^ a)) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + x15 + 530742520 + (a ^ b ^ d)) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + x2 - 995338651 + (d ^ a ^ c)) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;

  a = (a + x0 - 198630844 + (c ^ (b | ~d))) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + x7 + 1126891415 + (b ^ (a | ~c))) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + x14 - 1416354905 + (a ^ (d | ~b))) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + x5 - 57434055 + (d ^ (c | ~a))) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + x12 + 1700485571 + (c ^ (b | ~d))) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + x3 - 1894986606 + (b ^ (a | ~c))) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + x10 - 1051523 + (a ^ (d | ~b))) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + x1 - 2054922799 + (d ^ (c | ~a))) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + x8 + 1873313359 + (c ^ (b | ~d))) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + x15 - 30611744 + (b ^ (a | ~c))) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + x6 - 1560198380 + (a ^ (d | ~b))) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + x13 + 1309151649 + (d ^ (c | ~a))) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + x4 - 145523070 + (c ^ (b | ~d))) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + x11 - 1120210379 + (b ^ (a | ~c))) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + x2 + 718787259 + (a ^ (d | ~b))) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + x9 - 343485551 + (d ^ (c | ~a))) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;

  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}

/**
 * Pads and compresses the last block: its first `words` words are filled,
 * `last` holds the 0-3 bytes left over with the 0x80 end marker after them.
 */
function finish(words: number, last: number, length: number): void {
  block[words] = last;
  for (let i = words + 1; i < 16; i++) block[i] = 0;
  // 56 bytes or more in this block: no room left for the length.
  if (words >= 14) {
    compress();
    for (let i = 0; i < 14; i++) block[i] = 0;
  }
  // The message length in bits, as a 64-bit little-endian number.
  block[14] = length << 3;
  block[15] = (length / 0x20000000) | 0;
  compress();
}

function hashBytes(data: Uint8Array, start: number, end: number): void {
  resetState();
  let p = start;
  while (end - p >= 64) {
    for (let i = 0; i < 16; i++, p += 4) {
      block[i] = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24);
    }
    compress();
  }
  const words = (end - p) >> 2;
  for (let i = 0; i < words; i++, p += 4) {
    block[i] = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24);
  }
  let last = 0x80 << ((end - p) << 3);
  for (let shift = 0; p < end; p++, shift += 8) last |= data[p]! << shift;
  finish(words, last, end - start);
}

// Hashes `text` straight from its char codes; false (state undefined) when a char is not ASCII.
function hashAscii(text: string): boolean {
  resetState();
  const length = text.length;
  let p = 0;
  let seen = 0;
  while (length - p >= 64) {
    for (let i = 0; i < 16; i++, p += 4) {
      const c0 = text.charCodeAt(p), c1 = text.charCodeAt(p + 1);
      const c2 = text.charCodeAt(p + 2), c3 = text.charCodeAt(p + 3);
      seen |= c0 | c1 | c2 | c3;
      block[i] = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    }
    if (seen > 0x7f) return false;
    compress();
  }
  const words = (length - p) >> 2;
  for (let i = 0; i < words; i++, p += 4) {
    const c0 = text.charCodeAt(p), c1 = text.charCodeAt(p + 1);
    const c2 = text.charCodeAt(p + 2), c3 = text.charCodeAt(p + 3);
    seen |= c0 | c1 | c2 | c3;
    block[i] = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
  }
  let last = 0x80 << ((length - p) << 3);
  for (let shift = 0; p < length; p++, shift += 8) {
    const c = text.charCodeAt(p);
    seen |= c;
    last |= c << shift;
  }
  if (seen > 0x7f) return false;
  finish(words, last, length);
  return true;
}

function hashString(text: string): void {
  if (hashAscii(text)) return;
  const length = encodeUtf8ToScratch(text); // may replace the scratch buffer: encode first
  hashBytes(utf8Scratch(), 0, length);
}

function hashInput(data: Uint8Array | string): void {
  if (typeof data === 'string') hashString(data);
  else if (data instanceof Uint8Array) hashBytes(data, 0, data.length);
  else throw new MemcacheError(ErrorCode.BAD_ARGUMENT, 'md5 takes a string or a Uint8Array');
}

/** The 16-byte MD5 digest of `data`; a string is hashed as its UTF-8 bytes. */
export function md5(data: Uint8Array | string): Uint8Array {
  hashInput(data);
  const digest = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const word = state[i]!;
    digest[i * 4] = word;
    digest[i * 4 + 1] = word >>> 8;
    digest[i * 4 + 2] = word >>> 16;
    digest[i * 4 + 3] = word >>> 24;
  }
  return digest;
}

/**
 * The digest's first four bytes as an unsigned little-endian integer: the
 * ketama key hash. Allocation-free for ASCII strings and byte arrays.
 */
export function md5Word(data: Uint8Array | string): number {
  hashInput(data);
  return state[0]! >>> 0;
}

/**
 * Writes the digest's four little-endian words (bytes 0-3, 4-7, 8-11, 12-15)
 * into `out` at `offset`: the four ketama points of one label, without allocating.
 */
export function md5Words(data: Uint8Array | string, out: Uint32Array, offset = 0): void {
  hashInput(data);
  out[offset] = state[0]!;
  out[offset + 1] = state[1]!;
  out[offset + 2] = state[2]!;
  out[offset + 3] = state[3]!;
}

/** md5Words over the first `length` bytes of `bytes`: for labels built in a reused buffer. */
export function md5WordsOfBytes(bytes: Uint8Array, length: number, out: Uint32Array, offset: number): void {
  hashBytes(bytes, 0, length);
  out[offset] = state[0]!;
  out[offset + 1] = state[1]!;
  out[offset + 2] = state[2]!;
  out[offset + 3] = state[3]!;
}
