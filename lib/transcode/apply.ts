/**
 * Where a Group runs its transcoder: encoding before a store is dispatched,
 * decoding in the caller's promise chain once the command has settled, never
 * in the connection's reader, so a decoder that throws fails only its own
 * call (or, in a getMulti, only its own key).
 */
import { ErrorCode, MemcacheError } from '../errors.js';
import type { Item } from '../item.js';
import { DecodeError, GetMultiDecodeError, hexFlags } from './decode-error.js';
import type { Encoded, Transcoder } from './transcoder.js';

/** Refuses `flags` in a call's options: a transcoder sets them. */
export function refuseFlags(options: unknown): void {
  if (typeof options === 'object' && options !== null && (options as { flags?: unknown }).flags !== undefined) {
    throw new MemcacheError(ErrorCode.BAD_ARGUMENT, "flags cannot be given with a transcoder: it sets them (use transcoder 'raw' for your own)");
  }
}

/** The transcoder's encoding of `value`; refuses `flags` in the call's options (the transcoder sets them). */
export function encodeValue(transcoder: Transcoder<any, any>, value: unknown, options: unknown): Encoded | Promise<Encoded> {
  refuseFlags(options);
  let encoded: Encoded | Promise<Encoded>;
  try {
    encoded = transcoder.encode(value);
  } catch (error) {
    throw encodeError(error);
  }
  return encoded instanceof Promise ? encoded.catch((error: unknown) => Promise.reject(encodeError(error))) : encoded;
}

function encodeError(error: unknown): MemcacheError {
  if (error instanceof MemcacheError) return error;
  return new MemcacheError(ErrorCode.BAD_VALUE, "the group's transcoder could not encode the value", { cause: error });
}

/** A get's (or gat's) item, decoded once it is in. */
export function decodedItem(got: Promise<Item | null>, transcoder: Transcoder<any, any>, key: string): Promise<any> {
  return got.then((item) => (item === null ? null : decodeItem(item, transcoder, key)));
}

/**
 * A getMulti's map with every item decoded. When some cannot be, it rejects
 * with a GetMultiDecodeError holding the others (this map, without the
 * failed keys) and each failed key's DecodeError: a failed key is never
 * silently a miss.
 */
export function decodedItems(got: Promise<Map<string, Item>>, transcoder: Transcoder<any, any>): Promise<any> {
  return got.then((items) => {
    let failures: Map<string, DecodeError> | null = null;
    let pending: Promise<unknown>[] | null = null;
    for (const [key, item] of items) {
      try {
        const done = decodeItem(item, transcoder, key);
        if (done instanceof Promise) {
          (pending ??= []).push(
            done.catch((error: DecodeError) => {
              (failures ??= new Map()).set(key, error);
            }),
          );
        }
      } catch (error) {
        (failures ??= new Map()).set(key, error as DecodeError);
      }
    }
    if (pending === null) return settleMany(items, failures);
    return Promise.all(pending).then(() => settleMany(items, failures));
  });
}

function settleMany(items: Map<string, Item>, failures: Map<string, DecodeError> | null): Map<string, Item> {
  if (failures === null) return items;
  for (const key of failures.keys()) items.delete(key);
  throw new GetMultiDecodeError(items, failures);
}

/** `item` with its data decoded (a promise of it when the transcoder decompresses asynchronously); throws a DecodeError. */
export function decodeItem(item: Item, transcoder: Transcoder<any, any>, key: string): Item | Promise<Item> {
  let data: unknown;
  try {
    data = transcoder.decode(item.value, item.flags);
  } catch (error) {
    throw decodeError(error, item, key);
  }
  if (data instanceof Promise) {
    return data.then(
      (value: unknown) => withData(item, value, key),
      (error: unknown) => Promise.reject(decodeError(error, item, key)),
    );
  }
  return withData(item, data, key);
}

function withData(item: Item, data: unknown, key: string): Item {
  if (data === undefined) throw new DecodeError(`the transcoder decoded flags ${hexFlags(item.flags)} to undefined`, item.value, item.flags, { key });
  item.decoded = data;
  return item;
}

function decodeError(error: unknown, item: Item, key: string): DecodeError {
  if (error instanceof DecodeError) {
    error.key ??= key;
    return error;
  }
  return new DecodeError(`the group's transcoder could not decode a value with flags ${hexFlags(item.flags)}`, item.value, item.flags, {
    cause: error,
    key,
  });
}
