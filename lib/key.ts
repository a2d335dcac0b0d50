/**
 * The client-wide key rule, whatever the protocol: 1 to 250 UTF-8 bytes, no
 * space, no control character (C0, DEL, C1), no lone surrogate. memcached
 * closes the connection on a longer key; the text protocols cannot carry a
 * space or a newline in one.
 */
import { ErrorCode, MemcacheError } from './errors.js';

/** Longest key the server accepts; a longer one makes it close the connection. */
export const MAX_KEY_LENGTH = 250;

const utf8 = new TextEncoder();

/**
 * Checks a key, without writing it: for paths that must refuse bad input
 * before any request exists (a batch over many servers, a server that is
 * down). Writers check the same rule as they write the key.
 */
export function checkKey(key: unknown): void {
  if (typeof key !== 'string') throw new MemcacheError(ErrorCode.BAD_KEY, `key must be a string, got ${typeof key}`);
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw keyLengthError(key.length);
  let ascii = true;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c <= 0x20 || (c >= 0x7f && c <= 0x9f)) throw keyCharacterError(c, i);
    if (c >= 0x80) ascii = false;
  }
  if (ascii) return;
  if (!isWellFormed(key)) {
    throw new MemcacheError(ErrorCode.BAD_KEY, 'key holds a lone UTF-16 surrogate and has no UTF-8 form');
  }
  const length = utf8.encode(key).length;
  if (length > MAX_KEY_LENGTH) throw keyLengthError(length);
}

export function isWellFormed(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  if (native !== undefined) return native.call(text);
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

export function keyLengthError(length: number): MemcacheError {
  return new MemcacheError(
    ErrorCode.BAD_KEY,
    length === 0 ? 'key is empty' : `key is ${length} bytes long; the limit is ${MAX_KEY_LENGTH}`,
  );
}

export function keyCharacterError(code: number, index: number): MemcacheError {
  const what = code === 0x20 ? 'a space' : `control character U+${code.toString(16).padStart(4, '0')}`;
  return new MemcacheError(ErrorCode.BAD_KEY, `key holds ${what} at index ${index}`);
}
