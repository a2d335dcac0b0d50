/**
 * The 'json' transcoder: any JSON value as JSON text with flag 6, the flag
 * php-memcached's JSON serializer writes and reads; above the threshold
 * compressed in php-memcached's layout, so PHP reads those too. Reads flag 6
 * and flag 0 (JSON text stored as a plain string), compressed or not.
 */
import { compressionSettings, phpCompress, phpDecompress, PHP_COMPRESSED, type Compression, type CompressionSettings } from './compression.js';
import { DecodeError, hexFlags } from './decode-error.js';
import { json } from './php.js';
import type { JsonValue } from './php-value.js';
import { utf8, utf8Bytes } from './text.js';
import type { Encoded, Transcoder } from './transcoder.js';

export type { JsonValue } from './php-value.js';

export interface JsonTranscoderOptions {
  /** 'zlib' (default) or 'fastlz', in php-memcached's layout. */
  compression?: Compression;
  /** Bytes of JSON text from which it is compressed (when that saves enough). Default 2000; Infinity never. */
  threshold?: number;
}

const JSON_FLAG = 6;
const TYPE_MASK = 0xf;

export class JsonTranscoder implements Transcoder<JsonValue, JsonValue> {
  readonly #settings: CompressionSettings;

  constructor(options?: JsonTranscoderOptions) {
    this.#settings = compressionSettings(options, 'json transcoder', ['zlib', 'fastlz']);
  }

  encode(value: JsonValue): Encoded | Promise<Encoded> {
    const text = json(value);
    // Under the threshold even at 3 bytes per UTF-16 unit: the codec writes the string's UTF-8 itself.
    if (text.length * 3 < this.#settings.threshold) return { value: text, flags: JSON_FLAG };
    const payload = utf8Bytes(text);
    const compressed = phpCompress(payload, this.#settings);
    if (compressed === null) return { value: payload, flags: JSON_FLAG };
    if (compressed instanceof Promise) {
      return compressed.then((c) => (c === null ? { value: payload, flags: JSON_FLAG } : { value: c[0], flags: JSON_FLAG | c[1] }));
    }
    return { value: compressed[0], flags: JSON_FLAG | compressed[1] };
  }

  decode(stored: Uint8Array, flags: number): JsonValue | Promise<JsonValue> {
    const type = flags & TYPE_MASK;
    if (type !== JSON_FLAG && type !== 0) {
      throw new DecodeError(`value with flags ${hexFlags(flags)} is not JSON (flag 6)`, stored, flags);
    }
    if ((flags & PHP_COMPRESSED) === 0) return parse(stored, stored, flags);
    let payload: Uint8Array | Promise<Uint8Array>;
    try {
      payload = phpDecompress(stored, flags);
    } catch (error) {
      throw new DecodeError(`JSON value (flags ${hexFlags(flags)}) cannot be decompressed`, stored, flags, { cause: error });
    }
    if (payload instanceof Promise) {
      return payload.then(
        (bytes) => parse(bytes, stored, flags),
        (error: unknown) => {
          throw new DecodeError(`JSON value (flags ${hexFlags(flags)}) cannot be decompressed`, stored, flags, { cause: error });
        },
      );
    }
    return parse(payload, stored, flags);
  }
}

function parse(payload: Uint8Array, stored: Uint8Array, flags: number): JsonValue {
  try {
    return JSON.parse(utf8(payload)) as JsonValue;
  } catch (error) {
    throw new DecodeError(`value with flags ${hexFlags(flags)} is not valid JSON`, stored, flags, { cause: error });
  }
}
