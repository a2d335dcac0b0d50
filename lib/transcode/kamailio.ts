/**
 * The 'kamailio' transcoder: strings with flag 1, as Kamailio's memcached
 * module stores them (its integers carry flag 0); every value read back as
 * its UTF-8 text, whatever the flags. For CacheAPI shared with Kamailio.
 */
import { ErrorCode, MemcacheError } from '../errors.js';
import { describeType } from '../validate.js';
import { utf8 } from './text.js';
import type { Encoded, Transcoder } from './transcoder.js';

export const KAMAILIO_STRING = 1;
export const KAMAILIO_INTEGER = 0;

export class KamailioTranscoder implements Transcoder<string | number, string> {
  encode(value: string | number): Encoded {
    if (typeof value === 'string') return { value, flags: KAMAILIO_STRING };
    if (typeof value === 'number' && Number.isSafeInteger(value)) return { value: String(value), flags: KAMAILIO_INTEGER };
    throw new MemcacheError(ErrorCode.BAD_VALUE, `the kamailio transcoder stores strings and integers, not ${describeType(value)}`);
  }

  decode(stored: Uint8Array): string {
    return utf8(stored);
  }
}
