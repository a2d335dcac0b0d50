// Ring.pick against PHP's Memcached extension (libmemcached underneath, as
// installed): for every key hash PHP's OPT_HASH takes, PHP's getServerByKey
// and Ring.pick name the same server for every key, under `modula` and
// `libmemcached-consistent` (unweighted: points hashed with the key hash;
// weighted: MD5 points), and under `ketama` with OPT_HASH set after
// OPT_LIBKETAMA_COMPATIBLE (MD5 points, keys hashed with OPT_HASH).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyHash } from '../../lib/hash/key-hash.js';
import { Ring, type Distribution } from '../../lib/hash/ring.js';
import { phpPlacement } from '../support/php-placement.js';

// PHP's Memcached::HASH_* constant, its libmemcached number, and memring's name.
const PHP_HASHES: { php: string | number; number: number; hash: KeyHash }[] = [
  { php: 'HASH_DEFAULT', number: 0, hash: 'one-at-a-time' },
  { php: 'HASH_MD5', number: 1, hash: 'md5' },
  { php: 'HASH_CRC', number: 2, hash: 'crc' },
  { php: 'HASH_FNV1_64', number: 3, hash: 'fnv1_64' },
  { php: 'HASH_FNV1A_64', number: 4, hash: 'fnv1a_64' },
  { php: 'HASH_FNV1_32', number: 5, hash: 'fnv1_32' },
  { php: 'HASH_FNV1A_32', number: 6, hash: 'fnv1a_32' },
  { php: 'HASH_HSIEH', number: 7, hash: 'hsieh' },
  { php: 'HASH_MURMUR', number: 8, hash: 'murmur' },
  // PHP has no HASH_JENKINS constant, but passes libmemcached's number through.
  { php: 9, number: 9, hash: 'jenkins' },
];

const SERVERS = ['127.0.0.1:11211', '127.0.0.2:11211', '127.0.0.3:22122', '127.0.0.4:11212', '127.0.0.5:11211'];
const WEIGHTS = [1, 3, 1, 2, 1];

const KEYS = [
  ...Array.from({ length: 300 }, (_, i) => `key:${i}`),
  ...Array.from({ length: 50 }, (_, i) => `user:${i * 7919}:session:${'x'.repeat(i)}`),
  ...Array.from({ length: 30 }, (_, i) => `café-${i}`),
  ...Array.from({ length: 30 }, (_, i) => `鍵${i}`),
  'a',
  'z'.repeat(250),
  // crc 0 in libhashkit's 15 bits: libmemcached keeps 0 (python-memcache makes it 1).
  'crc-zero-30454',
  'crc-zero-59355',
  'crc-zero-64781',
];

const CONFIGURATIONS: { distribution: Distribution; weighted: boolean }[] = [
  { distribution: 'modula', weighted: false },
  { distribution: 'libmemcached-consistent', weighted: false },
  { distribution: 'libmemcached-consistent', weighted: true },
  { distribution: 'ketama', weighted: true },
];

for (const { distribution, weighted } of CONFIGURATIONS) {
  const servers = weighted ? SERVERS.map((server, i) => `${server}:${WEIGHTS[i]!}`) : SERVERS;
  describe(`PHP getServerByKey and Ring.pick: ${distribution}${weighted ? ', weighted' : ''}, every OPT_HASH`, () => {
    for (const { php, number, hash } of PHP_HASHES) {
      const option = typeof php === 'string' ? `Memcached::${php}` : `OPT_HASH ${php}`;
      it(`${option} = hash '${hash}': ${KEYS.length} keys`, (t) => {
        const result = phpPlacement({ servers, distribution, hash: php, keys: KEYS });
        if (!result.hashSet) {
          // Debian's libmemcached is built without hsieh: PHP refuses it, so there is nothing to share.
          assert.equal(hash, 'hsieh', `PHP refused OPT_HASH ${String(php)}`);
          // The refused hash leaves the one before: md5 (set by LIBKETAMA_COMPATIBLE) or the default.
          assert.equal(result.hash, distribution === 'ketama' ? 1 : 0, 'the hash before stays');
          t.diagnostic('hsieh: not in this libmemcached build (setOption returned false)');
          return;
        }
        assert.equal(result.hash, number, 'PHP reports the hash set');
        const ring = new Ring(servers, { distribution, hash });
        assert.equal(result.placement.length, KEYS.length);
        KEYS.forEach((key, i) => assert.equal(ring.pick(key), result.placement[i], `key "${key}"`));
        // The placement spreads over more than one server (crc under consistent hashing may not).
        if (distribution === 'modula') assert.ok(new Set(result.placement).size > 1);
      });
    }
  });
}

describe('PHP with its default hash: the Ring defaults', () => {
  it('modula and libmemcached-consistent hash with one-at-a-time, ketama with md5, when no hash is given', () => {
    for (const { distribution, weighted } of CONFIGURATIONS) {
      const servers = weighted ? SERVERS.map((server, i) => `${server}:${WEIGHTS[i]!}`) : SERVERS;
      const result = phpPlacement({ servers, distribution, hash: null, keys: KEYS });
      const ring = new Ring(servers, { distribution });
      assert.equal(ring.hash, distribution === 'ketama' ? 'md5' : 'one-at-a-time');
      const picked = KEYS.map((key) => ring.pick(key));
      assert.deepEqual(picked, result.placement, `${distribution}${weighted ? ', weighted' : ''}`);
    }
  });
});
