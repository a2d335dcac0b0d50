/**
 * The framing the meta and text readers share: reply lines ending in `\r\n`,
 * some followed by a data block of a length the line announces and its `\r\n`.
 *
 * A cursor moves over each chunk where it lies, finding each line's `\r\n`
 * with one scan. Only what spans reads is kept: a split line in one reused
 * buffer, a split value in one buffer of its exact size, allocated once its
 * line is read. A subclass reads a line's words into its own fields
 * (parseLine, one call per line); the base hands each complete reply to the
 * handler, so reading allocates nothing per reply beyond the value handed out.
 */
import { ErrorCode, MemcacheError } from '../errors.js';
import { ValueSlab } from './value-slab.js';

/** Longest reply line accepted (without its \r\n): anything longer is not memcached talking. */
export const LINE_MAX = 8 * 1024;

const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

// Reading states.
const LINE = 0;
/** Filling `body` with a value that spans reads. */
const BODY = 1;
/** The `\r\n` after a value. */
const TRAILER = 2;

/** Receives each complete reply; reads the reader's fields synchronously. */
export interface LineReplyHandler<R> {
  onReply(reader: R): void;
}

/** `R` is the subclass itself: the handler is handed the reader it reads the fields of. */
export abstract class LineReader<R> {
  /** The data block's length (valid during onReply of a reply that has one). */
  valueLength = 0;

  protected valueBytes: Uint8Array = EMPTY;
  protected valueStart = 0;
  /** True when `valueBytes` is a buffer assembled for this value alone (handed out without copying). */
  private owned = false;
  /** The chunk being read is never written over again (push's `kept`): values may be views of it. */
  private kept = false;
  /** Where the text after the reply word lies (STAT, VERSION, errors), set by parseLine. */
  protected lineBytes: Uint8Array = EMPTY;
  protected textStart = 0;
  protected textEnd = 0;

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
   * @param maxValueLength a line announcing a longer value is corrupt, never allocated.
   * @param protocol the protocol's name in error messages ("meta", "text").
   */
  constructor(
    private readonly handler: LineReplyHandler<R>,
    protected readonly maxValueLength: number,
    private readonly protocol: string,
  ) {}

  /**
   * Reads the reply line `b[start, end)` (end at its \r) into the reader's
   * fields; returns true when a data block of `valueLength` bytes follows.
   */
  protected abstract parseLine(b: Uint8Array, start: number, end: number): boolean;

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
      if (lf - 1 - pos > LINE_MAX) throw this.lineTooLong();
      if (lf === pos || chunk[lf - 1] !== CR) throw this.corrupt('a reply line ends in \\n without \\r');
      pos = this.afterLine(this.parseLine(chunk, pos, lf - 1), chunk, lf + 1);
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
    if (n > LINE_MAX + 1) throw this.lineTooLong();
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
    if (this.lineFill + take - (lf < 0 ? 1 : 2) > LINE_MAX) throw this.lineTooLong();
    line.set(chunk.subarray(0, take), this.lineFill);
    this.lineFill += take;
    if (lf < 0) return -1;
    const end = this.lineFill - 1;
    this.lineFill = 0;
    if (end === 0 || line[end - 1] !== CR) throw this.corrupt('a reply line ends in \\n without \\r');
    return this.afterLine(this.parseLine(line, 0, end - 1), chunk, take);
  }

  /** Hands out a reply whose line was just read, reading its data block first; returns where the chunk resumes, or -1. */
  private afterLine(sized: boolean, chunk: Uint8Array, pos: number): number {
    if (!sized) {
      this.owned = false;
      this.handler.onReply(this as unknown as R);
      return pos;
    }
    const n = this.valueLength;
    if (chunk.length - pos >= n + 2) {
      if (chunk[pos + n] !== CR || chunk[pos + n + 1] !== LF) throw this.missingTrailer();
      this.valueBytes = chunk;
      this.valueStart = pos;
      this.owned = false;
      this.handler.onReply(this as unknown as R);
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
      if (chunk[pos] !== (this.trailerFill === 0 ? CR : LF)) throw this.missingTrailer();
      pos++;
      this.trailerFill++;
    }
    this.state = LINE;
    this.valueBytes = this.body;
    this.valueStart = 0;
    this.owned = true;
    this.body = EMPTY;
    this.handler.onReply(this as unknown as R);
    return pos;
  }

  // ---- errors ----

  /** A PROTOCOL error naming the protocol: bytes that are not one of its replies. */
  private corrupt(what: string): MemcacheError {
    return new MemcacheError(ErrorCode.PROTOCOL, `corrupt ${this.protocol} reply: ${what}`);
  }

  private lineTooLong(): MemcacheError {
    return this.corrupt(`a line of more than ${LINE_MAX} bytes without \\r\\n`);
  }

  private missingTrailer(): MemcacheError {
    return this.corrupt('a value not followed by \\r\\n');
  }
}

/**
 * The first \n at or after `from`, or -1. A loop for the short lines replies
 * are (cheaper than a builtin call per line); indexOf past 64 bytes.
 */
function findLF(b: Uint8Array, from: number, length: number): number {
  const stop = Math.min(length, from + 64);
  for (let i = from; i < stop; i++) if (b[i] === LF) return i;
  return stop === length ? -1 : b.indexOf(LF, stop);
}

/** A protocol's reply words, as bytes to match lines against. */
export type WordTable<K> = readonly (readonly [Uint8Array, K])[];

export function wordTable<K>(entries: readonly (readonly [string, K])[]): WordTable<K> {
  const ascii = new TextEncoder();
  return entries.map(([w, k]) => [ascii.encode(w), k] as const);
}

/** The kind of the word `b[start, end)` in `words`, or 0. */
export function matchWord<K>(words: WordTable<K>, b: Uint8Array, start: number, end: number): K | 0 {
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
export function describeBytes(b: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return JSON.stringify(out);
}
