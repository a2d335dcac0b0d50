/**
 * A Transcoder turns what a caller stores into bytes and flags, and what the
 * server returns back into a value. Each client family (php-memcached,
 * pylibmc, ...) gives the 32-bit flags its own meaning, so a group is told
 * which one it shares values with; nothing is guessed from the bytes.
 */

/** What `encode` returns: the bytes (a string is stored as its UTF-8) and the flags stored beside them. */
export interface Encoded {
  value: Uint8Array | string;
  flags: number;
}

/**
 * Values of type `In` stored, values of type `Out` read back. Either method
 * may return a promise (compression under Workers is asynchronous). `encode`
 * throws a MemcacheError (MC_ERR_BAD_VALUE) for what it cannot store;
 * `decode` throws a DecodeError (MC_ERR_DECODE), or any error, which the
 * Group wraps into one. `decode` runs where the call settles, never inside
 * the connection's reader: a throwing decoder fails only its own call.
 * `decode` must not return `undefined`.
 */
export interface Transcoder<In = unknown, Out = In> {
  encode(value: In): Encoded | Promise<Encoded>;
  decode(value: Uint8Array, flags: number): Out | Promise<Out>;
}
