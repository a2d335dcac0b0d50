import { ErrorCode, MemcacheError } from '../../errors.js';
import { HEADER_LENGTH, RESPONSE_MAGIC } from './opcodes.js';
import { ValueSlab } from '../value-slab.js';

const utf8 = new TextDecoder();
const TWO_32 = 4294967296;

/** Receives each complete response frame; reads the decoder's fields synchronously. */
export interface FrameHandler {
  onFrame(frame: ResponseDecoder): void;
}

/**
 * Streaming decoder for response frames.
 *
 * Chunks are parsed where they lie: a frame wholly inside a chunk is never
 * copied. Only a frame split across chunks is assembled, into one buffer of
 * its exact size allocated once its header is known, so a 1 MB value arriving
 * in many reads is copied once. The current frame is exposed through the
 * decoder's own fields, so decoding allocates nothing per frame.
 */
export class ResponseDecoder {
  // ---- the current frame (valid during onFrame) ----
  opcode = 0;
  keyLength = 0;
  extrasLength = 0;
  status = 0;
  bodyLength = 0;
  opaque = 0;
  casHi = 0;
  casLo = 0;
  /** Bytes holding the current frame; the body starts at `bodyOffset`. */
  bytes: Uint8Array = new Uint8Array(0);
  bodyOffset = 0;
  /** True when `bytes` is a buffer assembled for this frame alone (safe to hand out without copying). */
  owned = false;
  /** The chunk being read is never written over again (push's `kept`). */
  private kept = false;

  // ---- a frame split across chunks ----
  private readonly header = new Uint8Array(HEADER_LENGTH);
  private headerFill = 0;
  private frame: Uint8Array | null = null;
  private frameFill = 0;
  private stopped = false;
  private readonly slab = new ValueSlab();

  /**
   * @param maxBodyLength a frame announcing a longer body is treated as corrupt
   *   rather than allocated.
   */
  constructor(
    private readonly handler: FrameHandler,
    private readonly maxBodyLength = 1024 * 1024 * 1024,
  ) {}

  /** Forgets any partial frame and stops the chunk being parsed (the connection is gone). */
  reset(): void {
    this.headerFill = 0;
    this.frame = null;
    this.frameFill = 0;
    this.stopped = true;
  }

  /**
   * Feeds bytes as they come off the socket. Throws a PROTOCOL MemcacheError on
   * corrupt bytes. Nothing of `data` is read after this returns (a split
   * frame is copied), so the caller may reuse it; values are copied out of it,
   * or are views of it when `kept` (the transport never writes over it again).
   */
  push(data: Uint8Array, kept = false): void {
    // Values may be views of a chunk the transport never writes over again; else they are copies.
    this.kept = kept;
    // A plain Uint8Array view: Node's Buffer overrides slice() to return a view (values must be
    // copies), and its subarray() is slower.
    const chunk = data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.stopped = false;
    let offset = 0;
    if (this.headerFill > 0 || this.frame !== null) {
      offset = this.continuePartial(chunk);
      if (offset < 0 || this.stopped) return;
    }
    const length = chunk.length;
    while (length - offset >= HEADER_LENGTH) {
      if (chunk[offset] !== RESPONSE_MAGIC) throw badMagic(chunk[offset]!);
      const bodyLength = readU32(chunk, offset + 8);
      const total = HEADER_LENGTH + bodyLength;
      if (length - offset < total) break;
      this.readHeader(chunk, offset);
      this.bytes = chunk;
      this.bodyOffset = offset + HEADER_LENGTH;
      this.owned = false;
      offset += total;
      this.handler.onFrame(this);
      if (this.stopped) return;
    }
    if (offset < length) this.startPartial(chunk, offset);
  }

  // ---- accessors for the current frame ----

  /** The 4-byte flags of a Get-family reply. */
  get flags(): number {
    return this.extrasLength >= 4 ? readU32(this.bytes, this.bodyOffset) : 0;
  }

  get valueLength(): number {
    return this.bodyLength - this.extrasLength - this.keyLength;
  }

  /**
   * The value as bytes the caller may keep: the assembled buffer's own view,
   * or a copy out of the shared chunk (so holding a value never pins a socket
   * read). Small values are copied into a shared slab (value-slab.ts).
   */
  value(): Uint8Array {
    const start = this.bodyOffset + this.extrasLength + this.keyLength;
    const end = this.bodyOffset + this.bodyLength;
    if (this.owned) return this.bytes.subarray(start, end);
    return this.slab.take(this.bytes, start, end, this.kept);
  }

  /** The value decoded as UTF-8 (error messages, Version, Stat). */
  valueText(): string {
    const start = this.bodyOffset + this.extrasLength + this.keyLength;
    return utf8.decode(this.bytes.subarray(start, this.bodyOffset + this.bodyLength));
  }

  /** The key decoded as UTF-8 (Stat names, GetK). */
  keyText(): string {
    const start = this.bodyOffset + this.extrasLength;
    return utf8.decode(this.bytes.subarray(start, start + this.keyLength));
  }

  /** The 8-byte counter value of an Increment/Decrement reply. */
  counter(): bigint {
    const at = this.bodyOffset + this.extrasLength + this.keyLength;
    const hi = readU32(this.bytes, at);
    const lo = readU32(this.bytes, at + 4);
    // Exact as a double below 2^53; the common case avoids two BigInt operations.
    return hi < 0x200000 ? BigInt(hi * TWO_32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  // ---- internals ----

  private readHeader(b: Uint8Array, at: number): void {
    this.opcode = b[at + 1]!;
    this.keyLength = (b[at + 2]! << 8) | b[at + 3]!;
    this.extrasLength = b[at + 4]!;
    this.status = (b[at + 6]! << 8) | b[at + 7]!;
    this.bodyLength = readU32(b, at + 8);
    this.opaque = readU32(b, at + 12);
    this.casHi = readU32(b, at + 16);
    this.casLo = readU32(b, at + 20);
    if (this.bodyLength > this.maxBodyLength || this.keyLength + this.extrasLength > this.bodyLength) {
      throw new MemcacheError(
        ErrorCode.PROTOCOL,
        `corrupt reply header: body ${this.bodyLength} bytes, key ${this.keyLength}, extras ${this.extrasLength}`,
      );
    }
  }

  /** Keeps the tail of a chunk that holds only part of a frame. */
  private startPartial(chunk: Uint8Array, offset: number): void {
    if (chunk[offset] !== RESPONSE_MAGIC) throw badMagic(chunk[offset]!);
    const available = chunk.length - offset;
    if (available < HEADER_LENGTH) {
      this.header.set(chunk.subarray(offset), 0);
      this.headerFill = available;
      return;
    }
    this.readHeader(chunk, offset);
    const frame = new Uint8Array(HEADER_LENGTH + this.bodyLength);
    frame.set(chunk.subarray(offset), 0);
    this.frame = frame;
    this.frameFill = available;
  }

  /** Adds a chunk's bytes to the partial frame; returns where whole frames resume, or -1 if more is needed. */
  private continuePartial(chunk: Uint8Array): number {
    let offset = 0;
    if (this.frame === null) {
      const need = HEADER_LENGTH - this.headerFill;
      const take = Math.min(need, chunk.length);
      this.header.set(chunk.subarray(0, take), this.headerFill);
      this.headerFill += take;
      if (take < need) return -1;
      offset = take;
      this.headerFill = 0;
      this.readHeader(this.header, 0);
      const frame = new Uint8Array(HEADER_LENGTH + this.bodyLength);
      frame.set(this.header, 0);
      this.frame = frame;
      this.frameFill = HEADER_LENGTH;
    }
    const frame = this.frame;
    const take = Math.min(frame.length - this.frameFill, chunk.length - offset);
    frame.set(chunk.subarray(offset, offset + take), this.frameFill);
    this.frameFill += take;
    offset += take;
    if (this.frameFill < frame.length) return -1;
    this.frame = null;
    this.frameFill = 0;
    this.readHeader(frame, 0);
    this.bytes = frame;
    this.bodyOffset = HEADER_LENGTH;
    this.owned = true;
    this.handler.onFrame(this);
    return offset;
  }
}

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function badMagic(byte: number): MemcacheError {
  return new MemcacheError(
    ErrorCode.PROTOCOL,
    `bad magic byte 0x${byte.toString(16).padStart(2, '0')} in reply (expected 0x81): stream is corrupt`,
  );
}
