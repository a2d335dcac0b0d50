// memring ring against libmemcached's own placement (shared/vectors), and
// what it reports when servers are added or removed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Ring } from '../../lib/index.js';
import { memring } from './run.js';
import { placementVectors } from '../support/vectors.js';
import { phpPlacement } from '../support/php-placement.js';
import type { Share } from '../../lib/cli/ring.js';

const vectors = placementVectors;

interface Moves {
  distribution: string;
  sample: number;
  added: string[];
  removed: string[];
  moved: number;
  moved_share: number;
  ideal_moved_share: number;
  before: Share[];
  after: Share[];
  keys?: { key: string; before: string; after: string }[];
}

const FOUR = '127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4';

describe('memring ring --json: placement observed from libmemcached 1.0.18 (spec/hash/vectors/placement.json)', () => {
  it('covers every case of the vector file', () => {
    assert.equal(vectors.cases.length, 15);
    assert.equal(vectors.keys.length, 68);
  });

  for (const vector of vectors.cases) {
    it(`${vector.name}: every key on the server libmemcached chose`, async () => {
      const servers = vector.weights === undefined ? vector.servers : vector.servers.map((s, i) => `${s}:${vector.weights![i]!}`);
      const r = await memring(['ring', '--servers', servers.join(','), '--distribution', vector.distribution, '--json', ...vectors.keys]);
      assert.equal(r.code, 0, r.stderr);
      const placed = JSON.parse(r.stdout) as { key: string; server: string }[];
      assert.equal(placed.length, vectors.keys.length);
      for (const [i, key] of vectors.keys.entries()) {
        assert.deepEqual(placed[i], { key, server: vector.servers[vector.placement[key]!] }, `key ${key}`);
      }
    });
  }
});

describe('memring ring: text output', () => {
  it('prints one "KEY  host:port" line per key, the default port filled in', async () => {
    const r = await memring(['ring', '-s', FOUR, 'user:1', 'user:2', 'café']);
    assert.equal(r.code, 0);
    const ring = new Ring(FOUR.split(','));
    const expected = ['user:1', 'user:2', 'café'].map((key) => `${key.padEnd(6)}  ${ring.servers[ring.pick(key)]!.address}`);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), expected);
  });

  it('takes keys that begin with "-": after --, or when no option of ring starts that way', async () => {
    const r = await memring(['ring', '-s', FOUR, '--json', '-0abc', '-5', '--', '--weird', '-s']);
    assert.equal(r.code, 0, r.stderr);
    const ring = new Ring(FOUR.split(','));
    assert.deepEqual(
      JSON.parse(r.stdout),
      ['-0abc', '-5', '--weird', '-s'].map((key) => ({ key, server: ring.servers[ring.pick(key)]!.address })),
    );
  });

  it('without keys, prints each server\'s points and share of a sample of keys, with a bar', async () => {
    const r = await memring(['ring', '-s', '127.0.0.1:11211:1,127.0.0.2:11211:3']);
    assert.equal(r.code, 0);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^ketama, 2 servers, sample of 100,000 keys$/);
    assert.match(lines[2]!, /^server +points +%points +keys +%keys$/);
    const light = lines.find((l) => l.startsWith('127.0.0.1:11211'))!;
    const heavy = lines.find((l) => l.startsWith('127.0.0.2:11211'))!;
    assert.ok(heavy.split('#').length > 2 * light.split('#').length, 'the weight-3 server has the longer bar');
  });

  it('reports the share that moves when a server is added, and the per-key move', async () => {
    const r = await memring(['ring', '-s', FOUR, '--add', '127.0.0.5', 'k1', 'k2']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ketama, 4 → 5 servers \(\+127\.0\.0\.5:11211\), sample of 100,000 keys\n/);
    assert.match(r.stdout, /\nmoved: \d+\.\d% of the keys \([\d,]+\); ideal: 20\.0%/);
    assert.match(r.stdout, /\nbefore\n/);
    assert.match(r.stdout, /\nafter\n/);
    assert.match(r.stdout, /\nkey +before +after/);
  });
});

describe('memring ring --add/--remove --json', () => {
  it('ketama: adding a fifth server moves about a fifth of the keys, all of them to the new server', async () => {
    const r = await memring(['ring', '-s', FOUR, '--add', '127.0.0.5:11211', '--json', '--sample', '20000', 'a', 'b', 'c', 'd', 'e', 'f']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout) as Moves;
    assert.equal(m.distribution, 'ketama');
    assert.deepEqual(m.added, ['127.0.0.5:11211']);
    assert.deepEqual(m.removed, []);
    assert.equal(m.sample, 20000);
    assert.equal(m.moved_share, m.moved / 20000);
    assert.equal(m.ideal_moved_share, 0.2);
    assert.ok(m.moved_share > 0.12 && m.moved_share < 0.28, `moved ${m.moved_share}`);
    // Consistent hashing: what moved went to the new server, so its keys are exactly the moved ones.
    assert.equal(m.after.find((s) => s.server === '127.0.0.5:11211')!.keys, m.moved);
    assert.deepEqual(m.before.map((s) => s.points), [160, 160, 160, 160]);
    assert.deepEqual(m.after.map((s) => s.points), [160, 160, 160, 160, 160]);
    for (const shares of [m.before, m.after]) {
      assert.equal(shares.reduce((n, s) => n + s.keys, 0), 20000);
      assert.ok(Math.abs(shares.reduce((n, s) => n + s.point_share!, 0) - 1) < 1e-9);
    }
    const before = new Ring(FOUR.split(','));
    const after = new Ring([...FOUR.split(','), '127.0.0.5:11211']);
    for (const k of m.keys!) {
      assert.equal(k.before, before.servers[before.pick(k.key)]!.address);
      assert.equal(k.after, after.servers[after.pick(k.key)]!.address);
      assert.ok(k.after === k.before || k.after === '127.0.0.5:11211', `${k.key} moved only to the new server`);
    }
  });

  it('ketama: removing a server moves only its keys', async () => {
    const r = await memring(['ring', '-s', FOUR, '--remove', '127.0.0.2:11211', '--json', '--sample', '20000']);
    const m = JSON.parse(r.stdout) as Moves;
    assert.equal(m.ideal_moved_share, 0.25);
    assert.equal(m.before.find((s) => s.server === '127.0.0.2:11211')!.keys, m.moved);
    assert.equal(m.after.length, 3);
  });

  it('modula: removing one of four servers moves most keys, and there are no points', async () => {
    const r = await memring(['ring', '-s', FOUR, '-d', 'modula', '--remove', '127.0.0.4', '--json', '--sample', '20000']);
    const m = JSON.parse(r.stdout) as Moves;
    assert.equal(m.distribution, 'modula');
    assert.ok(m.moved_share > 0.6, `moved ${m.moved_share}`);
    assert.ok(m.after.every((s) => s.points === null && s.point_share === null));
  });

  it('weights count: a weight-2 server added to four takes about a third of the keys', async () => {
    const r = await memring(['ring', '-s', FOUR, '--add', '127.0.0.5:11211:2', '--json', '--sample', '20000']);
    const m = JSON.parse(r.stdout) as Moves;
    assert.ok(Math.abs(m.ideal_moved_share - 1 / 3) < 1e-9);
    assert.ok(m.moved_share > 0.25 && m.moved_share < 0.42, `moved ${m.moved_share}`);
  });
});

describe('memring ring --hash: the key hash, as PHP (libmemcached) applies it', () => {
  const servers = ['127.0.0.1:11211', '127.0.0.2:11212', '127.0.0.3:11211', '127.0.0.4:22122'];
  const keys = [...Array.from({ length: 60 }, (_, i) => `session:${i}`), 'café', '鍵:1'];
  const cases = [
    { distribution: 'modula', hash: 'crc', php: 'HASH_CRC' },
    { distribution: 'modula', hash: 'fnv1a_32', php: 'HASH_FNV1A_32' },
    { distribution: 'libmemcached-consistent', hash: 'murmur', php: 'HASH_MURMUR' },
    { distribution: 'libmemcached-consistent', hash: 'fnv1_64', php: 'HASH_FNV1_64' },
  ] as const;

  for (const { distribution, hash, php } of cases) {
    it(`${distribution} --hash ${hash}: every key on the server PHP's getServerByKey names`, async () => {
      const r = await memring(['ring', '-s', servers.join(','), '-d', distribution, '--hash', hash, '--json', ...keys]);
      assert.equal(r.code, 0, r.stderr);
      const theirs = phpPlacement({ servers, distribution, hash: php, keys });
      assert.equal(theirs.hashSet, true);
      const placed = JSON.parse(r.stdout) as { key: string; server: string }[];
      assert.deepEqual(placed, keys.map((key, i) => ({ key, server: servers[theirs.placement[i]!] })));
    });
  }

  it('names the hash in the header and the JSON report when --hash chose one', async () => {
    const text = await memring(['ring', '-s', FOUR, '-d', 'modula', '--hash', 'crc', '--sample', '1000']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout.split('\n')[0]!, /^modula \+ crc, 4 servers, sample of 1,000 keys$/);
    const json = await memring(['ring', '-s', FOUR, '--sample', '1000', '--json']);
    assert.equal((JSON.parse(json.stdout) as { hash: string }).hash, 'md5');
    const moves = await memring(['ring', '-s', FOUR, '-d', 'modula', '--hash', 'jenkins', '--remove', '127.0.0.4', '--json']);
    assert.equal((JSON.parse(moves.stdout) as { hash: string }).hash, 'jenkins');
  });

  it('refuses an unknown hash as a usage error, naming the ten', async () => {
    const r = await memring(['ring', '-s', FOUR, '--hash', 'crc32', 'key']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--hash must be one of one-at-a-time, md5, crc, .*jenkins, got "crc32"/);
    assert.equal(r.stdout, '');
  });
});
