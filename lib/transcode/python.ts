/**
 * The 'python' transcoder: pylibmc's flags, which python-memcache and
 * pymemcache's pickle_serde share but for flag 2. Bytes 0, str 16 (UTF-8),
 * int 4 (any size, as decimal text), pickle 1, zlib 8 (the bare stream, str
 * compressed is 24). Flag 2 is pylibmc's bool ("1"/"0"); python-memcache
 * writes ints there, so `client: 'python-memcache'` reads it as an int.
 *
 * Written: Uint8Array (0), strings (16), integers, a JS number that is one
 * or a bigint (4, which both clients read as int), booleans (2: a bool for
 * pylibmc, 1/0 for python-memcache). Other numbers, null and structures
 * would need pickle and are refused (MC_ERR_BAD_VALUE); pickle read fails
 * with a DecodeError holding the bytes.
 */
import { ErrorCode, MemcacheError } from '../errors.js';
import { describeType } from '../validate.js';
import { compressionSettings, pythonCompress, pythonDecompress } from './compression.js';
import { DecodeError, hexFlags } from './decode-error.js';
import { integer, utf8, utf8Bytes } from './text.js';
import type { Encoded, Transcoder } from './transcoder.js';

/** What the 'python' transcoder stores and reads. */
export type PythonValue = string | Uint8Array | number | bigint | boolean;

export interface PythonTranscoderOptions {
  /** Whose meaning of flag 2 is read: 'pylibmc' (default: bool) or 'python-memcache' (int). */
  client?: 'pylibmc' | 'python-memcache';
  /** Bytes from which a value is zlib-compressed (when that makes it smaller). Default 2000; Infinity never. */
  threshold?: number;
}

export const PY_PICKLE = 1;
export const PY_INTEGER = 2;
export const PY_LONG = 4;
export const PY_ZLIB = 8;
export const PY_TEXT = 16;

export class PythonTranscoder implements Transcoder<PythonValue, PythonValue> {
  readonly #threshold: number;
  readonly #flag2IsBool: boolean;

  constructor(options?: PythonTranscoderOptions) {
    const client = options?.client ?? 'pylibmc';
    if (client !== 'pylibmc' && client !== 'python-memcache') {
      throw new MemcacheError(ErrorCode.BAD_CONFIG, "python transcoder client must be 'pylibmc' or 'python-memcache'");
    }
    this.#flag2IsBool = client === 'pylibmc';
    this.#threshold = compressionSettings({ threshold: options?.threshold ?? 2000 }, 'python transcoder', ['zlib']).threshold;
  }

  encode(value: PythonValue): Encoded | Promise<Encoded> {
    switch (typeof value) {
      case 'string':
        return this.#compressed(utf8Bytes(value), PY_TEXT);
      case 'number':
        if (!Number.isInteger(value)) {
          throw new MemcacheError(ErrorCode.BAD_VALUE, 'the python transcoder stores only integer numbers (a float would need pickle)');
        }
        return { value: BigInt(value).toString(), flags: PY_LONG };
      case 'bigint':
        return { value: value.toString(), flags: PY_LONG };
      case 'boolean':
        return { value: value ? '1' : '0', flags: PY_INTEGER };
      default:
        if (value instanceof Uint8Array) return this.#compressed(value, 0);
        throw new MemcacheError(ErrorCode.BAD_VALUE, `the python transcoder cannot store ${describeType(value)} (it would need pickle)`);
    }
  }

  decode(stored: Uint8Array, flags: number): PythonValue | Promise<PythonValue> {
    if ((flags & PY_ZLIB) === 0) return this.#payload(stored, stored, flags);
    let payload: Uint8Array | Promise<Uint8Array>;
    try {
      payload = pythonDecompress(stored);
    } catch (error) {
      throw new DecodeError(`python value (flags ${hexFlags(flags)}) cannot be inflated`, stored, flags, { cause: error });
    }
    if (payload instanceof Promise) {
      return payload.then(
        (bytes) => this.#payload(bytes, stored, flags),
        (error: unknown) => {
          throw new DecodeError(`python value (flags ${hexFlags(flags)}) cannot be inflated`, stored, flags, { cause: error });
        },
      );
    }
    return this.#payload(payload, stored, flags);
  }

  #payload(payload: Uint8Array, stored: Uint8Array, flags: number): PythonValue {
    switch (flags & ~PY_ZLIB) {
      case 0:
        return payload;
      case PY_TEXT:
        return utf8(payload);
      case PY_LONG:
        return this.#integer(payload, stored, flags);
      case PY_INTEGER:
        if (!this.#flag2IsBool) return this.#integer(payload, stored, flags);
        // pylibmc reads it as bool(int(text)).
        return this.#integer(payload, stored, flags) != 0;
      case PY_PICKLE:
        throw new DecodeError('python value pickled (flag 1): memring does not read pickle', stored, flags);
      default:
        throw new DecodeError(`python value with unknown flags ${hexFlags(flags)}`, stored, flags);
    }
  }

  #integer(payload: Uint8Array, stored: Uint8Array, flags: number): number | bigint {
    const n = integer(utf8(payload).trim());
    if (n === null) throw new DecodeError(`python integer (flags ${hexFlags(flags)}) that is not a decimal integer`, stored, flags);
    return n;
  }

  #compressed(payload: Uint8Array, flags: number): Encoded | Promise<Encoded> {
    const compressed = pythonCompress(payload, this.#threshold);
    if (compressed === null) return { value: payload, flags };
    if (compressed instanceof Promise) {
      return compressed.then((c) => (c === null ? { value: payload, flags } : { value: c, flags: flags | PY_ZLIB }));
    }
    return { value: compressed, flags: flags | PY_ZLIB };
  }
}
