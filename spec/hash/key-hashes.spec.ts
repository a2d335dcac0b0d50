// Every key hash against libmemcached itself: its own test suite's expected
// values, and the installed libhashkit (the library under PHP's memcached
// extension and pylibmc) computing the same keys live, random bytes >= 0x80
// included, where libhashkit's signed-char reads show.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { ErrorCode } from '../../lib/errors.js';
import { Group } from '../../lib/group.js';
import { KEY_HASHES, isKeyHash, keyHashFunction, type KeyHash } from '../../lib/hash/key-hash.js';
import { Ring } from '../../lib/hash/ring.js';
import { throwsCode } from '../support/throws.js';

const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('../support/libhashkit-peer.py', import.meta.url));
const INSTALL_HINT =
  'the key-hash spec calls the real libhashkit: install it with ' +
  '`apt-get update && apt-get install -y python3 libhashkit2` (Debian/Ubuntu), then run `npm test` again.';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function readVectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/** libhashkit_digest of each key with every algorithm, from the installed library. */
function libhashkit(keys: Uint8Array[]): { available: Record<KeyHash, boolean>; hashes: Record<KeyHash, number[]> } {
  const run = spawnSync(PYTHON, [PEER], {
    input: JSON.stringify({ keys: keys.map(hex) }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error?.message ?? run.stderr;
    throw new Error(/libhashkit.so.2 not found|ENOENT/.test(why) ? INSTALL_HINT : `libhashkit peer failed: ${why}`);
  }
  return JSON.parse(run.stdout) as ReturnType<typeof libhashkit>;
}

// Deterministic bytes: every length 0-80 (each tail case of the block hashes), then long keys.
let seed = 0x2545f491;
function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    bytes[i] = seed >>> 23;
  }
  return bytes;
}
const BYTE_KEYS: Uint8Array[] = [];
for (let length = 0; length <= 80; length++) for (let n = 0; n < 3; n++) BYTE_KEYS.push(randomBytes(length));
for (const length of [127, 128, 129, 200, 249, 250]) BYTE_KEYS.push(randomBytes(length));
// Strings take each hash's own string path: ASCII char codes, or UTF-8 through the scratch buffer.
const TEXT_KEYS = [
  ...Array.from({ length: 40 }, (_, i) => `user:${i * 7919}:profile`),
  'a',
  'ab',
  'abc',
  'The quick brown fox jumps over the lazy dog',
  'x'.repeat(250),
  'café',
  'clé-é',
  '鍵',
  '鍵:12',
  'naïve-€-7',
  '😀-emoji',
  `${'é'.repeat(100)}`,
];

describe("key hashes: libmemcached's own test values (test/fixtures/hashes.hpp)", () => {
  const fixture = readVectors<{ keys: string[]; hashes: Record<string, number[]> }>('libhashkit-fixtures.json');

  for (const name of KEY_HASHES) {
    it(`${name}: all ${fixture.keys.length} words`, () => {
      const expected = fixture.hashes[name.replaceAll('-', '_')];
      assert.ok(expected !== undefined, `the fixture has a ${name} row`);
      const hash = keyHashFunction(name);
      fixture.keys.forEach((word, i) => {
        assert.equal(hash(word), expected[i], `${name}("${word}")`);
        assert.equal(hash(utf8(word)), expected[i], `${name} of the bytes of "${word}"`);
      });
    });
  }
});

describe('key hashes: the installed libhashkit, computing the same keys live', () => {
  const keys = [...BYTE_KEYS, ...TEXT_KEYS.map(utf8)];
  const peer = libhashkit(keys);

  it('has every hash but hsieh, which Debian builds without', () => {
    const missing = KEY_HASHES.filter((name) => !peer.available[name]);
    assert.ok(missing.every((name) => name === 'hsieh'), `unavailable in this libhashkit: ${missing.join(', ')}`);
  });

  for (const name of KEY_HASHES) {
    it(`${name}: ${BYTE_KEYS.length} byte keys and ${TEXT_KEYS.length} strings, as libhashkit_digest`, (t) => {
      if (!peer.available[name]) {
        // The compiled-source vectors below cover it; here only the sign that the build lacks it.
        assert.equal(name, 'hsieh');
        assert.ok(peer.hashes[name].every((value) => value === 1), 'libhashkit_digest returns 1 for a hash it lacks');
        t.diagnostic(`${name}: not in this libhashkit build`);
        return;
      }
      const hash = keyHashFunction(name);
      const expected = peer.hashes[name];
      BYTE_KEYS.forEach((key, i) => assert.equal(hash(key), expected[i], `${name}(0x${hex(key)})`));
      TEXT_KEYS.forEach((text, i) => assert.equal(hash(text), expected[BYTE_KEYS.length + i], `${name}("${text}")`));
    });
  }

  it('reads bytes >= 0x80 as libhashkit does: signed in FNV, so not as textbook FNV-1a', () => {
    // Textbook FNV-1a (unsigned bytes) of "é" (0xc3 0xa9), computed here: libhashkit's differs.
    let textbook = 0x811c9dc5;
    for (const byte of utf8('é')) textbook = Math.imul(textbook ^ byte, 0x01000193) >>> 0;
    const index = BYTE_KEYS.length + TEXT_KEYS.indexOf('café');
    assert.notEqual(keyHashFunction('fnv1a_32')('é'), textbook);
    assert.equal(keyHashFunction('fnv1a_32')('café'), peer.hashes.fnv1a_32[index]);
  });
});

describe('hsieh: libhashkit 1.1.4 hsieh.cc compiled with HAVE_HSIEH_HASH (vectors/make-hsieh-vectors.py)', () => {
  const vectors = readVectors<{ keys: string[]; hsieh: number[] }>('hsieh.json');

  it(`all ${vectors.keys.length} keys: every length 0-40, bytes >= 0x80, UTF-8 text`, () => {
    const hash = keyHashFunction('hsieh');
    assert.ok(vectors.keys.length > 100);
    vectors.keys.forEach((key, i) => {
      assert.equal(hash(Buffer.from(key, 'hex')), vectors.hsieh[i], `hsieh(0x${key})`);
      const text = Buffer.from(key, 'hex').toString('utf8');
      if (hex(utf8(text)) === key) assert.equal(hash(text), vectors.hsieh[i], `hsieh("${text}")`);
    });
  });
});

describe('key hash names', () => {
  it("are libmemcached's ten, in its order (MEMCACHED_HASH_DEFAULT = 0 ... JENKINS = 9)", () => {
    assert.deepEqual(KEY_HASHES, [
      'one-at-a-time', 'md5', 'crc', 'fnv1_64', 'fnv1a_64', 'fnv1_32', 'fnv1a_32', 'hsieh', 'murmur', 'jenkins',
    ]);
    assert.ok(KEY_HASHES.every(isKeyHash));
    for (const wrong of ['MD5', 'fnv', 'crc32', 'murmur3', 'toString', '', undefined, 1]) {
      assert.equal(isKeyHash(wrong), false, String(wrong));
    }
  });

  it('crc keeps 15 bits: every value is 0 to 32767', () => {
    const crc = keyHashFunction('crc');
    for (const key of BYTE_KEYS) assert.ok(crc(key) >= 0 && crc(key) <= 0x7fff);
  });
});

describe('the hash option of Ring and Group', () => {
  const servers = ['127.0.0.1:11211', '127.0.0.2:11211', '127.0.0.3:11211'];

  it('refuses an unknown name with MC_ERR_BAD_CONFIG, naming the ten', () => {
    for (const hash of ['crc32', 'MD5', 'murmur3', 'toString', '', 7]) {
      const error = throwsCode(() => new Ring(servers, { hash: hash as KeyHash }), ErrorCode.BAD_CONFIG);
      assert.match(error.message, /use one-at-a-time, md5, crc, .*jenkins/);
      // Checked with the other options, before any pool is made.
      throwsCode(() => new Group(servers, { hash: hash as KeyHash }), ErrorCode.BAD_CONFIG);
    }
  });

  it('is refused with discovery unless md5: the discovered nodes are placed by ketama', () => {
    const error = throwsCode(() => new Group(['127.0.0.1:1'], { discovery: 'elasticache', hash: 'crc' }), ErrorCode.BAD_CONFIG);
    assert.match(error.message, /discovery places keys by ketama with md5; hash "crc"/);
  });

  it('defaults to md5 in ketama and one-at-a-time in the others, and says which', () => {
    assert.equal(new Ring(servers).hash, 'md5');
    assert.equal(new Ring(servers, { distribution: 'modula' }).hash, 'one-at-a-time');
    assert.equal(new Ring(servers, { distribution: 'libmemcached-consistent' }).hash, 'one-at-a-time');
    assert.equal(new Ring(servers, { distribution: 'modula', hash: 'crc' }).hash, 'crc');
  });

  it('modula places a key on hash(key) % servers, with the hash chosen', () => {
    for (const hash of KEY_HASHES) {
      const ring = new Ring(servers, { distribution: 'modula', hash });
      const keyHash = keyHashFunction(hash);
      for (const key of TEXT_KEYS) assert.equal(ring.pick(key), keyHash(key) % servers.length, `${hash} ${key}`);
    }
  });

  it('a Group places keys with its hash: serverFor follows the Ring with the same options', async () => {
    const group = new Group(servers, { distribution: 'libmemcached-consistent', hash: 'fnv1a_32' });
    try {
      const ring = new Ring(servers, { distribution: 'libmemcached-consistent', hash: 'fnv1a_32' });
      const plain = new Ring(servers, { distribution: 'libmemcached-consistent' });
      let differs = 0;
      // Memcached keys hold no spaces.
      for (const key of TEXT_KEYS.filter((text) => !text.includes(' '))) {
        assert.equal(group.serverFor(key), ring.servers[ring.pick(key)]!.address, key);
        if (ring.pick(key) !== plain.pick(key)) differs++;
      }
      assert.ok(differs > 0, 'the hash changes where some keys go');
    } finally {
      await group.close();
    }
  });
});
