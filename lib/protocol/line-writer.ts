/**
 * What the two text dialects' request writers (meta and classic text) share
 * beyond block management: numbers written as decimal digits in place, line
 * ends, and the classic commands both send as they are (version, stats,
 * flush_all). Each dialect's writer adds its own request lines.
 */
import type { Uint64 } from '../command.js';
import { BlockWriter } from './block-writer.js';

export const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const TWO_32 = 4294967296;

export const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const VERSION = ascii('version\r\n');
const STATS = ascii('stats');
const FLUSH = ascii('flush_all');

export abstract class LineWriter extends BlockWriter {
  /** `version`. */
  version(): void {
    this.constant(VERSION);
  }

  /** `stats` or `stats <group>` (the group checked as a key is: one token). */
  stats(group: string | null): void {
    if (group === null || group === '') {
      this.reserve(STATS.length + 2);
      this.commit(this.eol(this.bytes(this.end, STATS)));
      return;
    }
    this.checkKeyShape(group);
    this.reserve(STATS.length + 3 + group.length * 3);
    let at = this.bytes(this.end, STATS);
    this.block[at++] = SPACE;
    at += this.writeKey(group, at);
    this.commit(this.eol(at));
  }

  /** `flush_all` or `flush_all <delay>`. */
  flush(delay: number): void {
    this.reserve(FLUSH.length + 13);
    let at = this.bytes(this.end, FLUSH);
    if (delay !== 0) {
      this.block[at++] = SPACE;
      at = this.uint32(at, delay);
    }
    this.commit(this.eol(at));
  }

  /** A whole request that never changes. */
  protected constant(line: Uint8Array): void {
    this.reserve(line.length);
    this.commit(this.bytes(this.end, line));
  }

  protected bytes(at: number, bytes: Uint8Array): number {
    this.block.set(bytes, at);
    return at + bytes.length;
  }

  protected eol(at: number): number {
    this.block[at] = CR;
    this.block[at + 1] = LF;
    return at + 2;
  }

  /** A 64-bit CAS unique from its two 32-bit halves. */
  protected cas(at: number, hi: number, lo: number): number {
    if (hi === 0) return this.uint32(at, lo);
    // Exact as a double below 2^53; the common case avoids BigInt.
    if (hi < 0x200000) return this.safeInteger(at, hi * TWO_32 + lo);
    return this.text(at, ((BigInt(hi) << 32n) | BigInt(lo)).toString());
  }

  /** A counter operand below 2^64. */
  protected uint64(at: number, value: Uint64): number {
    if (typeof value === 'number') return value < TWO_32 ? this.uint32(at, value) : this.safeInteger(at, value);
    return value < 0x100000000n ? this.uint32(at, Number(value)) : this.text(at, value.toString());
  }

  /** Decimal digits of an unsigned 32-bit integer, written in place. */
  protected uint32(at: number, value: number): number {
    let n = value >>> 0;
    const end = at + digitCount(n);
    const b = this.block;
    let p = end;
    do {
      const q = (n / 10) >>> 0;
      b[--p] = 0x30 + (n - q * 10);
      n = q;
    } while (n !== 0);
    return end;
  }

  /** Decimal digits of a non-negative safe integer (at least 2^32). */
  protected safeInteger(at: number, value: number): number {
    let length = 10;
    while (length < 21 && value >= POW10[length]!) length++;
    const b = this.block;
    let n = value;
    let p = at + length;
    while (p > at) {
      const q = Math.floor(n / 10);
      b[--p] = 0x30 + (n - q * 10);
      n = q;
    }
    return at + length;
  }

  /** ASCII text (digits from the slow 64-bit paths). */
  protected text(at: number, text: string): number {
    const b = this.block;
    for (let i = 0; i < text.length; i++) b[at + i] = text.charCodeAt(i);
    return at + text.length;
  }
}

/** 10^i, exact as doubles up to 10^22. */
const POW10 = Array.from({ length: 22 }, (_, i) => 10 ** i);

function digitCount(n: number): number {
  if (n < 100000) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5;
  return n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
}
