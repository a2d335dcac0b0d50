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

function clearBlock(): void {
  for (let i = 0; i < 16; i++) block[i] = 0;
}

// One compression of `block` into `state`: the 64 steps unrolled, Int32 arithmetic throughout.
function compress(): void {
  const x0 = block[0]!, x1 = block[1]!, x2 = block[2]!, x3 = block[3]!;
  const x4 = block[4]!, x5 = block[5]!, x6 = block[6]!, x7 = block[7]!;
  const x8 = block[8]!, x9 = block[9]!, x10 = block[10]!, x11 = block[11]!;
  const x12 = block[12]!, x13 = block[13]!, x14 = block[14]!, x15 = block[15]!;
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!;

  a = (a + (d ^ (b & (c ^ d))) + x0 - 680876936) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + (c ^ (a & (b ^ c))) + x1 - 389564586) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + (b ^ (d & (a ^ b))) + x2 + 606105819) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + (a ^ (c & (d ^ a))) + x3 - 1044525330) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + (d ^ (b & (c ^ d))) + x4 - 176418897) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + (c ^ (a & (b ^ c))) + x5 + 1200080426) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + (b ^ (d & (a ^ b))) + x6 - 1473231341) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + (a ^ (c & (d ^ a))) + x7 - 45705983) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + (d ^ (b & (c ^ d))) + x8 + 1770035416) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + (c ^ (a & (b ^ c))) + x9 - 1958414417) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + (b ^ (d & (a ^ b))) + x10 - 42063) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + (a ^ (c & (d ^ a))) + x11 - 1990404162) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + (d ^ (b & (c ^ d))) + x12 + 1804603682) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + (c ^ (a & (b ^ c))) + x13 - 40341101) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + (b ^ (d & (a ^ b))) + x14 - 1502002290) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + (a ^ (c & (d ^ a))) + x15 + 1236535329) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;

  a = (a + (c ^ (d & (b ^ c))) + x1 - 165796510) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + (b ^ (c & (a ^ b))) + x6 - 1069501632) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + (a ^ (b & (d ^ a))) + x11 + 643717713) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + (d ^ (a & (c ^ d))) + x0 - 373897302) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + (c ^ (d & (b ^ c))) + x5 - 701558691) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + (b ^ (c & (a ^ b))) + x10 + 38016083) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + (a ^ (b & (d ^ a))) + x15 - 660478335) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + (d ^ (a & (c ^ d))) + x4 - 405537848) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + (c ^ (d & (b ^ c))) + x9 + 568446438) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + (b ^ (c & (a ^ b))) + x14 - 1019803690) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + (a ^ (b & (d ^ a))) + x3 - 187363961) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + (d ^ (a & (c ^ d))) + x8 + 1163531501) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + (c ^ (d & (b ^ c))) + x13 - 1444681467) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + (b ^ (c & (a ^ b))) + x2 - 51403784) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + (a ^ (b & (d ^ a))) + x7 + 1735328473) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + (d ^ (a & (c ^ d))) + x12 - 1926607734) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;

  a = (a + (b ^ c ^ d) + x5 - 378558) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + x8 - 2022574463) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + x11 + 1839030562) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + x14 - 35309556) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + (b ^ c ^ d) + x1 - 1530992060) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + x4 + 1272893353) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + x7 - 155497632) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + x10 - 1094730640) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + (b ^ c ^ d) + x13 + 681279174) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + x0 - 358537222) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + x3 - 722521979) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + x6 + 76029189) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + (b ^ c ^ d) + x9 - 640364487) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + x12 - 421815835) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + x15 + 530742520) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + x2 - 995338651) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;

  a = (a + (c ^ (b | ~d)) + x0 - 198630844) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + x7 + 1126891415) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + x14 - 1416354905) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + x5 - 57434055) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + (c ^ (b | ~d)) + x12 + 1700485571) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + x3 - 1894986606) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + x10 - 1051523) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + x1 - 2054922799) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + (c ^ (b | ~d)) + x8 + 1873313359) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + x15 - 30611744) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + x6 - 1560198380) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + x13 + 1309151649) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + (c ^ (b | ~d)) + x4 - 145523070) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + x11 - 1120210379) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + x2 + 718787259) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + x9 - 343485551) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;

  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}

// Pads the last block, whose first `tail` bytes are already in `block`, and compresses it.
function finish(tail: number, length: number): void {
  block[tail >> 2]! |= 0x80 << ((tail & 3) << 3);
  if (tail >= 56) {
    compress();
    clearBlock();
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
  clearBlock();
  let tail = 0;
  for (; p < end; p++, tail++) block[tail >> 2]! |= data[p]! << ((tail & 3) << 3);
  finish(tail, end - start);
}

// Hashes `text` straight from its char codes; false (state undefined) when a char is not ASCII.
function hashAscii(text: string): boolean {
  resetState();
  const length = text.length;
  let p = 0;
  while (length - p >= 64) {
    let seen = 0;
    for (let i = 0; i < 16; i++, p += 4) {
      const c0 = text.charCodeAt(p), c1 = text.charCodeAt(p + 1);
      const c2 = text.charCodeAt(p + 2), c3 = text.charCodeAt(p + 3);
      seen |= c0 | c1 | c2 | c3;
      block[i] = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    }
    if (seen > 0x7f) return false;
    compress();
  }
  clearBlock();
  let seen = 0;
  let tail = 0;
  for (; p < length; p++, tail++) {
    const c = text.charCodeAt(p);
    seen |= c;
    block[tail >> 2]! |= c << ((tail & 3) << 3);
  }
  if (seen > 0x7f) return false;
  finish(tail, length);
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
