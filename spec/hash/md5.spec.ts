import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { md5, md5Word, md5Words } from '../../lib/hash/md5.js';
import { ErrorCode, MemcacheError } from '../../lib/errors.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const nodeMd5 = (data: Uint8Array | string): string => createHash('md5').update(data).digest('hex');

// Deterministic pseudo-random numbers (xorshift32), so a failure can be replayed.
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
}

function randomBytes(next: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = next() & 0xff;
  return bytes;
}

// Mostly ASCII, with 2-, 3- and 4-byte UTF-8 characters mixed in.
const NON_ASCII = ['é', 'ß', 'ключ', '鍵', '😀', '\u{10FFFF}', '\u0080', '\u07FF', '\u0800', '\uFFFF'];
function randomText(next: () => number, length: number): string {
  let text = '';
  while (text.length < length) {
    const roll = next() % 16;
    text += roll === 0 ? NON_ASCII[next() % NON_ASCII.length]! : String.fromCharCode(0x20 + (next() % 95));
  }
  return text;
}

describe('md5: the RFC 1321 test suite', () => {
  const suite: [string, string][] = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    [
      '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
      '57edf4a22be3c955ac49da2e2107b67a',
    ],
  ];
  for (const [input, digest] of suite) {
    it(`MD5("${input.length > 20 ? input.slice(0, 20) + '...' : input}") = ${digest}`, () => {
      assert.equal(hex(md5(input)), digest);
      assert.equal(hex(md5(new TextEncoder().encode(input))), digest);
    });
  }
});

describe('md5: agrees with node:crypto', () => {
  it('for random byte arrays of every length from 0 to 2000', () => {
    const next = random(0x9e3779b9);
    for (let length = 0; length <= 2000; length++) {
      const bytes = randomBytes(next, length);
      assert.equal(hex(md5(bytes)), nodeMd5(bytes), `length ${length}`);
    }
  });

  it('for byte arrays that are views at an offset into a larger buffer', () => {
    const next = random(7);
    const backing = randomBytes(next, 4096);
    for (let length = 0; length <= 300; length++) {
      const start = next() % 1000;
      const view = backing.subarray(start, start + length);
      assert.equal(hex(md5(view)), nodeMd5(view), `offset ${start} length ${length}`);
    }
  });

  it('for random ASCII strings of every length from 0 to 2000', () => {
    const next = random(12345);
    for (let length = 0; length <= 2000; length++) {
      let text = '';
      for (let i = 0; i < length; i++) text += String.fromCharCode(next() % 128);
      assert.equal(hex(md5(text)), nodeMd5(Buffer.from(text, 'utf8')), `length ${length}`);
    }
  });

  it('for strings with non-ASCII and astral characters, hashed as their UTF-8 bytes', () => {
    const next = random(424242);
    for (let length = 0; length <= 2000; length++) {
      const text = randomText(next, length);
      assert.equal(hex(md5(text)), nodeMd5(Buffer.from(text, 'utf8')), `length ${length}`);
    }
  });

  it('for a string that is ASCII for several blocks before its first non-ASCII character', () => {
    for (const prefix of [63, 64, 65, 128, 200, 1000]) {
      const text = 'k'.repeat(prefix) + 'ü' + 'k'.repeat(10);
      assert.equal(hex(md5(text)), nodeMd5(Buffer.from(text, 'utf8')), `prefix ${prefix}`);
    }
  });

  it('for lone surrogates, encoded as U+FFFD like TextEncoder', () => {
    for (const text of ['\uD800', 'a\uDC00b', 'x\uD83D']) {
      assert.equal(hex(md5(text)), nodeMd5(new TextEncoder().encode(text)));
    }
  });

  it('for a 1 MiB input', () => {
    const bytes = randomBytes(random(99), 1 << 20);
    assert.equal(hex(md5(bytes)), nodeMd5(bytes));
  });

  it('again after a long non-ASCII string grew the scratch buffer', () => {
    const long = '鍵'.repeat(5000);
    assert.equal(hex(md5(long)), nodeMd5(Buffer.from(long, 'utf8')));
    assert.equal(hex(md5('café')), nodeMd5(Buffer.from('café', 'utf8')));
  });
});

describe('md5Word and md5Words: the digest as little-endian words, without allocating', () => {
  it('md5Word is the first four digest bytes read little-endian', () => {
    const next = random(5);
    for (let length = 0; length < 200; length++) {
      const bytes = randomBytes(next, length);
      const digest = createHash('md5').update(bytes).digest();
      assert.equal(md5Word(bytes), digest.readUInt32LE(0));
    }
  });

  it('md5Word of a string is md5Word of its UTF-8 bytes', () => {
    for (const text of ['k528935', 'café-0', 'ключ:1', '鍵2', 'emoji-😀-3']) {
      assert.equal(md5Word(text), md5Word(new TextEncoder().encode(text)));
    }
  });

  it('md5Words writes the four words at the offset given and touches nothing else', () => {
    const out = new Uint32Array(10).fill(7);
    md5Words('server-0', out, 3);
    const digest = createHash('md5').update('server-0').digest();
    assert.deepEqual(Array.from(out), [7, 7, 7, ...[0, 4, 8, 12].map((o) => digest.readUInt32LE(o)), 7, 7, 7]);
  });

  it('matches the MD5 vectors libhashkit tests against', () => {
    // libmemcached test/fixtures/hashes.hpp, the md5 row.
    assert.equal(md5Word('apple'), 3195025439);
    assert.equal(md5Word('zip'), 2042482093);
    assert.equal(md5Word('The quick brown fox jumps over the lazy dog'), 2642219166);
  });
});

describe('md5: bad input', () => {
  it('throws MC_ERR_BAD_ARGUMENT for anything but a string or a Uint8Array', () => {
    for (const bad of [42, null, undefined, {}, [1, 2, 3], new Uint16Array(2)]) {
      assert.throws(
        () => md5(bad as unknown as string),
        (error: unknown) => error instanceof MemcacheError && error.code === ErrorCode.BAD_ARGUMENT,
      );
    }
  });
});
