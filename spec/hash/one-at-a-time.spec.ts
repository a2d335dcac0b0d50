import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { oneAtATime } from '../../lib/hash/one-at-a-time.js';
import { ErrorCode, MemcacheError } from '../../lib/errors.js';

// The algorithm as distribution.md writes it, in BigInt so nothing can overflow quietly.
function reference(bytes: Uint8Array, signed: boolean): number {
  const mask = 0xffffffffn;
  let h = 0n;
  for (const byte of bytes) {
    const v = signed && byte >= 128 ? byte - 256 : byte;
    h = (h + BigInt(v)) & mask;
    h = (h + (h << 10n)) & mask;
    h ^= h >> 6n;
  }
  h = (h + (h << 3n)) & mask;
  h ^= h >> 11n;
  h = (h + (h << 15n)) & mask;
  return Number(h);
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("oneAtATime: libmemcached's values", () => {
  it('matches the one_at_a_time row libhashkit tests against', () => {
    // libmemcached test/fixtures/hashes.hpp.
    const expected: [string, number][] = [
      ['apple', 2297466611],
      ['beat', 3902465932],
      ['carrot', 469785835],
      ['daikon', 1937308741],
      ['zip', 2509838425],
      ['The quick brown fox jumps over the lazy dog', 1369346549],
    ];
    for (const [key, hash] of expected) {
      assert.equal(oneAtATime(key), hash, key);
      assert.equal(oneAtATime(utf8(key)), hash, key);
    }
  });

  it('hashes the empty key to 0', () => {
    assert.equal(oneAtATime(''), 0);
    assert.equal(oneAtATime(new Uint8Array(0)), 0);
  });
});

describe('oneAtATime: bytes >= 0x80 are sign-extended, as C signed chars', () => {
  it('equals the signed reference, not the unsigned one, for every single byte >= 0x80', () => {
    for (let byte = 0x80; byte <= 0xff; byte++) {
      const key = Uint8Array.of(0x6b, byte, 0x31);
      assert.equal(oneAtATime(key), reference(key, true), `byte ${byte}`);
      assert.notEqual(oneAtATime(key), reference(key, false), `byte ${byte}`);
    }
  });

  it('treats ASCII bytes the same either way', () => {
    const key = utf8('user:594468049:profile');
    assert.equal(reference(key, true), reference(key, false));
    assert.equal(oneAtATime(key), reference(key, false));
  });

  it('equals the signed reference for random byte strings', () => {
    let seed = 1;
    for (let length = 0; length < 300; length++) {
      const key = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        key[i] = seed >>> 24;
      }
      assert.equal(oneAtATime(key), reference(key, true), `length ${length}`);
    }
  });

  it('hashes a non-ASCII string as its UTF-8 bytes', () => {
    for (const text of ['café-0', 'ключ:3', '鍵4', 'emoji-😀-1', 'a'.repeat(300) + 'é', '\uD800x']) {
      assert.equal(oneAtATime(text), reference(utf8(text), true), text.slice(0, 12));
      assert.equal(oneAtATime(text), oneAtATime(utf8(text)));
    }
  });
});

describe('oneAtATime: bad input', () => {
  it('throws MC_ERR_BAD_ARGUMENT for anything but a string or a Uint8Array', () => {
    for (const bad of [1, null, undefined, {}, ['a']]) {
      assert.throws(
        () => oneAtATime(bad as unknown as string),
        (error: unknown) => error instanceof MemcacheError && error.code === ErrorCode.BAD_ARGUMENT,
      );
    }
  });
});
