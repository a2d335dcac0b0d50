/**
 * Streaming reader of classic text-protocol replies.
 *
 * LineReader frames the lines and VALUE's data blocks; this reads a line's
 * words and numbers in place into the reader's own fields. A VALUE's key is
 * copied into a small reused buffer (the codec matches it against the keys
 * asked for).
 */
import { ErrorCode, MemcacheError } from '../../errors.js';
import { MAX_KEY_LENGTH } from '../../key.js';
import { LINE_MAX, LineReader, describeBytes, matchWord, wordTable } from '../line-reader.js';

/** What a reply line is. */
export const Reply = {
  /** `VALUE <key> <flags> <bytes> [<cas>]` and a data block. */
  VALUE: 1,
  END: 2,
  STORED: 3,
  NOT_STORED: 4,
  EXISTS: 5,
  NOT_FOUND: 6,
  DELETED: 7,
  TOUCHED: 8,
  OK: 9,
  STAT: 10,
  VERSION: 11,
  ERROR: 12,
  CLIENT_ERROR: 13,
  SERVER_ERROR: 14,
  /** A line of decimal digits: incr/decr's new value. */
  NUMBER: 15,
} as const;
export type Reply = (typeof Reply)[keyof typeof Reply];

const replyNames = [
  '', 'VALUE', 'END', 'STORED', 'NOT_STORED', 'EXISTS', 'NOT_FOUND', 'DELETED', 'TOUCHED', 'OK', 'STAT', 'VERSION',
  'ERROR', 'CLIENT_ERROR', 'SERVER_ERROR', 'a number',
];

/** The reply word of a kind, for messages. */
export function replyName(kind: number): string {
  return replyNames[kind] ?? `reply ${kind}`;
}

/** Receives each complete reply; reads the reader's fields synchronously. */
export interface TextReplyHandler {
  onReply(reader: TextReader): void;
}

export { LINE_MAX };

const SPACE = 0x20;
const TWO_32 = 4294967296;
const utf8 = new TextDecoder();

export class TextReader extends LineReader<TextReader> {
  // ---- the current reply (valid during onReply; valueLength, value() and text() are LineReader's) ----
  kind: Reply = Reply.END;
  /** VALUE: client flags. */
  flags = 0;
  /** VALUE: the CAS unique as two unsigned 32-bit halves, 0/0 when the line has none. */
  casHi = 0;
  casLo = 0;
  /** VALUE: the key echoed, in `key[0, keyLength)`. */
  readonly key = new Uint8Array(MAX_KEY_LENGTH);
  keyLength = 0;

  /** @param maxValueLength a VALUE announcing a longer value is corrupt, never allocated. */
  constructor(handler: TextReplyHandler, maxValueLength: number) {
    super(handler, maxValueLength, 'text');
  }

  /** A NUMBER reply as an unsigned 64-bit integer. */
  counter(): bigint {
    const b = this.lineBytes;
    let hi = 0;
    let lo = 0;
    for (let i = this.textStart; i < this.textEnd; i++) {
      lo = lo * 10 + (b[i]! - 0x30);
      const carry = Math.floor(lo / TWO_32);
      lo -= carry * TWO_32;
      hi = hi * 10 + carry;
      if (hi >= TWO_32) throw corrupt('counter value is over 2^64');
    }
    return hi < 0x200000 ? BigInt(hi * TWO_32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** The VALUE's key as a string (the rare path: a hit out of the order asked). */
  keyText(): string {
    return utf8.decode(this.key.subarray(0, this.keyLength));
  }

  /** Reads the reply word (and a VALUE's fields) of the line `b[start, end)` (end at its \r). */
  protected parseLine(b: Uint8Array, start: number, end: number): boolean {
    const c0 = b[start]!;
    if (c0 >= 0x30 && c0 <= 0x39) {
      this.parseNumber(b, start, end);
      return false;
    }
    let w = start;
    while (w < end && b[w] !== SPACE) w++;
    const kind = matchWord(words, b, start, w);
    if (kind === 0) throw corrupt(`unknown reply ${describeBytes(b, start, Math.min(w, start + 16))}`);
    this.kind = kind;
    if (kind === Reply.VALUE) {
      this.parseValue(b, w, end);
      return true;
    }
    this.lineBytes = b;
    this.textStart = w < end ? w + 1 : end;
    this.textEnd = end;
    // The bare words take no arguments.
    if (w !== end && kind !== Reply.STAT && kind !== Reply.VERSION && kind !== Reply.CLIENT_ERROR && kind !== Reply.SERVER_ERROR) {
      throw corrupt(`${replyName(kind)} followed by ${describeBytes(b, w, Math.min(end, w + 16))}`);
    }
    return false;
  }

  /** incr/decr's reply: digits, which memcached may follow with spaces. */
  private parseNumber(b: Uint8Array, start: number, end: number): void {
    let i = start;
    while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
    const digits = i;
    while (i < end && b[i] === SPACE) i++;
    if (i !== end || digits - start > 20) throw corrupt(`a reply line that is not a number: ${describeBytes(b, start, Math.min(end, start + 24))}`);
    this.kind = Reply.NUMBER;
    this.lineBytes = b;
    this.textStart = start;
    this.textEnd = digits;
  }

  /** ` <key> <flags> <bytes> [<cas>]` from `at` (on the space after VALUE) to `end`. */
  private parseValue(b: Uint8Array, at: number, end: number): void {
    this.casHi = 0;
    this.casLo = 0;
    let from = at + 1;
    let to = tokenEnd(b, from, end);
    const keyLength = to - from;
    if (from >= end || keyLength === 0 || keyLength > MAX_KEY_LENGTH) throw corrupt('VALUE without a key of 1 to 250 bytes');
    this.key.set(b.subarray(from, to), 0);
    this.keyLength = keyLength;
    from = to + 1;
    to = tokenEnd(b, from, end);
    const flags = uint32(b, from, to);
    if (flags < 0) throw corrupt('VALUE flags are not a 32-bit number');
    this.flags = flags;
    from = to + 1;
    to = tokenEnd(b, from, end);
    const length = uint32(b, from, to);
    if (length < 0) throw corrupt('VALUE length is not a decimal number');
    if (length > this.maxValueLength) throw corrupt(`VALUE length over the ${this.maxValueLength}-byte limit`);
    this.valueLength = length;
    if (to < end) {
      from = to + 1;
      to = tokenEnd(b, from, end);
      if (to !== end) throw corrupt('VALUE line with more than a CAS unique after its length');
      this.parseCas(b, from, to);
    }
  }

  private parseCas(b: Uint8Array, from: number, to: number): void {
    if (from >= to || to - from > 20) throw corrupt('VALUE CAS unique is not a 64-bit number');
    let hi = 0;
    let lo = 0;
    for (let i = from; i < to; i++) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) throw corrupt('VALUE CAS unique is not a 64-bit number');
      lo = lo * 10 + d;
      const carry = Math.floor(lo / TWO_32);
      lo -= carry * TWO_32;
      hi = hi * 10 + carry;
      if (hi >= TWO_32) throw corrupt('VALUE CAS unique is over 2^64');
    }
    this.casHi = hi;
    this.casLo = lo;
  }
}

function tokenEnd(b: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && b[i] !== SPACE) i++;
  return i;
}

/**
 * Decimal digits `b[from, to)` as an unsigned 32-bit number, or -1. Kept in
 * this module, not shared: called per token, the imported one measured a few
 * percent slower on the meta decode.
 */
function uint32(b: Uint8Array, from: number, to: number): number {
  if (from >= to || to - from > 10) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n > 0xffffffff ? -1 : n;
}

const words = wordTable<Reply>([
  ['VALUE', Reply.VALUE], ['END', Reply.END], ['STORED', Reply.STORED], ['NOT_STORED', Reply.NOT_STORED],
  ['EXISTS', Reply.EXISTS], ['NOT_FOUND', Reply.NOT_FOUND], ['DELETED', Reply.DELETED], ['TOUCHED', Reply.TOUCHED],
  ['OK', Reply.OK], ['STAT', Reply.STAT], ['VERSION', Reply.VERSION], ['ERROR', Reply.ERROR],
  ['CLIENT_ERROR', Reply.CLIENT_ERROR], ['SERVER_ERROR', Reply.SERVER_ERROR],
]);

function corrupt(what: string): MemcacheError {
  return new MemcacheError(ErrorCode.PROTOCOL, `corrupt text reply: ${what}`);
}
