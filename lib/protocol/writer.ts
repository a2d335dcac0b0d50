import { ErrorCode, MemcacheError } from '../errors.js';
import { describeType } from '../validate.js';
import { MAX_KEY_LENGTH, checkKey, keyCharacterError, keyLengthError } from '../key.js';
import { HEADER_LENGTH, Opcode, REQUEST_MAGIC } from './opcodes.js';

const utf8 = new TextEncoder();

/** Values at least this long are sent as their own chunk (a copy taken at the call) instead of being written into the frame. */
export const OUT_OF_LINE_VALUE = 16 * 1024;
const BLOCK_SIZE = 64 * 1024;
const TWO_32 = 4294967296;

/** Counter operands as they are accepted: a safe non-negative integer or a bigint below 2^64. */
export type Uint64 = number | bigint;

/**
 * Encodes request frames into one growing block of bytes.
 *
 * Each frame is written in place (header, extras, key, small value), and only
 * committed once complete: a bad key or value throws before anything moves,
 * so nothing half-written is ever sent. Bytes handed out by `drain()` are
 * never written over again (the socket may still hold them), so a full block
 * is left behind and a new one started.
 */
export class RequestWriter {
  private block = new Uint8Array(BLOCK_SIZE);
  /** End of committed bytes in `block`. */
  private end = 0;
  /** Start of committed bytes not yet handed out. */
  private start = 0;
  private readonly ready: Uint8Array[] = [];
  // Frame under construction (between open() and close()).
  private at = 0;
  private opcode = 0;
  private keyLength = 0;
  private extrasLength = 0;
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

  /** Remembers the current position, for rollback() when a batch of frames fails part way. */
  checkpoint(): void {
    this.savedBlock = this.block;
    this.savedStart = this.start;
    this.savedEnd = this.end;
    this.savedReady = this.ready.length;
  }

  /** Forgets every frame committed since checkpoint(). */
  rollback(): void {
    this.block = this.savedBlock;
    this.start = this.savedStart;
    this.end = this.savedEnd;
    this.ready.length = this.savedReady;
  }

  // ---- frames -------------------------------------------------------------

  /** Get, GetQ, GetK, GetKQ, Delete(Q) (with an optional CAS), Stat with a group. */
  keyOnly(opcode: number, key: string, opaque: number, casHi = 0, casLo = 0): void {
    this.open(opcode, key, 0, 0);
    this.close(null, opaque, casHi, casLo);
  }

  /** Noop, Version, Quit, Stat without a group, Flush without a delay. */
  empty(opcode: number, opaque: number): void {
    this.openKeyless(opcode, 0);
    this.close(null, opaque, 0, 0);
  }

  /** Stat with an optional group name ("items", "slabs", ...). */
  stat(group: string | null, opaque: number): void {
    if (group === null) this.empty(Opcode.Stat, opaque);
    else this.keyOnly(Opcode.Stat, group, opaque);
  }

  /** Flush(Q) with a delay in seconds (0 = now). */
  flush(opcode: number, delay: number, opaque: number): void {
    if (delay === 0) return this.empty(opcode, opaque);
    this.u32(this.openKeyless(opcode, 4) + HEADER_LENGTH, delay);
    this.close(null, opaque, 0, 0);
  }

  /** Set, Add, Replace and their quiet forms. A non-zero CAS makes the store conditional. */
  store(
    opcode: number,
    key: string,
    value: Uint8Array | string,
    flags: number,
    expires: number,
    opaque: number,
    casHi = 0,
    casLo = 0,
  ): void {
    const at = this.open(opcode, key, 8, inlineRoom(value));
    this.u32(at + HEADER_LENGTH, flags);
    this.u32(at + HEADER_LENGTH + 4, expires);
    this.close(value, opaque, casHi, casLo);
  }

  /** Append, Prepend and their quiet forms: a value, no extras. */
  concat(opcode: number, key: string, value: Uint8Array | string, opaque: number, casHi = 0, casLo = 0): void {
    this.open(opcode, key, 0, inlineRoom(value));
    this.close(value, opaque, casHi, casLo);
  }

  /**
   * Increment, Decrement and their quiet forms. With `expires` 0xFFFFFFFF a
   * missing key is a miss; otherwise it is created with `initial`.
   */
  counter(opcode: number, key: string, delta: Uint64, initial: Uint64, expires: number, opaque: number): void {
    const at = this.open(opcode, key, 20, 0);
    this.u64(at + HEADER_LENGTH, delta);
    this.u64(at + HEADER_LENGTH + 8, initial);
    this.u32(at + HEADER_LENGTH + 16, expires);
    this.close(null, opaque, 0, 0);
  }

  /** Touch, GAT, GATQ, GATK, GATKQ: a key and a new expiration. */
  touch(opcode: number, key: string, expires: number, opaque: number): void {
    const at = this.open(opcode, key, 4, 0);
    this.u32(at + HEADER_LENGTH, expires);
    this.close(null, opaque, 0, 0);
  }

  /** SASL auth or step: the mechanism name as the key, the payload as the value. */
  sasl(opcode: number, mechanism: string, payload: Uint8Array, opaque: number): void {
    this.open(opcode, mechanism, 0, payload.length);
    this.close(payload, opaque, 0, 0);
  }

  // ---- frame assembly -----------------------------------------------------

  /** Reserves room for a frame, writes its key after the extras, returns the frame offset. */
  private open(opcode: number, key: string, extrasLength: number, valueRoom: number): number {
    if (typeof key !== 'string') {
      throw new MemcacheError(ErrorCode.BAD_KEY, `key must be a string, got ${typeof key}`);
    }
    // A string of more than 250 UTF-16 units is more than 250 UTF-8 bytes.
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw keyLengthError(key.length);
    this.reserve(HEADER_LENGTH + extrasLength + key.length * 3 + valueRoom);
    const at = this.end;
    this.at = at;
    this.opcode = opcode;
    this.extrasLength = extrasLength;
    this.keyLength = this.writeKey(key, at + HEADER_LENGTH + extrasLength);
    return at;
  }

  /** Reserves room for a frame with extras but no key or value, returns the frame offset. */
  private openKeyless(opcode: number, extrasLength: number): number {
    this.reserve(HEADER_LENGTH + extrasLength);
    this.at = this.end;
    this.opcode = opcode;
    this.keyLength = 0;
    this.extrasLength = extrasLength;
    return this.at;
  }

  /** Writes the value and the header, then commits the frame. */
  private close(value: Uint8Array | string | null, opaque: number, casHi: number, casLo: number): void {
    const at = this.at;
    const b = this.block;
    let valueOffset = at + HEADER_LENGTH + this.extrasLength + this.keyLength;
    let valueLength = 0;
    let outOfLine: Uint8Array | null = null;
    if (value !== null) {
      if (typeof value === 'string') {
        if (value.length * 3 < OUT_OF_LINE_VALUE) {
          valueLength = utf8.encodeInto(value, b.subarray(valueOffset)).written;
        } else {
          outOfLine = utf8.encode(value);
        }
      } else if (value.length < OUT_OF_LINE_VALUE) {
        b.set(value, valueOffset);
        valueLength = value.length;
      } else if (value.length <= this.maxValueLength) {
        // Copied now, as a small value is: what is stored is the array as it was at the call,
        // whatever the caller does with it before the socket reads it. (Not .slice(): on a Buffer that is a view.)
        outOfLine = new Uint8Array(value);
      } else {
        valueLength = value.length; // refused just below, without copying it first
      }
      if (outOfLine !== null) valueLength = outOfLine.length;
      if (valueLength > this.maxValueLength) {
        throw new MemcacheError(
          ErrorCode.VALUE_TOO_LARGE,
          `value of ${valueLength} bytes is over the ${this.maxValueLength}-byte item limit`,
        );
      }
    }
    const keyLength = this.keyLength;
    b[at] = REQUEST_MAGIC;
    b[at + 1] = this.opcode;
    b[at + 2] = keyLength >>> 8;
    b[at + 3] = keyLength & 0xff;
    b[at + 4] = this.extrasLength;
    b[at + 5] = 0;
    b[at + 6] = 0;
    b[at + 7] = 0;
    this.u32(at + 8, this.extrasLength + keyLength + valueLength);
    this.u32(at + 12, opaque);
    this.u32(at + 16, casHi);
    this.u32(at + 20, casLo);
    if (outOfLine === null) {
      this.end = valueOffset + valueLength;
    } else {
      // Header, extras and key go out as one chunk, the value as the next.
      this.end = valueOffset;
      this.ready.push(b.subarray(this.start, this.end), outOfLine);
      this.start = this.end;
    }
  }

  /** Makes sure `size` bytes fit after `end`, starting a new block if not. */
  private reserve(size: number): void {
    if (this.block.length - this.end >= size) return;
    if (this.end > this.start) this.ready.push(this.block.subarray(this.start, this.end));
    this.block = new Uint8Array(Math.max(BLOCK_SIZE, size));
    this.start = 0;
    this.end = 0;
  }

  /** Writes a key, checking the mission's rule: 1-250 bytes, no space, no control character. */
  private writeKey(key: string, at: number): number {
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

  private u32(at: number, value: number): void {
    const b = this.block;
    b[at] = value >>> 24;
    b[at + 1] = value >>> 16;
    b[at + 2] = value >>> 8;
    b[at + 3] = value;
  }

  private u64(at: number, value: Uint64): void {
    if (typeof value === 'number') {
      this.u32(at, Math.floor(value / TWO_32));
      this.u32(at + 4, value >>> 0);
    } else {
      this.u32(at, Number((value >> 32n) & 0xffffffffn));
      this.u32(at + 4, Number(value & 0xffffffffn));
    }
  }
}

/** Bytes to reserve in the block for a value that may be copied inline. */
function inlineRoom(value: Uint8Array | string): number {
  if (typeof value === 'string') return value.length * 3 < OUT_OF_LINE_VALUE ? value.length * 3 : 0;
  if (value instanceof Uint8Array) return value.length < OUT_OF_LINE_VALUE ? value.length : 0;
  throw new MemcacheError(ErrorCode.BAD_VALUE, `value must be a string or Uint8Array, got ${describeType(value)}`);
}
