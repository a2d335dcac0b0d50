/**
 * libmemcached's `crc` key hash: the CRC-32 of the key (the zlib one), of
 * which libhashkit keeps bits 16-30 only, so the hash is 0 to 32767. That is
 * also how python-memcache, pecl memcache and Perl's Cache::Memcached place
 * keys, except that python-memcache turns a 0 into 1.
 */

import { utf8Scratch, writeUtf8ToScratch } from './utf8.js';

// The reflected CRC-32 polynomial's byte table, built once.
const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

/** The CRC-32 of the first `length` bytes, in full (zlib's crc32). */
export function crc32OfBytes(bytes: Uint8Array, length: number): number {
  let crc = -1;
  for (let i = 0; i < length; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return ~crc >>> 0;
}

/** libhashkit's crc of `data` (a string as its UTF-8 bytes): `(crc32 >> 16) & 0x7fff`. */
export function crc(data: Uint8Array | string): number {
  if (typeof data === 'string') {
    const length = writeUtf8ToScratch(data);
    return (crc32OfBytes(utf8Scratch(), length) >>> 16) & 0x7fff;
  }
  return (crc32OfBytes(data, data.length) >>> 16) & 0x7fff;
}
