// What `#zlib` is by default (Node, Bun, Deno): node:zlib, synchronous, so a
// transcoder's decode stays synchronous and a get settles in the same tick.
import { deflateSync, inflateSync } from 'node:zlib';

/** The zlib stream (RFC 1950, what PHP's compress2 and Python's zlib.compress write) of `data`. */
export function deflate(data: Uint8Array): Uint8Array {
  return deflateSync(data);
}

/** Inflates a zlib stream, refusing (RangeError) output over `limit` bytes. */
export function inflate(data: Uint8Array, limit: number): Uint8Array {
  return inflateSync(data, { maxOutputLength: Math.max(1, limit) });
}
