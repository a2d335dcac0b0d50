/**
 * The 'php' transcoder: php-memcached 3.x's flags. The type is in the low 4
 * bits (0 string, 1 integer, 2 double, 3 boolean, 4 PHP serialize,
 * 5 igbinary, 6 JSON, 7 msgpack), compression in 0x10 | 0x20 (zlib) or
 * 0x40 (FastLZ), and PHP's Memcached::OPT_USER_FLAGS in the upper 16 bits
 * (ignored when reading, none written).
 *
 * Written: strings and bytes (0), integers (1: a JS number that is an
 * integer within PHP's 64 bits, or a bigint), other numbers (2, as PHP writes
 * them), booleans (3), and null, arrays and objects as JSON (6, what
 * php-memcached reads with its JSON serializer). Read: all of those, and
 * PHP's serialize (4). igbinary and msgpack fail with a DecodeError holding
 * the bytes.
 */
import { ErrorCode, MemcacheError } from '../errors.js';
import { describeType } from '../validate.js';
import { DecodeError, hexFlags } from './decode-error.js';
import { compressionSettings, phpCompress, phpDecompress, PHP_COMPRESSED, type Compression, type CompressionSettings } from './compression.js';
import { phpDouble } from './php-double.js';
import { unserializePhp } from './php-serialize.js';
import type { PhpValue } from './php-value.js';
import { integer, utf8, utf8Bytes, utf8OrNull } from './text.js';
import type { Encoded, Transcoder } from './transcoder.js';

export type { PhpValue } from './php-value.js';

export interface PhpTranscoderOptions {
  /** What values of `threshold` bytes and more are compressed with, when it saves enough: 'zlib' (default) or 'fastlz' (PHP's default). */
  compression?: Compression;
  /** Bytes from which a value is compressed (PHP's memcached.compression_threshold). Default 2000; Infinity never compresses. */
  threshold?: number;
}

export const PHP_STRING = 0;
export const PHP_LONG = 1;
export const PHP_DOUBLE = 2;
export const PHP_BOOL = 3;
export const PHP_SERIALIZED = 4;
export const PHP_IGBINARY = 5;
export const PHP_JSON = 6;
export const PHP_MSGPACK = 7;
const TYPE_MASK = 0xf;

const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;
/** 2^63 as a double: integers at or past it are no PHP int. */
const TWO_63 = 9223372036854775808;
const EMPTY = new Uint8Array(0);

export class PhpTranscoder implements Transcoder<PhpValue, PhpValue> {
  readonly #settings: CompressionSettings;

  constructor(options?: PhpTranscoderOptions) {
    this.#settings = compressionSettings(options, 'php transcoder', ['zlib', 'fastlz']);
  }

  encode(value: PhpValue): Encoded | Promise<Encoded> {
    switch (typeof value) {
      case 'string':
        // Under the threshold even at 3 bytes per UTF-16 unit: the codec writes the string's UTF-8 itself.
        if (value.length * 3 < this.#settings.threshold) return { value, flags: PHP_STRING };
        return this.#compressed(utf8Bytes(value), PHP_STRING);
      case 'number':
        // -0 stays a double: a PHP int would lose its sign.
        if (Number.isInteger(value) && value >= -TWO_63 && value < TWO_63 && !Object.is(value, -0)) {
          return { value: String(value), flags: PHP_LONG };
        }
        return { value: phpDouble(value), flags: PHP_DOUBLE };
      case 'bigint':
        if (value < INT64_MIN || value > INT64_MAX) {
          throw new MemcacheError(ErrorCode.BAD_VALUE, 'a bigint outside PHP\'s 64-bit integers cannot be stored as a PHP int');
        }
        return { value: value.toString(), flags: PHP_LONG };
      case 'boolean':
        return { value: value ? '1' : EMPTY, flags: PHP_BOOL };
      case 'object':
        if (value instanceof Uint8Array) return this.#compressed(value, PHP_STRING);
        return this.#text(json(value), PHP_JSON);
      default:
        throw new MemcacheError(ErrorCode.BAD_VALUE, `the php transcoder cannot store ${describeType(value)}`);
    }
  }

  decode(stored: Uint8Array, flags: number): PhpValue | Promise<PhpValue> {
    if ((flags & PHP_COMPRESSED) === 0) return decodePayload(stored, stored, flags);
    let payload: Uint8Array | Promise<Uint8Array>;
    try {
      payload = phpDecompress(stored, flags);
    } catch (error) {
      throw decodeError(`php value (flags ${hexFlags(flags)}) cannot be decompressed`, stored, flags, error);
    }
    if (payload instanceof Promise) {
      return payload.then(
        (bytes) => decodePayload(bytes, stored, flags),
        (error: unknown) => {
          throw decodeError(`php value (flags ${hexFlags(flags)}) cannot be decompressed`, stored, flags, error);
        },
      );
    }
    return decodePayload(payload, stored, flags);
  }

  #text(text: string, type: number): Encoded | Promise<Encoded> {
    if (text.length * 3 < this.#settings.threshold) return { value: text, flags: type };
    return this.#compressed(utf8Bytes(text), type);
  }

  #compressed(payload: Uint8Array, type: number): Encoded | Promise<Encoded> {
    const compressed = phpCompress(payload, this.#settings);
    if (compressed === null) return { value: payload, flags: type };
    if (compressed instanceof Promise) {
      return compressed.then((c) => (c === null ? { value: payload, flags: type } : { value: c[0], flags: type | c[1] }));
    }
    return { value: compressed[0], flags: type | compressed[1] };
  }
}

/** JSON text of a structure; what JSON cannot hold (a bigint, a cycle) is refused. */
export function json(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new MemcacheError(ErrorCode.BAD_VALUE, `value cannot be written as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (text === undefined) throw new MemcacheError(ErrorCode.BAD_VALUE, `${describeType(value)} cannot be written as JSON`);
  return text;
}

function decodePayload(payload: Uint8Array, stored: Uint8Array, flags: number): PhpValue {
  switch (flags & TYPE_MASK) {
    case PHP_STRING:
      return utf8OrNull(payload) ?? payload;
    case PHP_LONG: {
      // PHP reads it with strtol; what PHP itself writes is a plain decimal.
      const n = integer(utf8(payload).trim());
      if (n === null) throw decodeError('php integer (flag 1) that is not a decimal integer', stored, flags);
      return n;
    }
    case PHP_DOUBLE:
      return phpReadDouble(utf8(payload));
    case PHP_BOOL:
      return payload.length > 0 && payload[0] === 0x31;
    case PHP_SERIALIZED:
      try {
        return unserializePhp(payload);
      } catch (error) {
        throw decodeError('php value (flag 4, serialize) cannot be read', stored, flags, error);
      }
    case PHP_JSON:
      try {
        return JSON.parse(utf8(payload)) as PhpValue;
      } catch (error) {
        throw decodeError('php value (flag 6, JSON) is not valid JSON', stored, flags, error);
      }
    case PHP_IGBINARY:
      throw decodeError('php value serialized with igbinary (flag 5): memring does not read igbinary', stored, flags);
    case PHP_MSGPACK:
      throw decodeError('php value serialized with msgpack (flag 7): memring does not read msgpack', stored, flags);
    default:
      throw decodeError(`php value of unknown type ${flags & TYPE_MASK} (flags ${hexFlags(flags)})`, stored, flags);
  }
}

/** A double as php-memcached reads it: its own names for the infinities and NaN, else strtod. */
function phpReadDouble(text: string): number {
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number.parseFloat(text);
  // strtod reads a number's longest prefix, and 0 when there is none.
  return Number.isNaN(value) ? 0 : value;
}

export function decodeError(message: string, stored: Uint8Array, flags: number, cause?: unknown): DecodeError {
  return new DecodeError(message, stored, flags, cause === undefined ? {} : { cause });
}
