/**
 * Copies of values out of a socket read, which the caller may keep: holding a
 * value never pins the read buffer (the socket reuses it). Small values share
 * a slab, as Node's Buffer pool does: one ArrayBuffer per ~8 KiB of values
 * instead of one per value.
 */
const SLAB_SIZE = 8 * 1024;
/** Values up to this size share a slab; larger ones get their own buffer. */
const SLAB_VALUE_MAX = 1024;

export class ValueSlab {
  private slab = new Uint8Array(SLAB_SIZE);
  private offset = 0;

  /**
   * `bytes[start, end)` as bytes the caller may keep: a view when the chunk is
   * kept (the transport never writes over it again), else a copy.
   */
  take(bytes: Uint8Array, start: number, end: number, kept: boolean): Uint8Array {
    return kept ? new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start) : this.copy(bytes, start, end);
  }

  /** A copy of `bytes[start, end)`; `bytes` must be a plain Uint8Array (a Buffer's slice() is a view). */
  copy(bytes: Uint8Array, start: number, end: number): Uint8Array {
    const length = end - start;
    if (length > SLAB_VALUE_MAX) return bytes.slice(start, end);
    if (this.offset + length > SLAB_SIZE) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.offset = 0;
    }
    const offset = this.offset;
    this.slab.set(bytes.subarray(start, end), offset);
    this.offset = (offset + length + 7) & ~7;
    return new Uint8Array(this.slab.buffer, offset, length);
  }
}
