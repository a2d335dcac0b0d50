import { ErrorCode, MemcacheError } from './errors.js';

const MAX_U64 = 0xffffffffffffffffn;

function badArgument(name: string, expected: string, got: unknown): MemcacheError {
  const shown = typeof got === 'number' || typeof got === 'bigint' ? String(got) : describeType(got);
  return new MemcacheError(ErrorCode.BAD_ARGUMENT, `${name} must be ${expected}, got ${shown}`);
}

/** An unsigned 32-bit integer: flags, expiration, flush delay. */
export function uint32(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff) return value;
  throw badArgument(name, 'an integer from 0 to 4294967295', value);
}

/** memcached's REALTIME_MAXDELTA: an expiration over it is an absolute Unix time, not seconds from now. */
const MAX_RELATIVE_EXPIRATION = 2_592_000;

/**
 * An expiration (or flush delay): a uint32 that is seconds from now up to 30
 * days, an absolute Unix time past that. Over 30 days and not in the future,
 * it can only be seconds meant as relative (memcached would expire the item
 * at once), so it is refused.
 */
export function expiration(value: unknown, name: string): number {
  const seconds = uint32(value, name);
  if (seconds > MAX_RELATIVE_EXPIRATION && seconds < Math.floor(Date.now() / 1000)) {
    throw new MemcacheError(
      ErrorCode.BAD_ARGUMENT,
      `${name} ${seconds} is over 30 days (${MAX_RELATIVE_EXPIRATION} s), so memcached reads it as an absolute ` +
        `Unix time, and that time is past: give an absolute time, Math.floor(Date.now() / 1000) + seconds`,
    );
  }
  return seconds;
}

/** A counter operand: a safe non-negative integer or a bigint below 2^64. */
export function uint64(value: unknown, name: string): number | bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint' && value >= 0n && value <= MAX_U64) return value;
  throw badArgument(name, 'a non-negative safe integer or a bigint below 2^64', value);
}

/** A CAS token as read from Item.cas: a bigint from 1 to 2^64-1 (0 would mean "no CAS"). */
export function casToken(value: unknown, name = 'cas'): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return BigInt(value);
  if (typeof value === 'bigint' && value > 0n && value <= MAX_U64) return value;
  throw badArgument(name, 'a CAS token (bigint from 1 to 2^64-1)', value);
}

/** A positive number of milliseconds (timeouts). */
export function milliseconds(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= 2147483647) return value;
  throw badArgument(name, 'a positive number of milliseconds', value);
}

export function positiveInteger(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  throw badArgument(name, 'a positive integer', value);
}

export function optionsObject(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'object' || value === null)) throw badArgument(name, 'an object', value);
}

export function abortSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw badArgument('signal', 'an AbortSignal', value);
}

/**
 * A value to store: a string or Uint8Array of at most `limit` bytes. A
 * string's UTF-8 length is counted only when it might be over: when 3 bytes
 * per UTF-16 unit would not fit but 1 would.
 */
export function checkValue(value: unknown, limit: number): void {
  let size: number;
  if (typeof value === 'string') {
    if (value.length * 3 <= limit) return;
    if (value.length > limit) throw tooLarge(`at least ${value.length}`, limit);
    size = utf8Length(value);
  } else if (value instanceof Uint8Array) {
    size = value.length;
  } else {
    throw new MemcacheError(ErrorCode.BAD_VALUE, `value must be a string or Uint8Array, got ${describeType(value)}`);
  }
  if (size > limit) throw tooLarge(String(size), limit);
}

function tooLarge(size: string, limit: number): MemcacheError {
  return new MemcacheError(ErrorCode.VALUE_TOO_LARGE, `value of ${size} bytes is over the ${limit}-byte item limit`);
}

/** Bytes of `text` as UTF-8, counted without encoding it (a lone surrogate counts as U+FFFD, as TextEncoder writes it). */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 2 units, 4 bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** A value's type for messages ("null", "Uint8Array", "number"), never the value itself. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
