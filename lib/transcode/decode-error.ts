import { ErrorCode, MemcacheError } from '../errors.js';
import type { Item } from '../item.js';

/**
 * A stored value the group's transcoder cannot read (MC_ERR_DECODE): an
 * unknown flag, a serializer memring does not read (pickle, igbinary,
 * msgpack), corrupt compressed data. The stored bytes and flags are kept on
 * the error, never in its message.
 */
export class DecodeError extends MemcacheError {
  /** The key read, once the Group knows it (undefined when `decode` was called directly). */
  key: string | undefined;

  constructor(
    message: string,
    /** The bytes as stored (still compressed, when they were). */
    readonly bytes: Uint8Array,
    /** The flags stored with them. */
    readonly flags: number,
    options: { cause?: unknown; key?: string } = {},
  ) {
    super(ErrorCode.DECODE, message, options.cause === undefined ? {} : { cause: options.cause });
    this.key = options.key;
  }
}

/**
 * getMulti's rejection when some values could not be decoded: the others
 * are in `items`, exactly as getMulti would have resolved without the failed
 * keys, and each failed key has its DecodeError in `failures`.
 */
export class GetMultiDecodeError<T = unknown> extends MemcacheError {
  constructor(
    /** The hits that were decoded. */
    readonly items: Map<string, Item<T>>,
    /** Each key that could not be decoded, with why (its raw bytes and flags on the error). */
    readonly failures: Map<string, DecodeError>,
  ) {
    super(ErrorCode.DECODE, `getMulti: ${failures.size} of ${failures.size + items.size} values could not be decoded`);
  }
}

/** The flags in hex, for messages. */
export function hexFlags(flags: number): string {
  return `0x${flags.toString(16)}`;
}
