/**
 * The key hashes libmemcached offers (its MEMCACHED_BEHAVIOR_HASH, PHP's
 * Memcached::OPT_HASH, pylibmc's `hash` behaviour), by name. Each returns
 * what libhashkit's function of the same name returns, as an unsigned 32-bit
 * integer, for a string hashed as its UTF-8 bytes.
 */

import { crc } from './crc32.js';
import { fnv1_32, fnv1_64, fnv1a_32, fnv1a_64 } from './fnv.js';
import { hsieh } from './hsieh.js';
import { jenkins } from './jenkins.js';
import { md5Word } from './md5.js';
import { murmur } from './murmur.js';
import { oneAtATime } from './one-at-a-time.js';

/**
 * - `one-at-a-time`: libmemcached's default (Jenkins one-at-a-time).
 * - `md5`: the first 4 bytes of the MD5 digest, little-endian.
 * - `crc`: bits 16-30 of the CRC-32 (0-32767): python-memcache, pecl memcache
 *   and Perl's Cache::Memcached place keys with it (under `modula`).
 * - `fnv1_64`, `fnv1a_64`, `fnv1_32`, `fnv1a_32`: FNV, bytes read as signed
 *   chars; the 64-bit ones truncated to their low 32 bits, as libhashkit does.
 * - `hsieh`: SuperFastHash (absent from Debian's libmemcached build).
 * - `murmur`: MurmurHash2 with libhashkit's length-derived seed.
 * - `jenkins`: lookup3 hashlittle, initval 13.
 */
export type KeyHash =
  | 'one-at-a-time'
  | 'md5'
  | 'crc'
  | 'fnv1_64'
  | 'fnv1a_64'
  | 'fnv1_32'
  | 'fnv1a_32'
  | 'hsieh'
  | 'murmur'
  | 'jenkins';

/** A key hash: bytes of `data` (a string as UTF-8) to an unsigned 32-bit integer. */
export type KeyHashFunction = (data: Uint8Array | string) => number;

const FUNCTIONS: Readonly<Record<KeyHash, KeyHashFunction>> = {
  'one-at-a-time': oneAtATime,
  md5: md5Word,
  crc,
  fnv1_64,
  fnv1a_64,
  fnv1_32,
  fnv1a_32,
  hsieh,
  murmur,
  jenkins,
};

/** Every key hash name, in libmemcached's order (MEMCACHED_HASH_DEFAULT = 0 ... JENKINS = 9). */
export const KEY_HASHES = Object.freeze(Object.keys(FUNCTIONS) as KeyHash[]);

export function isKeyHash(name: unknown): name is KeyHash {
  return typeof name === 'string' && Object.hasOwn(FUNCTIONS, name);
}

/** The function computing hash `name`. */
export function keyHashFunction(name: KeyHash): KeyHashFunction {
  return FUNCTIONS[name];
}
