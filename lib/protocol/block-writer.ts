/**
 * The block management every request writer shares, whatever the wire format:
 * one growing block of bytes, requests committed only once complete, big
 * values as chunks of their own, drain/requeue/discard and checkpoint/rollback.
 */
import { ErrorCode, MemcacheError } from '../errors.js';
import { describeType } from '../validate.js';
import { MAX_KEY_LENGTH, checkKey, keyCharacterError, keyLengthError } from '../key.js';

const utf8 = new TextEncoder();

/** Values at least this long are sent as their own chunk (a copy taken at the call) instead of being written into the block. */
export const OUT_OF_LINE_VALUE = 16 * 1024;
const BLOCK_SIZE = 64 * 1024;

/**
 * Bytes handed out by `drain()` are never written over again (the socket may
 * still hold them), so a full block is left behind and a new one started.
 * Subclasses write a request at `end` after `reserve()`, then `commit()` it.
 */
export abstract class BlockWriter {
  protected block = new Uint8Array(BLOCK_SIZE);
  /** End of committed bytes in `block`. */
  protected end = 0;
  /** Start of committed bytes not yet handed out. */
  protected start = 0;
  protected readonly ready: Uint8Array[] = [];
  // checkpoint()
  private savedBlock = this.block;
  private savedStart = 0;
  private savedEnd = 0;
  private savedReady = 0;

  /** @param maxValueLength largest value accepted, in bytes (the server's item limit). */
  constructor(readonly maxValueLength = 1024 * 1024) {}

  /** True when committed bytes wait to be drained. */
  get pending(): boolean {
    return this.end > this.start || this.ready.length > 0;
  }

  /**
   * Hands out everything committed, in order. The returned array is reused by
   * the next call: consume it synchronously.
   */
  drain(): Uint8Array[] {
    const out = this.ready;
    if (this.end > this.start) {
      out.push(this.block.subarray(this.start, this.end));
      this.start = this.end;
    }
    return out;
  }

  /** Clears the array returned by drain() once its chunks are written. */
  drained(): void {
    this.ready.length = 0;
  }

  /**
   * Queues chunks drained earlier and never sent to go out after what is
   * committed now (requests encoded again on a fresh connection go ahead of them).
   */
  requeue(chunks: readonly Uint8Array[]): void {
    if (this.end > this.start) {
      this.ready.push(this.block.subarray(this.start, this.end));
      this.start = this.end;
    }
    for (let i = 0; i < chunks.length; i++) this.ready.push(chunks[i]!);
  }

  /** Drops every committed byte not yet drained (the connection they were meant for is gone). */
  discard(): void {
    this.ready.length = 0;
    this.start = this.end;
  }

  /** Remembers the current position, for rollback() when a batch of requests fails part way. */
  checkpoint(): void {
    this.savedBlock = this.block;
    this.savedStart = this.start;
    this.savedEnd = this.end;
    this.savedReady = this.ready.length;
  }

  /** Forgets every request committed since checkpoint(). */
  rollback(): void {
    this.block = this.savedBlock;
    this.start = this.savedStart;
    this.end = this.savedEnd;
    this.ready.length = this.savedReady;
  }

  // ---- for subclasses -------------------------------------------------------

  /** Makes sure `size` bytes fit after `end`, starting a new block if not. */
  protected reserve(size: number): void {
    if (this.block.length - this.end >= size) return;
    if (this.end > this.start) this.ready.push(this.block.subarray(this.start, this.end));
    this.block = new Uint8Array(Math.max(BLOCK_SIZE, size));
    this.start = 0;
    this.end = 0;
  }

  /** Commits a request ending at `end` in the block. */
  protected commit(end: number): void {
    this.end = end;
  }

  /** Commits the block up to `end`, then `value` as a chunk of its own; the block resumes at `end`. */
  protected commitOutOfLine(end: number, value: Uint8Array): void {
    this.end = end;
    this.ready.push(this.block.subarray(this.start, end), value);
    this.start = end;
  }

  /** Checks a key's type and UTF-16 length, before room is reserved for it. */
  protected checkKeyShape(key: string): void {
    if (typeof key !== 'string') {
      throw new MemcacheError(ErrorCode.BAD_KEY, `key must be a string, got ${typeof key}`);
    }
    // A string of more than 250 UTF-16 units is more than 250 UTF-8 bytes.
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw keyLengthError(key.length);
  }

  /** Writes a key at `at`, checking the client-wide rule (lib/key.ts) as it goes; returns its byte length. */
  protected writeKey(key: string, at: number): number {
    const b = this.block;
    const n = key.length;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return this.writeKeyUtf8(key, at);
      if (c <= 0x20 || c === 0x7f) throw keyCharacterError(c, i);
      b[at + i] = c;
    }
    return n;
  }

  private writeKeyUtf8(key: string, at: number): number {
    checkKey(key);
    return utf8.encodeInto(key, this.block.subarray(at, at + key.length * 3)).written;
  }
}

/** Bytes to reserve in the block for a value that may be copied inline (0 for one sent out of line). Throws on a wrong type. */
export function inlineRoom(value: Uint8Array | string): number {
  if (typeof value === 'string') return value.length * 3 < OUT_OF_LINE_VALUE ? value.length * 3 : 0;
  if (value instanceof Uint8Array) return value.length < OUT_OF_LINE_VALUE ? value.length : 0;
  throw new MemcacheError(ErrorCode.BAD_VALUE, `value must be a string or Uint8Array, got ${describeType(value)}`);
}

/** True when the value goes out as its own chunk rather than in the block. */
export function isOutOfLine(value: Uint8Array | string): boolean {
  return typeof value === 'string' ? value.length * 3 >= OUT_OF_LINE_VALUE : value.length >= OUT_OF_LINE_VALUE;
}

/**
 * The bytes of a value sent out of line, copied now as a small value is: what
 * is stored is the value as it was at the call, whatever the caller does with
 * it before the socket reads it. Refuses a value over `limit` before copying it.
 */
export function outOfLineCopy(value: Uint8Array | string, limit: number): Uint8Array {
  // UTF-8 is never shorter than the UTF-16 length.
  if (value.length > limit) throw valueTooLarge(value.length, limit, typeof value === 'string');
  // Not .slice(): on a Buffer that is a view.
  const copy = typeof value === 'string' ? utf8.encode(value) : new Uint8Array(value);
  if (copy.length > limit) throw valueTooLarge(copy.length, limit);
  return copy;
}

export function valueTooLarge(length: number, limit: number, atLeast = false): MemcacheError {
  const size = atLeast ? `at least ${length}` : `${length}`;
  return new MemcacheError(ErrorCode.VALUE_TOO_LARGE, `value of ${size} bytes is over the ${limit}-byte item limit`);
}

/** Encodes a string value into `into` at `at`; returns the bytes written. */
export function encodeStringInto(value: string, into: Uint8Array, at: number): number {
  return utf8.encodeInto(value, into.subarray(at)).written;
}
