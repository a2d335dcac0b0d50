/**
 * Compression as the transcoders store it. php-memcached's layout (also the
 * json transcoder's, so PHP reads it): flag 0x10 plus 0x20 (zlib) or 0x40
 * (FastLZ), the payload a u32 little-endian original length then the stream,
 * kept only when the original is over 1.3× the compressed size (PHP's
 * memcached.compression_factor). Python's: flag 8, the bare zlib stream, kept
 * when smaller.
 */
import { deflate, inflate } from '#zlib';
import { fastlzDecode, fastlzEncode } from '../compress/fastlz.js';
import { ErrorCode, MemcacheError } from '../errors.js';

export type Compression = 'zlib' | 'fastlz';

export const PHP_COMPRESSED = 0x10;
export const PHP_ZLIB = 0x20;
export const PHP_FASTLZ = 0x40;
export const PHP_ZSTD = 0x80;
/** PHP's memcached.compression_factor: compressed × 1.3 must stay under the original. */
const PHP_FACTOR = 1.3;
/** PHP's memcached.compression_threshold. */
export const DEFAULT_THRESHOLD = 2000;
/** The most a stored value may inflate to: 64 MiB (a bound against corrupt or hostile length prefixes). */
export const MAX_INFLATED = 64 * 1024 * 1024;

/** What a transcoder's compression options are, checked. */
export interface CompressionSettings {
  compression: Compression;
  /** Bytes from which a value is compressed; Infinity never. */
  threshold: number;
}

export function compressionSettings(
  options: { compression?: Compression; threshold?: number } | undefined,
  name: string,
  allowed: readonly Compression[],
): CompressionSettings {
  const compression = options?.compression ?? 'zlib';
  if (!allowed.includes(compression)) {
    throw new MemcacheError(ErrorCode.BAD_CONFIG, `${name} compression must be ${allowed.map((c) => `'${c}'`).join(' or ')}`);
  }
  const threshold = options?.threshold ?? DEFAULT_THRESHOLD;
  if (threshold !== Infinity && (!Number.isInteger(threshold) || threshold < 1)) {
    throw new MemcacheError(ErrorCode.BAD_CONFIG, `${name} threshold must be a positive integer or Infinity`);
  }
  return { compression, threshold };
}

/** PHP's layout of `payload` with its compression flags, or null when it is below the threshold or does not shrink enough. */
export function phpCompress(payload: Uint8Array, settings: CompressionSettings): [Uint8Array, number] | null | Promise<[Uint8Array, number] | null> {
  if (payload.length === 0 || payload.length < settings.threshold) return null;
  if (settings.compression === 'fastlz') return phpFramed(payload, fastlzEncode(payload), PHP_COMPRESSED | PHP_FASTLZ);
  const stream = deflate(payload);
  if (stream instanceof Promise) return stream.then((s) => phpFramed(payload, s, PHP_COMPRESSED | PHP_ZLIB));
  return phpFramed(payload, stream, PHP_COMPRESSED | PHP_ZLIB);
}

function phpFramed(payload: Uint8Array, stream: Uint8Array, flags: number): [Uint8Array, number] | null {
  if (payload.length <= stream.length * PHP_FACTOR) return null;
  const framed = new Uint8Array(stream.length + 4);
  new DataView(framed.buffer).setUint32(0, payload.length, true);
  framed.set(stream, 4);
  return [framed, flags];
}

/**
 * The original bytes of a value stored in PHP's layout. Throws a plain Error
 * saying what is wrong (the transcoder makes it a DecodeError).
 */
export function phpDecompress(stored: Uint8Array, flags: number): Uint8Array | Promise<Uint8Array> {
  if (stored.length < 4) throw new Error('compressed value shorter than its length prefix');
  const size = new DataView(stored.buffer, stored.byteOffset, 4).getUint32(0, true);
  if (size > MAX_INFLATED) throw new Error(`compressed value claims ${size} bytes, over the ${MAX_INFLATED} allowed`);
  const stream = stored.subarray(4);
  // PHP tries FastLZ first when both are set.
  if ((flags & PHP_FASTLZ) !== 0) return fastlzDecode(stream, size);
  if ((flags & PHP_ZLIB) !== 0) {
    const inflated = inflate(stream, size);
    if (inflated instanceof Promise) return inflated.then((bytes) => sized(bytes, size));
    return sized(inflated, size);
  }
  if ((flags & PHP_ZSTD) !== 0) throw new Error('zstd-compressed value (memring has no zstd)');
  throw new Error('compressed value of no known compression');
}

function sized(bytes: Uint8Array, size: number): Uint8Array {
  if (bytes.length !== size) throw new Error(`value inflates to ${bytes.length} bytes, its prefix says ${size}`);
  return bytes;
}

/** Python's layout: the zlib stream alone, or null when below the threshold or not smaller. */
export function pythonCompress(payload: Uint8Array, threshold: number): Uint8Array | null | Promise<Uint8Array | null> {
  if (payload.length === 0 || payload.length < threshold) return null;
  const stream = deflate(payload);
  if (stream instanceof Promise) return stream.then((s) => (s.length < payload.length ? s : null));
  return stream.length < payload.length ? stream : null;
}

export function pythonDecompress(stored: Uint8Array): Uint8Array | Promise<Uint8Array> {
  return inflate(stored, MAX_INFLATED);
}
