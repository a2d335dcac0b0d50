/**
 * getOrSet's and invalidate's options, checked (each refused with its own
 * MC_ERR_BAD_ARGUMENT before anything is sent) and read into plain numbers.
 */
import { ErrorCode, MemcacheError } from '../errors.js';
import type { CallOptions, Value } from '../group.js';
import type { TranscoderChoice } from '../transcode/registry.js';
import { abortSignal, expiration, milliseconds, optionsObject, uint32 } from '../validate.js';

/** Loads the value of a key that is missing or stale: what `set` accepts (with the group's transcoder), or a promise of it. */
export type Factory<V = Value> = (key: string) => V | PromiseLike<V>;

/** getOrSet's options in a group with transcoder `T`: `flags` only with the default (the others set the flags). */
export type GetOrSetOptionsFor<T extends TranscoderChoice> = T extends 'raw' ? GetOrSetOptions : Omit<GetOrSetOptions, 'flags'>;

export interface GetOrSetOptions extends CallOptions {
  /**
   * Seconds the loaded value is fresh (up to 2,592,000, 30 days), or an
   * absolute Unix time; 0 = never expires. Required.
   */
  expires: number;
  /**
   * Seconds the value is kept past `expires` (meta only): in that time the
   * first caller reloads it while every other caller still gets it at once.
   * Needs `expires` > 0. Default 0 (the value simply expires).
   */
  staleFor?: number;
  /**
   * Seconds the caller that won the load holds it (meta only): if it neither
   * stores nor fails within this time (it died, or is that slow), the next
   * caller, waiting ones included, wins and loads. Default 10.
   */
  lockFor?: number;
  /** Flags stored with a loaded value. Default 0. */
  flags?: number;
  /**
   * Milliseconds a caller waits for another client's load before it rejects
   * with MC_ERR_TIMEOUT (meta only). Default: the group's `timeout`.
   */
  timeout?: number;
}

export interface InvalidateOptions extends CallOptions {
  /**
   * Seconds the stale item lives from now (up to 30 days, or an absolute
   * Unix time; not 0): past it the item is gone and the next getOrSet loads
   * as on a miss. Default 30.
   */
  staleFor?: number;
}

/** Default lockFor: longer than any load worth caching should take. */
export const DEFAULT_LOCK_FOR = 10;
/** Default staleFor of invalidate: long enough for a reload, short enough that a lost win costs little. */
export const DEFAULT_INVALIDATE_STALE_FOR = 30;
/** memcached reads a TTL over this as an absolute Unix time. */
const MAX_RELATIVE = 2_592_000;

/** What a getOrSet call asks, read from its options. */
export interface LeaseSettings {
  /** TTL sent with the loaded value: expires + staleFor (0: never). */
  storeFor: number;
  staleFor: number;
  lockFor: number;
  flags: number;
  /** Milliseconds to wait for another client's load. */
  wait: number;
  signal: AbortSignal | undefined;
}

/** Checks getOrSet's arguments and writes its settings into `into` (a joining call's are discarded). */
export function readGetOrSetOptions(factory: unknown, options: unknown, defaultWait: number, into: LeaseSettings): void {
  // (A transcoder's group also refuses `flags`: see Leases.getOrSet.)
  if (typeof factory !== 'function') {
    throw new MemcacheError(ErrorCode.BAD_ARGUMENT, 'getOrSet takes a factory function (key) => value | Promise<value>');
  }
  optionsObject(options, 'options');
  const given = options as Partial<GetOrSetOptions> | undefined;
  if (given?.expires === undefined) {
    throw new MemcacheError(ErrorCode.BAD_ARGUMENT, 'getOrSet needs options.expires: seconds the loaded value lives (0 = never)');
  }
  const expires = expiration(given.expires, 'expires');
  const staleFor = given.staleFor === undefined ? 0 : uint32(given.staleFor, 'staleFor');
  if (staleFor > 0) {
    if (expires === 0) throw new MemcacheError(ErrorCode.BAD_ARGUMENT, 'staleFor needs an expiring value (expires > 0)');
    if (staleFor > MAX_RELATIVE || (expires <= MAX_RELATIVE && expires + staleFor > MAX_RELATIVE)) {
      throw new MemcacheError(
        ErrorCode.BAD_ARGUMENT,
        `expires + staleFor is ${expires + staleFor} s, over 30 days (${MAX_RELATIVE} s), which memcached would read as an absolute time`,
      );
    }
  }
  const lockFor = given.lockFor === undefined ? DEFAULT_LOCK_FOR : uint32(given.lockFor, 'lockFor');
  if (lockFor === 0 || lockFor > MAX_RELATIVE) {
    throw new MemcacheError(ErrorCode.BAD_ARGUMENT, `lockFor must be from 1 to ${MAX_RELATIVE} seconds, got ${lockFor}`);
  }
  into.storeFor = expires === 0 ? 0 : expires + staleFor;
  into.staleFor = staleFor;
  into.lockFor = lockFor;
  into.flags = given.flags === undefined ? 0 : uint32(given.flags, 'flags');
  // Not capped by lockFor: memcached counts whole seconds, so its stub may outlive lockFor by up to one;
  // a waiter still there when it goes wins the next poll.
  into.wait = given.timeout === undefined ? defaultWait : milliseconds(given.timeout, 'timeout');
  into.signal = abortSignal(given.signal);
}

/** Checks invalidate's options; returns the stale item's TTL. */
export function readInvalidateOptions(options: unknown): { staleFor: number; signal: AbortSignal | undefined } {
  optionsObject(options, 'options');
  const given = options as InvalidateOptions | undefined;
  if (given?.staleFor === undefined) return { staleFor: DEFAULT_INVALIDATE_STALE_FOR, signal: abortSignal(given?.signal) };
  const staleFor = expiration(given.staleFor, 'staleFor');
  // memcached reads md's T0 as "never expires": a stale item that could outlive every reload.
  if (staleFor === 0) throw new MemcacheError(ErrorCode.BAD_ARGUMENT, 'staleFor must be at least 1 second (0 would keep the stale item forever)');
  return { staleFor, signal: abortSignal(given.signal) };
}
