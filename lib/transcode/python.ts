/**
 * The 'python' transcoder: the flags pylibmc, python-memcache and
 * pymemcache's pickle_serde share. Bytes 0, str 16 (UTF-8), int 2
 * (python-memcache's, and pylibmc's for a bool: True is "1") and 4
 * (pylibmc's), any size as decimal text; pickle 1; zlib 8 (the bare stream:
 * a compressed str is 24).
 *
 * Written: Uint8Array (0), strings (16), integers, a JS number that is one
 * or a bigint (4, which both clients read as int), booleans (2, "1"/"0", as
 * pylibmc writes True: every client, memring included, reads it back as the
 * int 1 or 0). Other numbers, null and structures would need pickle and are
 * refused (MC_ERR_BAD_VALUE); pickle read fails with a DecodeError holding
 * the bytes.
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

  constructor(options?: PythonTranscoderOptions) {
    this.#threshold = compressionSettings({ threshold: options?.threshold ?? 2000 }, 'python transcoder', ['zlib']).threshold;
  }

  encode(value: PythonValue): Encoded | Promise<Encoded> {
    switch (typeof value) {
      case 'string':
        // Under the threshold even at 3 bytes per UTF-16 unit: the codec writes the string's UTF-8 itself.
        if (value.length * 3 < this.#threshold) return { value, flags: PY_TEXT };
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
      case PY_INTEGER:
        return this.#integer(payload, stored, flags);
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
