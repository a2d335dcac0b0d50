/**
 * Streaming reader of meta replies (and of the few classic text replies the
 * meta codec asks for: OK, END, STAT, VERSION, STORED and the error lines).
 *
 * A cursor moves over each chunk where it lies, finding each line's `\r\n`
 * with one scan and reading tokens and numbers in place. Only what spans reads
 * is kept: a split line in one reused buffer, a split value in one buffer of
 * its exact size, allocated once its VA line is read. The current reply is
 * exposed through the reader's own fields, so reading allocates nothing per
 * reply beyond the value handed out.
 */
import { ErrorCode, MemcacheError } from '../../errors.js';
import { ValueSlab } from '../value-slab.js';

/** What a reply line is. */
export const Reply = {
  /** `VA <size> <flags>*` and a data block. */
  VA: 1,
  HD: 2,
  EN: 3,
  NF: 4,
  NS: 5,
  EX: 6,
  MN: 7,
  OK: 8,
  END: 9,
  STAT: 10,
  VERSION: 11,
  STORED: 12,
  ERROR: 13,
  CLIENT_ERROR: 14,
  SERVER_ERROR: 15,
} as const;
export type Reply = (typeof Reply)[keyof typeof Reply];

const replyNames = ['', 'VA', 'HD', 'EN', 'NF', 'NS', 'EX', 'MN', 'OK', 'END', 'STAT', 'VERSION', 'STORED', 'ERROR', 'CLIENT_ERROR', 'SERVER_ERROR'];

/** The reply word of a kind, for messages. */
export function replyName(kind: number): string {
  return replyNames[kind] ?? `reply ${kind}`;
}

/** The lease flags of an mg reply (MetaReader.lease), one bit each. */
export const LeaseFlag = {
  /** W: this client won the right to (re)load the item. */
  Won: 1,
  /** X: the item is stale (marked by md I). */
  Stale: 2,
  /** Z: another client already holds the win. */
  Taken: 4,
} as const;

/** Receives each complete reply; reads the reader's fields synchronously. */
export interface ReplyHandler {
  onReply(reader: MetaReader): void;
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

export class MetaReader {
  // ---- the current reply (valid during onReply) ----
  kind: Reply = Reply.HD;
  /** Client flags (f), 0 when absent. */
  flags = 0;
  /** CAS (c) as two unsigned 32-bit halves, 0/0 when absent. */
  casHi = 0;
  casLo = 0;
  /** The O token as an unsigned 32-bit number, or -1 when the reply has none. */
  opaque = -1;
  /** VA: the data block's length. */
  valueLength = 0;
  /** W, X and Z as LeaseFlag bits, 0 when absent. */
  lease = 0;

  private valueBytes: Uint8Array = EMPTY;
  private valueStart = 0;
  /** True when `valueBytes` is a buffer assembled for this value alone (handed out without copying). */
  private owned = false;
  /** The chunk being read is never written over again (push's `kept`): values may be views of it. */
  private kept = false;
  /** Where the text after the reply word lies (STAT, VERSION, errors). */
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

  /**
   * @param maxValueLength a VA announcing a longer value is corrupt, never allocated.
   */
  constructor(
    private readonly handler: ReplyHandler,
    private readonly maxValueLength: number,
  ) {}

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
   * bytes that are not a reply. Nothing of `data` is read after this returns
   * (split lines and values are copied, values handed out are copies), so the
   * caller may reuse it; unless `kept` (it never writes over `data` again),
   * when values handed out are views of it.
   */
  push(data: Uint8Array, kept = false): void {
    this.kept = kept;
    // A plain Uint8Array view: Node's Buffer overrides slice() to return a view (values must be copies).
    const chunk = data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.stopped = false;
    try {
      this.read(chunk);
    } finally {
      // Holding no reference to a lent chunk.
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

  /**
   * The value as bytes the caller may keep: the assembled buffer itself, a
   * view of a kept chunk, or a copy out of a lent one (small ones into a
   * shared slab).
   */
  value(): Uint8Array {
    if (this.owned) return this.valueBytes;
    return this.slab.take(this.valueBytes, this.valueStart, this.valueStart + this.valueLength, this.kept);
  }

  /** The value read as an unsigned 64-bit decimal number (an ma reply). */
  counter(): bigint {
    const b = this.valueBytes;
    const start = this.valueStart;
    const end = start + this.valueLength;
    if (end === start || end - start > 20) throw corrupt(`counter value of ${end - start} bytes`);
    let hi = 0;
    let lo = 0;
    for (let i = start; i < end; i++) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) throw corrupt('counter value is not a decimal number');
      lo = lo * 10 + d;
      const carry = Math.floor(lo / TWO_32);
      lo -= carry * TWO_32;
      hi = hi * 10 + carry;
      if (hi >= TWO_32) throw corrupt('counter value is over 2^64');
    }
    // Exact as a double below 2^53; the common case avoids two BigInt operations.
    return hi < 0x200000 ? BigInt(hi * TWO_32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** The line after its reply word: an error's message, the version. */
  text(): string {
    return utf8.decode(this.lineBytes.subarray(this.textStart, this.textEnd));
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

  /** Keeps the start of a line the chunk ends inside. */
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
    // Without its \r\n (or the \r that may end what has come so far).
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

  /** Hands out a reply whose line was just read, reading a VA's data first; returns where the chunk resumes, or -1. */
  private afterLine(chunk: Uint8Array, pos: number): number {
    if (this.kind !== Reply.VA) {
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

  /** Reads the reply word and flags of the line `b[start, end)` (end at its \r). */
  private parseLine(b: Uint8Array, start: number, end: number): void {
    this.flags = 0;
    this.casHi = 0;
    this.casLo = 0;
    this.opaque = -1;
    this.valueLength = 0;
    this.lease = 0;
    let w = start;
    while (w < end && b[w] !== SPACE) w++;
    const c0 = b[start]!;
    const c1 = b[start + 1]!;
    if (w - start === 2) {
      const kind = metaCode((c0 << 8) | c1);
      if (kind !== 0) {
        this.kind = kind;
        this.parseFlags(b, w, end, kind === Reply.VA);
        return;
      }
    }
    const kind = textWord(b, start, w);
    if (kind === 0) throw corrupt(`unknown reply ${describeBytes(b, start, Math.min(w, start + 16))}`);
    this.kind = kind;
    this.lineBytes = b;
    this.textStart = w < end ? w + 1 : end;
    this.textEnd = end;
    // The bare words take no arguments.
    if (w !== end && (kind === Reply.OK || kind === Reply.END || kind === Reply.STORED || kind === Reply.ERROR)) {
      throw corrupt(`${replyName(kind)} followed by ${describeBytes(b, w, Math.min(end, w + 16))}`);
    }
  }

  /** Reads ` <size>` (VA) and ` <flag><token>` pairs from `at` to `end`. */
  private parseFlags(b: Uint8Array, at: number, end: number, sized: boolean): void {
    if (sized) {
      if (at >= end) throw corrupt('VA without a length');
      let n = 0;
      let i = at + 1;
      for (; i < end && b[i] !== SPACE; i++) {
        const d = b[i]! - 0x30;
        if (d < 0 || d > 9) throw corrupt('VA length is not a decimal number');
        n = n * 10 + d;
        if (n > this.maxValueLength) throw corrupt(`VA length over the ${this.maxValueLength}-byte limit`);
      }
      if (i === at + 1) throw corrupt('VA without a length');
      this.valueLength = n;
      at = i;
    }
    while (at < end) {
      // `at` is on a space.
      const flag = b[at + 1]!;
      if (at + 1 >= end || flag <= SPACE || flag >= 0x7f) throw corrupt('malformed flags in a reply line');
      let e = at + 2;
      while (e < end && b[e] !== SPACE) e++;
      if (flag === 0x66 /* f */) {
        const n = uint32(b, at + 2, e);
        if (n < 0) throw corrupt('f token is not a 32-bit number');
        this.flags = n;
      } else if (flag === 0x63 /* c */) {
        this.parseCas(b, at + 2, e);
      } else if (flag === 0x4f /* O */) {
        const n = uint32(b, at + 2, e);
        if (n < 0) throw corrupt('O token is not one of ours (a 32-bit number)');
        this.opaque = n;
      } else if (flag === 0x57 /* W */) {
        this.lease |= LeaseFlag.Won;
      } else if (flag === 0x58 /* X */) {
        this.lease |= LeaseFlag.Stale;
      } else if (flag === 0x5a /* Z */) {
        this.lease |= LeaseFlag.Taken;
      }
      // Other flags (k, t, s...) are not asked for or carry nothing the client keeps.
      at = e;
    }
  }

  private parseCas(b: Uint8Array, from: number, to: number): void {
    if (from === to || to - from > 20) throw corrupt('c token is not a 64-bit number');
    if (to - from <= 15) {
      // Exact as a double: the common case without a division per digit.
      let n = 0;
      for (let i = from; i < to; i++) {
        const d = b[i]! - 0x30;
        if (d < 0 || d > 9) throw corrupt('c token is not a 64-bit number');
        n = n * 10 + d;
      }
      const hi = Math.floor(n / TWO_32);
      this.casHi = hi;
      this.casLo = n - hi * TWO_32;
      return;
    }
    let hi = 0;
    let lo = 0;
    for (let i = from; i < to; i++) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) throw corrupt('c token is not a 64-bit number');
      lo = lo * 10 + d;
      const carry = Math.floor(lo / TWO_32);
      lo -= carry * TWO_32;
      hi = hi * 10 + carry;
      if (hi >= TWO_32) throw corrupt('c token is over 2^64');
    }
    this.casHi = hi;
    this.casLo = lo;
  }
}

/**
 * The first \n at or after `from`, or -1. A loop for the short lines replies
 * are (cheaper than a builtin call per line); indexOf past the line limit.
 */
function findLF(b: Uint8Array, from: number, length: number): number {
  const stop = Math.min(length, from + 64);
  for (let i = from; i < stop; i++) if (b[i] === LF) return i;
  return stop === length ? -1 : b.indexOf(LF, stop);
}

/** Decimal digits `b[from, to)` as an unsigned 32-bit number, or -1. */
function uint32(b: Uint8Array, from: number, to: number): number {
  if (from === to || to - from > 10) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n > 0xffffffff ? -1 : n;
}

function metaCode(code: number): Reply | 0 {
  switch (code) {
    case 0x5641: return Reply.VA;
    case 0x4844: return Reply.HD;
    case 0x454e: return Reply.EN;
    case 0x4e46: return Reply.NF;
    case 0x4e53: return Reply.NS;
    case 0x4558: return Reply.EX;
    case 0x4d4e: return Reply.MN;
    default: return 0;
  }
}

const words: [Uint8Array, Reply][] = (
  [['OK', Reply.OK], ['END', Reply.END], ['STAT', Reply.STAT], ['VERSION', Reply.VERSION], ['STORED', Reply.STORED],
    ['ERROR', Reply.ERROR], ['CLIENT_ERROR', Reply.CLIENT_ERROR], ['SERVER_ERROR', Reply.SERVER_ERROR]] as const
).map(([w, k]) => [new TextEncoder().encode(w), k]);

function textWord(b: Uint8Array, start: number, end: number): Reply | 0 {
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
  return new MemcacheError(ErrorCode.PROTOCOL, `corrupt meta reply: ${what}`);
}

function lineTooLong(): MemcacheError {
  return corrupt(`a line of more than ${LINE_MAX} bytes without \\r\\n`);
}

function missingTrailer(): MemcacheError {
  return corrupt('a value not followed by \\r\\n');
}
