/** The transcoders a Group or CacheAPI can be given by name, and the types each stores and reads. */
import { ErrorCode, MemcacheError } from '../errors.js';
import type { Value } from '../group.js';
import { describeType } from '../validate.js';
import { JsonTranscoder } from './json.js';
import { KamailioTranscoder } from './kamailio.js';
import { PhpTranscoder } from './php.js';
import type { JsonValue, PhpValue } from './php-value.js';
import { PythonTranscoder, type PythonValue } from './python.js';
import type { Transcoder } from './transcoder.js';

/** By name: [what set/add/replace/cas take, what Item.data is]. */
export interface TranscoderTypes {
  /** The default: bytes as given (a string as UTF-8), `flags` from the call's options; Item.data is the bytes. */
  raw: [Value, Uint8Array];
  php: [PhpValue, PhpValue];
  python: [PythonValue, PythonValue];
  json: [JsonValue, JsonValue];
  kamailio: [string | number, string];
}

export type TranscoderName = keyof TranscoderTypes;

/** A `transcoder` option: a built-in's name (with its default settings) or any Transcoder. */
export type TranscoderChoice = TranscoderName | Transcoder<any, any>;

/** What a group with transcoder `T` stores (set/add/replace/cas). */
export type Encodable<T extends TranscoderChoice> = T extends TranscoderName
  ? TranscoderTypes[T] extends [infer In, unknown] ? In : never
  : T extends Transcoder<infer In, any>
    ? In
    : never;

/** What `Item.data` is in a group with transcoder `T`. */
export type Decoded<T extends TranscoderChoice> = T extends TranscoderName
  ? TranscoderTypes[T] extends [unknown, infer Out] ? Out : never
  : T extends { decode(value: Uint8Array, flags: number): infer Out }
    ? Awaited<Out>
    : never;

const BUILT_IN: Record<Exclude<TranscoderName, 'raw'>, () => Transcoder<any, any>> = {
  php: () => new PhpTranscoder(),
  python: () => new PythonTranscoder(),
  json: () => new JsonTranscoder(),
  kamailio: () => new KamailioTranscoder(),
};
const made = new Map<string, Transcoder<any, any>>();

/**
 * The transcoder a `transcoder` option names, or null for the default (raw
 * bytes: no transcoder runs at all). MC_ERR_BAD_CONFIG for an unknown name
 * or an object without encode and decode.
 */
export function resolveTranscoder(choice: unknown): Transcoder<any, any> | null {
  if (choice === undefined || choice === 'raw') return null;
  if (typeof choice === 'string') {
    const make = Object.hasOwn(BUILT_IN, choice) ? BUILT_IN[choice as keyof typeof BUILT_IN] : undefined;
    if (make === undefined) {
      throw new MemcacheError(
        ErrorCode.BAD_CONFIG,
        `unknown transcoder ${JSON.stringify(choice.slice(0, 20))}; use 'raw', ${Object.keys(BUILT_IN).map((n) => `'${n}'`).join(', ')} or an object with encode and decode`,
      );
    }
    let transcoder = made.get(choice);
    if (transcoder === undefined) made.set(choice, (transcoder = make()));
    return transcoder;
  }
  const candidate = choice as Partial<Transcoder> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.encode !== 'function' || typeof candidate.decode !== 'function') {
    throw new MemcacheError(ErrorCode.BAD_CONFIG, `transcoder must be a name or an object with encode and decode methods, got ${describeType(choice)}`);
  }
  return candidate as Transcoder<any, any>;
}
