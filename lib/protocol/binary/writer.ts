import type { Uint64 } from '../../command.js';
import { BlockWriter, OUT_OF_LINE_VALUE, encodeStringInto, inlineRoom, outOfLineCopy, valueTooLarge } from '../block-writer.js';
import { HEADER_LENGTH, Opcode, REQUEST_MAGIC } from './opcodes.js';

/** Values at least this long are sent as their own chunk (a copy taken at the call) instead of being written into the frame. */
export { OUT_OF_LINE_VALUE };
const TWO_32 = 4294967296;


/**
 * Encodes request frames into one growing block of bytes (block-writer.ts).
 *
 * Each frame is written in place (header, extras, key, small value), and only
 * committed once complete: a bad key or value throws before anything moves,
 * so nothing half-written is ever sent.
 */
export class RequestWriter extends BlockWriter {
  // Frame under construction (between open() and close()).
  private at = 0;
  private opcode = 0;
  private keyLength = 0;
  private extrasLength = 0;

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
    this.checkKeyShape(key);
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
          valueLength = encodeStringInto(value, b, valueOffset);
        } else {
          outOfLine = outOfLineCopy(value, this.maxValueLength);
        }
      } else if (value.length < OUT_OF_LINE_VALUE) {
        b.set(value, valueOffset);
        valueLength = value.length;
      } else {
        outOfLine = outOfLineCopy(value, this.maxValueLength);
      }
      if (outOfLine !== null) valueLength = outOfLine.length;
      if (valueLength > this.maxValueLength) throw valueTooLarge(valueLength, this.maxValueLength);
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
    // Header, extras and key of an out-of-line value go out as one chunk, the value as the next.
    if (outOfLine === null) this.commit(valueOffset + valueLength);
    else this.commitOutOfLine(valueOffset, outOfLine);
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
