/**
 * libhashkit's four FNV key hashes. Two traps, both from its C code:
 * - it reads the key as signed chars, so a byte >= 0x80 is mixed in as a
 *   sign-extended word (0xffffff80 for 0x80), not as the byte;
 * - its 64-bit ones return the low 32 bits of the 64-bit hash. Those depend
 *   only on the low 32 bits of the offset basis and of the prime, so they are
 *   computed here in 32 bits: basis 0x84222325, prime 0x1b3.
 */

import { utf8Scratch, writeUtf8ToScratch } from './utf8.js';

const BASIS_32 = 0x811c9dc5 | 0;
const PRIME_32 = 0x01000193;
// Low halves of the 64-bit basis 0xcbf29ce484222325 and prime 0x100000001b3.
const BASIS_64_LOW = 0x84222325 | 0;
const PRIME_64_LOW = 0x1b3;

// FNV-1: multiply, then xor the (sign-extended) byte.
function fnv1(bytes: Uint8Array, length: number, basis: number, prime: number): number {
  let h = basis;
  for (let i = 0; i < length; i++) h = Math.imul(h, prime) ^ ((bytes[i]! << 24) >> 24);
  return h >>> 0;
}

// FNV-1a: xor the (sign-extended) byte, then multiply.
function fnv1a(bytes: Uint8Array, length: number, basis: number, prime: number): number {
  let h = basis;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ ((bytes[i]! << 24) >> 24), prime);
  return h >>> 0;
}

export function fnv1_32(data: Uint8Array | string): number {
  if (typeof data === 'string') {
    const length = writeUtf8ToScratch(data);
    return fnv1(utf8Scratch(), length, BASIS_32, PRIME_32);
  }
  return fnv1(data, data.length, BASIS_32, PRIME_32);
}

export function fnv1a_32(data: Uint8Array | string): number {
  if (typeof data === 'string') {
    const length = writeUtf8ToScratch(data);
    return fnv1a(utf8Scratch(), length, BASIS_32, PRIME_32);
  }
  return fnv1a(data, data.length, BASIS_32, PRIME_32);
}

export function fnv1_64(data: Uint8Array | string): number {
  if (typeof data === 'string') {
    const length = writeUtf8ToScratch(data);
    return fnv1(utf8Scratch(), length, BASIS_64_LOW, PRIME_64_LOW);
  }
  return fnv1(data, data.length, BASIS_64_LOW, PRIME_64_LOW);
}

export function fnv1a_64(data: Uint8Array | string): number {
  if (typeof data === 'string') {
    const length = writeUtf8ToScratch(data);
    return fnv1a(utf8Scratch(), length, BASIS_64_LOW, PRIME_64_LOW);
  }
  return fnv1a(data, data.length, BASIS_64_LOW, PRIME_64_LOW);
}
