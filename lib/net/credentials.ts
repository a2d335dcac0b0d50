import { ErrorCode, MemcacheError } from '../errors.js';

/** SASL PLAIN credentials (binary protocol) or text authentication (meta): sent on every new connection before anything else. */
export interface SaslCredentials {
  username: string;
  password: string;
}

/**
 * Refuses credentials memcached's text authentication (memcached -Y, used by
 * the meta and text protocols) cannot carry: it reads `<username> <password>`
 * from one data block and compares them with the lines of its auth file, so
 * white space or a control character in either can never match. Checked
 * when a Group is made, so the mistake is not found at the first call.
 */
export function checkTextAuthCredentials(username: string, password: string): void {
  for (const [what, text] of [['username', username], ['password', password]] as const) {
    if (text.length === 0 || /[\s\0-\x1f\x7f]/.test(text)) {
      // Never the password itself: errors end up in logs.
      throw new MemcacheError(
        ErrorCode.BAD_CONFIG,
        `the ${what} of user ${JSON.stringify(username)} is empty or holds white space or a control character, which memcached's text authentication cannot carry (protocol 'meta' and 'text')`,
      );
    }
  }
}
