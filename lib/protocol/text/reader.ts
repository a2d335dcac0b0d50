/**
 * Streaming reader of classic text-protocol replies.
 *
 * A cursor moves over each chunk where it lies, finding each line's `\r\n`
 * with one scan and reading words and numbers in place. Only what spans reads
 * is kept: a split line in one reused buffer, a split value in one buffer of
 * its exact size, allocated once its VALUE line is read. A VALUE's key is
 * copied into a small reused buffer (the codec matches it against the keys
 * asked for). The current reply is exposed through the reader's own fields.
 */
import { ErrorCode, MemcacheError } from '../../errors.js';
import { MAX_KEY_LENGTH } from '../../key.js';
import { ValueSlab } from '../value-slab.js';

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

/** Longest reply line accepted (without its \r\n): anything longer is not memcached talking. */
export const LINE_MAX = 8 * 1024;

const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const TWO_32 = 4294967296;
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

// Reading states.
const LINE = 0;
/** Filling `body` with a value that spans reads. */
const BODY = 1;
/** The `\r\n` after a value. */
const TRAILER = 2;

export class TextReader {
  // ---- the current reply (valid during onReply) ----
  kind: Reply = Reply.END;
  /** VALUE: client flags. */
  flags = 0;
  /** VALUE: the CAS unique as two unsigned 32-bit halves, 0/0 when the line has none. */
  casHi = 0;
  casLo = 0;
  /** VALUE: the data block's length. */
  valueLength = 0;
  /** VALUE: the key echoed, in `key[0, keyLength)`. */
  readonly key = new Uint8Array(MAX_KEY_LENGTH);
  keyLength = 0;

  private valueBytes: Uint8Array = EMPTY;
  private valueStart = 0;
  /** True when `valueBytes` is a buffer assembled for this value alone (handed out without copying). */
  private owned = false;
  /** The chunk being read is never written over again (push's `kept`): values may be views of it. */
  private kept = false;
  /** Where the text after the reply word lies (STAT, VERSION, errors), or the digits of a NUMBER. */
  private lineBytes: Uint8Array = EMPTY;
  private textStart = 0;
  private textEnd = 0;

  // ---- what spans reads ----
  private state = LINE as number;
  private line: Uint8Array | null = null;
  private lineFill = 0;
  private body: Uint8Array = EMPTY;
  private bodyFill = 0;
  private trailerFill = 0;
  private stopped = false;
  private readonly slab = new ValueSlab();

  /** @param maxValueLength a VALUE announcing a longer value is corrupt, never allocated. */
  constructor(
    private readonly handler: TextReplyHandler,
    private readonly maxValueLength: number,
  ) {}

  /** True while part of a reply has been read and the rest has not. */
  get partial(): boolean {
    return this.state !== LINE || this.lineFill > 0;
  }

  /** Forgets any partial reply and stops the chunk being read (the connection is gone). */
  reset(): void {
    this.state = LINE;
    this.lineFill = 0;
    this.body = EMPTY;
    this.bodyFill = 0;
    this.trailerFill = 0;
    this.stopped = true;
    this.valueBytes = EMPTY;
    this.lineBytes = EMPTY;
  }

  /**
   * Feeds bytes as they come off the socket. Throws a PROTOCOL MemcacheError on
   * bytes that are not a reply. Nothing of `data` is read after this returns,
   * unless `kept` (it is never written over again): values are then views of it.
   */
  push(data: Uint8Array, kept = false): void {
    this.kept = kept;
    // A plain Uint8Array view: Node's Buffer overrides slice() to return a view (values must be copies).
    const chunk = data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.stopped = false;
    try {
      this.read(chunk);
    } finally {
      this.valueBytes = EMPTY;
      this.lineBytes = EMPTY;
    }
  }

  private read(chunk: Uint8Array): void {
    let pos = 0;
    if (this.state !== LINE) pos = this.continueValue(chunk, 0);
    else if (this.lineFill > 0) pos = this.continueLine(chunk);
    const length = chunk.length;
    while (pos >= 0 && pos < length && !this.stopped) {
      const lf = findLF(chunk, pos, length);
      if (lf < 0) {
        this.keepLine(chunk, pos);
        return;
      }
      if (lf - 1 - pos > LINE_MAX) throw lineTooLong();
      if (lf === pos || chunk[lf - 1] !== CR) throw corrupt('a reply line ends in \\n without \\r');
      this.parseLine(chunk, pos, lf - 1);
      pos = this.afterLine(chunk, lf + 1);
    }
  }

  // ---- the current reply ----

  /** The value as bytes the caller may keep. */
  value(): Uint8Array {
    if (this.owned) return this.valueBytes;
    return this.slab.take(this.valueBytes, this.valueStart, this.valueStart + this.valueLength, this.kept);
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

  /** The line after its reply word: an error's message, the version. */
  text(): string {
    return utf8.decode(this.lineBytes.subarray(this.textStart, this.textEnd));
  }

  /** The VALUE's key as a string (the rare path: a hit out of the order asked). */
  keyText(): string {
    return utf8.decode(this.key.subarray(0, this.keyLength));
  }

  /** A STAT line's name. */
  statName(): string {
    return utf8.decode(this.lineBytes.subarray(this.textStart, this.statSplit()));
  }

  /** A STAT line's value (the rest of the line, spaces included). */
  statValue(): string {
    const split = this.statSplit();
    return utf8.decode(this.lineBytes.subarray(Math.min(split + 1, this.textEnd), this.textEnd));
  }

  private statSplit(): number {
    const b = this.lineBytes;
    let i = this.textStart;
    while (i < this.textEnd && b[i] !== SPACE) i++;
    return i;
  }

  // ---- lines ----

  private keepLine(chunk: Uint8Array, pos: number): void {
    const n = chunk.length - pos;
    if (n > LINE_MAX + 1) throw lineTooLong();
    if (this.line === null) this.line = new Uint8Array(LINE_MAX + 2);
    this.line.set(chunk.subarray(pos), 0);
    this.lineFill = n;
  }

  /** Completes a line begun in an earlier chunk; returns where the chunk resumes, or -1. */
  private continueLine(chunk: Uint8Array): number {
    const line = this.line!;
    const lf = chunk.indexOf(LF);
    const take = lf < 0 ? chunk.length : lf + 1;
    if (this.lineFill + take - (lf < 0 ? 1 : 2) > LINE_MAX) throw lineTooLong();
    line.set(chunk.subarray(0, take), this.lineFill);
    this.lineFill += take;
    if (lf < 0) return -1;
    const end = this.lineFill - 1;
    this.lineFill = 0;
    if (end === 0 || line[end - 1] !== CR) throw corrupt('a reply line ends in \\n without \\r');
    this.parseLine(line, 0, end - 1);
    return this.afterLine(chunk, take);
  }

  /** Hands out a reply whose line was just read, reading a VALUE's data first; returns where the chunk resumes, or -1. */
  private afterLine(chunk: Uint8Array, pos: number): number {
    if (this.kind !== Reply.VALUE) {
      this.owned = false;
      this.handler.onReply(this);
      return pos;
    }
    const n = this.valueLength;
    if (chunk.length - pos >= n + 2) {
      if (chunk[pos + n] !== CR || chunk[pos + n + 1] !== LF) throw missingTrailer();
      this.valueBytes = chunk;
      this.valueStart = pos;
      this.owned = false;
      this.handler.onReply(this);
      return pos + n + 2;
    }
    this.body = new Uint8Array(n);
    this.bodyFill = 0;
    this.state = BODY;
    return this.continueValue(chunk, pos);
  }

  /** Adds a chunk's bytes to a value that spans reads; returns where the chunk resumes, or -1. */
  private continueValue(chunk: Uint8Array, pos: number): number {
    const length = chunk.length;
    if (this.state === BODY) {
      const body = this.body;
      const take = Math.min(body.length - this.bodyFill, length - pos);
      body.set(chunk.subarray(pos, pos + take), this.bodyFill);
      this.bodyFill += take;
      pos += take;
      if (this.bodyFill < body.length) return -1;
      this.state = TRAILER;
      this.trailerFill = 0;
    }
    while (this.trailerFill < 2) {
      if (pos >= length) return -1;
      if (chunk[pos] !== (this.trailerFill === 0 ? CR : LF)) throw missingTrailer();
      pos++;
      this.trailerFill++;
    }
    this.state = LINE;
    this.valueBytes = this.body;
    this.valueStart = 0;
    this.owned = true;
    this.body = EMPTY;
    this.handler.onReply(this);
    return pos;
  }

  /** Reads the reply word (and a VALUE's fields) of the line `b[start, end)` (end at its \r). */
  private parseLine(b: Uint8Array, start: number, end: number): void {
    const c0 = b[start]!;
    if (c0 >= 0x30 && c0 <= 0x39) return this.parseNumber(b, start, end);
    let w = start;
    while (w < end && b[w] !== SPACE) w++;
    const kind = replyWord(b, start, w);
    if (kind === 0) throw corrupt(`unknown reply ${describeBytes(b, start, Math.min(w, start + 16))}`);
    this.kind = kind;
    if (kind === Reply.VALUE) return this.parseValue(b, w, end);
    this.lineBytes = b;
    this.textStart = w < end ? w + 1 : end;
    this.textEnd = end;
    // The bare words take no arguments.
    if (w !== end && kind !== Reply.STAT && kind !== Reply.VERSION && kind !== Reply.CLIENT_ERROR && kind !== Reply.SERVER_ERROR) {
      throw corrupt(`${replyName(kind)} followed by ${describeBytes(b, w, Math.min(end, w + 16))}`);
    }
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

/** The first \n at or after `from`, or -1 (a loop for short lines, indexOf past 64 bytes). */
function findLF(b: Uint8Array, from: number, length: number): number {
  const stop = Math.min(length, from + 64);
  for (let i = from; i < stop; i++) if (b[i] === LF) return i;
  return stop === length ? -1 : b.indexOf(LF, stop);
}

function tokenEnd(b: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && b[i] !== SPACE) i++;
  return i;
}

/** Decimal digits `b[from, to)` as an unsigned 32-bit number, or -1. */
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

const words: [Uint8Array, Reply][] = (
  [
    ['VALUE', Reply.VALUE], ['END', Reply.END], ['STORED', Reply.STORED], ['NOT_STORED', Reply.NOT_STORED],
    ['EXISTS', Reply.EXISTS], ['NOT_FOUND', Reply.NOT_FOUND], ['DELETED', Reply.DELETED], ['TOUCHED', Reply.TOUCHED],
    ['OK', Reply.OK], ['STAT', Reply.STAT], ['VERSION', Reply.VERSION], ['ERROR', Reply.ERROR],
    ['CLIENT_ERROR', Reply.CLIENT_ERROR], ['SERVER_ERROR', Reply.SERVER_ERROR],
  ] as const
).map(([w, k]) => [new TextEncoder().encode(w), k]);

function replyWord(b: Uint8Array, start: number, end: number): Reply | 0 {
  const n = end - start;
  outer: for (let k = 0; k < words.length; k++) {
    const [word, kind] = words[k]!;
    if (word.length !== n) continue;
    for (let i = 0; i < n; i++) if (b[start + i] !== word[i]) continue outer;
    return kind;
  }
  return 0;
}

/** Bytes for a message: printable ASCII as is, the rest as \xNN. */
function describeBytes(b: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return JSON.stringify(out);
}

function corrupt(what: string): MemcacheError {
  return new MemcacheError(ErrorCode.PROTOCOL, `corrupt text reply: ${what}`);
}

function lineTooLong(): MemcacheError {
  return corrupt(`a line of more than ${LINE_MAX} bytes without \\r\\n`);
}

function missingTrailer(): MemcacheError {
  return corrupt('a value not followed by \\r\\n');
}
