/**
 * Streaming reader of meta replies (and of the few classic text replies the
 * meta codec asks for: OK, END, STAT, VERSION, STORED and the error lines).
 *
 * LineReader frames the lines and VA's data blocks; this reads a line's
 * tokens and numbers in place into the reader's own fields, so reading
 * allocates nothing per reply beyond the value handed out.
 */
import { ErrorCode, MemcacheError } from '../../errors.js';
import { LINE_MAX, LineReader, describeBytes, matchWord, wordTable } from '../line-reader.js';

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

export { LINE_MAX };

const SPACE = 0x20;
const TWO_32 = 4294967296;

export class MetaReader extends LineReader<MetaReader> {
  // ---- the current reply (valid during onReply; valueLength, value() and text() are LineReader's) ----
  kind: Reply = Reply.HD;
  /** Client flags (f), 0 when absent. */
  flags = 0;
  /** CAS (c) as two unsigned 32-bit halves, 0/0 when absent. */
  casHi = 0;
  casLo = 0;
  /** The O token as an unsigned 32-bit number, or -1 when the reply has none. */
  opaque = -1;
  /** W, X and Z as LeaseFlag bits, 0 when absent. */
  lease = 0;

  /**
   * @param maxValueLength a VA announcing a longer value is corrupt, never allocated.
   */
  constructor(handler: ReplyHandler, maxValueLength: number) {
    super(handler, maxValueLength, 'meta');
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

  /** Reads the reply word and flags of the line `b[start, end)` (end at its \r). */
  protected parseLine(b: Uint8Array, start: number, end: number): boolean {
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
        return kind === Reply.VA;
      }
    }
    const kind = matchWord(words, b, start, w);
    if (kind === 0) throw corrupt(`unknown reply ${describeBytes(b, start, Math.min(w, start + 16))}`);
    this.kind = kind;
    this.lineBytes = b;
    this.textStart = w < end ? w + 1 : end;
    this.textEnd = end;
    // The bare words take no arguments.
    if (w !== end && (kind === Reply.OK || kind === Reply.END || kind === Reply.STORED || kind === Reply.ERROR)) {
      throw corrupt(`${replyName(kind)} followed by ${describeBytes(b, w, Math.min(end, w + 16))}`);
    }
    return false;
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
  ['OK', Reply.OK], ['END', Reply.END], ['STAT', Reply.STAT], ['VERSION', Reply.VERSION], ['STORED', Reply.STORED],
  ['ERROR', Reply.ERROR], ['CLIENT_ERROR', Reply.CLIENT_ERROR], ['SERVER_ERROR', Reply.SERVER_ERROR],
]);

function corrupt(what: string): MemcacheError {
  return new MemcacheError(ErrorCode.PROTOCOL, `corrupt meta reply: ${what}`);
}
