import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { Ring, type Distribution } from '../../lib/hash/ring.js';
import { ketamaPointCount } from '../../lib/hash/point-counts.js';
import { md5Word } from '../../lib/hash/md5.js';
import { oneAtATime } from '../../lib/hash/one-at-a-time.js';
import type { ServerInput } from '../../lib/hash/server.js';
import { ErrorCode, MemcacheError } from '../../lib/errors.js';
import { placementVectors, type PlacementCase } from '../support/vectors.js';

const vectors = placementVectors;

function serversOf(vector: PlacementCase): ServerInput[] {
  const weights = vector.weights;
  if (weights === undefined) return vector.servers;
  return vector.servers.map((server, i) => `${server}:${weights[i]!}`);
}

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error: unknown) => error instanceof MemcacheError && error.code === code);
}

const hosts = (count: number, port = 11211): string[] =>
  Array.from({ length: count }, (_, i) => `10.0.${i >> 8}.${i & 0xff}:${port}`);

describe('Ring: placement observed from libmemcached 1.0.18 (spec/hash/vectors/placement.json)', () => {
  it('has the cases and keys the vector file promises', () => {
    assert.equal(vectors.keys.length, 68);
    assert.equal(vectors.cases.length, 15);
    assert.ok(vectors.keys.some((key) => /[^\x00-\x7f]/.test(key)), 'non-ASCII keys are included');
  });

  for (const vector of vectors.cases) {
    it(`${vector.name}: every key on the server libmemcached chose`, () => {
      const ring = new Ring(serversOf(vector), { distribution: vector.distribution });
      assert.equal(Object.keys(vector.placement).length, vectors.keys.length);
      for (const key of vectors.keys) {
        const expected = vector.placement[key];
        assert.equal(typeof expected, 'number', `vector has key ${key}`);
        assert.equal(ring.pick(key), expected, `key ${key}`);
        // A key given as its UTF-8 bytes lands on the same server.
        assert.equal(ring.pick(new TextEncoder().encode(key)), expected, `key ${key} as bytes`);
      }
    });
  }

  it('gives the weighted vectors the same placement with weights given as objects', () => {
    for (const vector of vectors.cases.filter((c) => c.weights !== undefined)) {
      const servers = vector.servers.map((address, i) => {
        const [host, port] = address.split(':');
        return { host: host!, port: Number(port), weight: vector.weights![i]! };
      });
      const ring = new Ring(servers, { distribution: vector.distribution });
      for (const key of vectors.keys) assert.equal(ring.pick(key), vector.placement[key], `${vector.name} ${key}`);
    }
  });
});

describe('Ring: the float32 point count of libmemcached', () => {
  it('gives each of 25, 47 or 100 equal servers 156 points, where double precision would give 160', () => {
    for (const count of [25, 47, 100]) {
      const ring = new Ring(hosts(count));
      for (let i = 0; i < count; i++) assert.equal(ring.pointCount(i), 156, `${count} servers, server ${i}`);
      assert.equal(Math.floor(((1 / count) * 160) / 4 * count) * 4, 160, 'doubles would say 160');
    }
  });

  it('gives 160 points to each of 1 to 24, 26 or 48 equal servers', () => {
    for (const count of [1, 2, 3, 4, 10, 24, 26, 48]) {
      const ring = new Ring(hosts(count));
      for (let i = 0; i < count; i++) assert.equal(ring.pointCount(i), 160, `${count} servers`);
    }
  });

  it('computes weighted counts in float32: weights 10, 1, 4 give 320, 32 and 128 points', () => {
    assert.deepEqual([10, 1, 4].map((w) => ketamaPointCount(w, 15, 3)), [320, 32, 128]);
    const ring = new Ring([{ host: 'a', weight: 10 }, { host: 'b', weight: 1 }, { host: 'c', weight: 4 }]);
    assert.deepEqual([0, 1, 2].map((i) => ring.pointCount(i)), [320, 32, 128]);
  });

  it('gives libmemcached-consistent 100 points per server when every weight is 1', () => {
    const ring = new Ring(hosts(5), { distribution: 'libmemcached-consistent' });
    for (let i = 0; i < 5; i++) assert.equal(ring.pointCount(i), 100);
  });

  it('gives modula no continuum at all', () => {
    const ring = new Ring(hosts(5), { distribution: 'modula' });
    for (let i = 0; i < 5; i++) assert.equal(ring.pointCount(i), 0);
  });
});

describe('Ring.pick', () => {
  it('hashes keys with MD5 in ketama and one-at-a-time otherwise: modula is oaat(key) % count', () => {
    const ring = new Ring(hosts(7), { distribution: 'modula' });
    for (const key of ['a', 'user:1', 'café', '鍵']) assert.equal(ring.pick(key), oneAtATime(key) % 7);
  });

  it('sends every key to the only server of a one-server ring', () => {
    for (const distribution of ['ketama', 'libmemcached-consistent', 'modula'] as const) {
      const ring = new Ring(['solo:11211'], { distribution });
      for (const key of ['a', 'b', 'c', 'user:42']) assert.equal(ring.pick(key), 0);
    }
  });

  it('agrees with a continuum rebuilt here from distribution.md, including keys past the last point', () => {
    const servers = hosts(3, 31001);
    const points: [number, number][] = [];
    servers.forEach((address, owner) => {
      for (let label = 0; label < 40; label++) {
        const digest = createHash('md5').update(`${address}-${label}`).digest();
        for (const offset of [0, 4, 8, 12]) points.push([digest.readUInt32LE(offset), owner]);
      }
    });
    points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const expectedFor = (hash: number): number => (points.find(([point]) => point >= hash) ?? points[0]!)[1];

    const ring = new Ring(servers);
    for (let i = 0; i < 2000; i++) assert.equal(ring.pick(`key-${i}`), expectedFor(md5Word(`key-${i}`)));
    // Keys hashed above the last point wrap to the owner of the first.
    const last = points[points.length - 1]![0];
    let wrapped = 0;
    for (let i = 0; wrapped < 5; i++) {
      const key = `wrap-${i}`;
      if (md5Word(key) > last) {
        wrapped++;
        assert.equal(ring.pick(key), points[0]![1], key);
      }
    }
  });

  it('returns an index into the servers as configured, in their order', () => {
    const servers = ['c:1', 'a:1', 'b:1'];
    const ring = new Ring(servers);
    assert.deepEqual(ring.servers.map((server) => server.address), servers);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(ring.pick(`k${i}`));
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
  });

  it('spreads keys about evenly over equal servers', () => {
    const ring = new Ring(hosts(10));
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 50_000; i++) counts[ring.pick(`key:${i}`)]!++;
    for (const count of counts) assert.ok(count > 3500 && count < 6500, `count ${count} of 50000 on 10 servers`);
  });

  it('throws MC_ERR_BAD_KEY for a key that is neither a string nor a Uint8Array', () => {
    const ring = new Ring(hosts(3));
    for (const key of [42, null, undefined, {}, ['a'], new Uint32Array(1)]) {
      throwsCode(() => ring.pick(key as unknown as string), ErrorCode.BAD_KEY);
    }
  });
});

describe('Ring: bad configuration', () => {
  it('rejects an empty or missing server list with MC_ERR_BAD_CONFIG', () => {
    throwsCode(() => new Ring([]), ErrorCode.BAD_CONFIG);
    throwsCode(() => new Ring(undefined as never), ErrorCode.BAD_CONFIG);
    throwsCode(() => new Ring('a:1' as never), ErrorCode.BAD_CONFIG);
  });

  it('rejects more servers than owner indexes can hold (65536) with MC_ERR_BAD_CONFIG', () => {
    throwsCode(() => new Ring(hosts(65537)), ErrorCode.BAD_CONFIG);
  });

  it('rejects a server listed twice with MC_ERR_BAD_CONFIG, whatever the spelling', () => {
    throwsCode(() => new Ring(['a:1', 'b:1', 'a:1']), ErrorCode.BAD_CONFIG);
    throwsCode(() => new Ring(['a', 'a:11211']), ErrorCode.BAD_CONFIG);
    throwsCode(() => new Ring(['Cache:1', 'cache:1']), ErrorCode.BAD_CONFIG);
    throwsCode(() => new Ring(['[::1]:5', { host: '::1', port: 5 }]), ErrorCode.BAD_CONFIG);
    assert.equal(new Ring(['a:1', 'a:2']).servers.length, 2);
  });

  it('names the duplicate server in the error', () => {
    assert.throws(() => new Ring(['a:1', 'a:1']), (error: unknown) => error instanceof MemcacheError && error.server === 'a:1');
  });

  it('rejects an unknown distribution or bad options with MC_ERR_BAD_CONFIG', () => {
    throwsCode(() => new Ring(['a'], { distribution: 'consistent' as Distribution }), ErrorCode.BAD_CONFIG);
    throwsCode(() => new Ring(['a'], null as never), ErrorCode.BAD_CONFIG);
    assert.equal(new Ring(['a'], {}).distribution, 'ketama');
    assert.equal(new Ring(['a'], { distribution: undefined }).distribution, 'ketama');
  });

  it('rejects bad weights with MC_ERR_BAD_CONFIG, in every distribution', () => {
    for (const distribution of ['ketama', 'libmemcached-consistent', 'modula'] as const) {
      for (const weight of [0, -2, 1.5, '3']) {
        throwsCode(() => new Ring([{ host: 'a' }, { host: 'b', weight } as never], { distribution }), ErrorCode.BAD_CONFIG);
      }
    }
  });

  it('rejects unparseable servers and out-of-range ports with MC_ERR_BAD_SERVER', () => {
    throwsCode(() => new Ring(['a:1', 'b:x']), ErrorCode.BAD_SERVER);
    throwsCode(() => new Ring(['a:65536']), ErrorCode.BAD_SERVER);
    throwsCode(() => new Ring([{ host: 'a', port: 0 }]), ErrorCode.BAD_SERVER);
    throwsCode(() => new Ring([42 as never]), ErrorCode.BAD_SERVER);
  });
});
