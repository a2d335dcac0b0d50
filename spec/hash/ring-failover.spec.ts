import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Ring, type Distribution } from '../../lib/hash/ring.js';
import { ketamaPointCount } from '../../lib/hash/point-counts.js';
import { oneAtATime } from '../../lib/hash/one-at-a-time.js';
import type { ServerInput } from '../../lib/hash/server.js';
import { ErrorCode, MemcacheError } from '../../lib/errors.js';

const KEYS = Array.from({ length: 20_000 }, (_, i) => `session:${i * 7919}:data`);

const hosts = (count: number): string[] => Array.from({ length: count }, (_, i) => `10.1.0.${i + 1}:11211`);
const placement = (ring: Ring): number[] => KEYS.map((key) => ring.pick(key));
const pointCounts = (ring: Ring): number[] => ring.servers.map((_, i) => ring.pointCount(i));

describe('Ring: adding or removing one of N servers moves about 1/N of the keys', () => {
  for (const distribution of ['ketama', 'libmemcached-consistent'] as const) {
    it(`${distribution}: removing server 4 of 10 moves only its keys, about a tenth`, () => {
      const servers = hosts(10);
      const before = placement(new Ring(servers, { distribution }));
      const without = servers.filter((_, i) => i !== 4);
      const after = placement(new Ring(without, { distribution })).map((i) => servers.indexOf(without[i]!));
      let moved = 0;
      KEYS.forEach((_, k) => {
        if (before[k] === 4) {
          moved++;
          assert.notEqual(after[k], 4);
        } else {
          assert.equal(after[k], before[k], `key ${KEYS[k]} stayed where it was`);
        }
      });
      const share = moved / KEYS.length;
      assert.ok(share > 0.06 && share < 0.14, `moved ${share}`);
    });

    it(`${distribution}: adding an 11th server moves keys only onto it, about an eleventh`, () => {
      const servers = hosts(11);
      const before = placement(new Ring(servers.slice(0, 10), { distribution }));
      const after = placement(new Ring(servers, { distribution }));
      let moved = 0;
      KEYS.forEach((_, k) => {
        if (after[k] !== before[k]) {
          moved++;
          assert.equal(after[k], 10, 'a moved key moved to the new server');
        }
      });
      const share = moved / KEYS.length;
      assert.ok(share > 0.055 && share < 0.13, `moved ${share}`);
    });
  }

  it('modula: removing one of 10 servers moves most keys (why it is not consistent)', () => {
    const servers = hosts(10);
    const before = placement(new Ring(servers, { distribution: 'modula' }));
    const after = placement(new Ring(servers.slice(0, 9), { distribution: 'modula' }));
    const moved = KEYS.filter((_, k) => before[k] !== after[k]).length / KEYS.length;
    assert.ok(moved > 0.8, `moved ${moved}`);
  });
});

describe('Ring.eject: the live servers rebuild the continuum, as libmemcached REMOVE_FAILED_SERVERS', () => {
  for (const distribution of ['ketama', 'libmemcached-consistent'] as const) {
    it(`${distribution}: ejecting a server equals building the ring without it`, () => {
      const servers = hosts(10);
      const ring = new Ring(servers, { distribution });
      ring.eject(4);
      const without = servers.filter((_, i) => i !== 4);
      const rebuilt = new Ring(without, { distribution });
      assert.deepEqual(placement(ring), placement(rebuilt).map((i) => servers.indexOf(without[i]!)));
      assert.equal(ring.isLive(4), false);
      assert.equal(ring.liveCount, 9);
      assert.equal(ring.pointCount(4), 0);
      assert.ok(!placement(ring).includes(4), 'no key goes to the ejected server');
    });
  }

  it('ketama with unequal weights: every live server gets a new point count, renormalised over the live weight', () => {
    const weights = [1, 2, 3, 1, 5];
    const servers: ServerInput[] = weights.map((weight, i) => ({ host: `10.2.0.${i}`, weight }));
    const ring = new Ring(servers);
    assert.deepEqual(pointCounts(ring), weights.map((w) => ketamaPointCount(w, 12, 5)));
    const before = pointCounts(ring);
    ring.eject(4);
    const after = pointCounts(ring);
    assert.deepEqual(after, [...weights.slice(0, 4).map((w) => ketamaPointCount(w, 7, 4)), 0]);
    for (let i = 0; i < 4; i++) assert.notEqual(after[i], before[i], `server ${i} point count changed`);
  });

  it('ketama, 26 servers down to 25: the float32 count drops to 156, so some keys of live servers move too', () => {
    const servers = hosts(26);
    const ring = new Ring(servers);
    const before = placement(ring);
    ring.eject(25);
    for (let i = 0; i < 25; i++) assert.equal(ring.pointCount(i), 156);
    const after = placement(ring);
    const strays = KEYS.filter((_, k) => before[k] !== 25 && after[k] !== before[k]).length;
    assert.ok(strays > 0, 'libmemcached moves them too: its counts are float32');
  });

  it('sends every key to the one live server left', () => {
    const ring = new Ring(hosts(4));
    ring.setLive([false, false, true, false]);
    assert.deepEqual(new Set(placement(ring)), new Set([2]));
  });

  it('returns -1 once every server is ejected, in every distribution', () => {
    for (const distribution of ['ketama', 'libmemcached-consistent', 'modula'] as const) {
      const ring = new Ring(hosts(3), { distribution });
      for (let i = 0; i < 3; i++) ring.eject(i);
      assert.equal(ring.liveCount, 0);
      assert.equal(ring.pick('any key'), -1);
      assert.equal(ring.pick(new Uint8Array([1, 2])), -1);
      ring.restore(1);
      assert.equal(ring.pick('any key'), distribution === 'modula' ? oneAtATime('any key') % 3 : 1);
    }
    const solo = new Ring(['solo']);
    solo.eject(0);
    assert.equal(solo.pick('k'), -1);
  });

  it("modula keeps every key on its own server even when it is ejected, as libmemcached's hash % server count does", () => {
    const ring = new Ring(hosts(5), { distribution: 'modula' });
    const before = placement(ring);
    ring.eject(2);
    assert.deepEqual(placement(ring), before);
    assert.equal(ring.isLive(2), false);
    assert.ok(before.includes(2), 'keys still map to the ejected server; the caller must check isLive');
  });
});

describe('Ring.restore: back to exactly the original placement', () => {
  const cases: [Distribution, ServerInput[]][] = [
    ['ketama', hosts(10)],
    ['ketama', hosts(26)],
    ['libmemcached-consistent', hosts(10)],
    ['ketama', [1, 2, 3, 1, 5].map((weight, i) => ({ host: `10.3.0.${i}`, port: 31001, weight }))],
    ['libmemcached-consistent', [10, 1, 4].map((weight, i) => ({ host: `10.4.0.${i}`, weight }))],
    ['modula', hosts(7)],
  ];
  for (const [distribution, servers] of cases) {
    it(`${distribution}, ${servers.length} servers: eject then restore gives the placement and point counts of a fresh ring`, () => {
      const ring = new Ring(servers, { distribution });
      const original = placement(ring);
      const originalCounts = pointCounts(ring);
      const last = servers.length - 1;
      ring.eject(1);
      ring.eject(last);
      // modula never moves keys; the others must have moved some.
      if (distribution !== 'modula') assert.notDeepEqual(placement(ring), original);
      assert.equal(ring.liveCount, servers.length - 2);
      ring.restore(last);
      ring.restore(1);
      assert.deepEqual(placement(ring), original);
      assert.deepEqual(pointCounts(ring), originalCounts);
      assert.deepEqual(placement(new Ring(servers, { distribution })), original);
    });
  }

  it('treats eject of an ejected server and restore of a live one as no-ops', () => {
    const ring = new Ring(hosts(4));
    const original = placement(ring);
    ring.restore(0);
    ring.eject(2);
    const ejected = placement(ring);
    ring.eject(2);
    assert.deepEqual(placement(ring), ejected);
    ring.restore(2);
    assert.deepEqual(placement(ring), original);
  });

  it('setLive applies many changes in one rebuild and round-trips too', () => {
    const ring = new Ring(hosts(6));
    const original = placement(ring);
    ring.setLive([true, false, true, false, true, true]);
    assert.equal(ring.liveCount, 4);
    assert.ok(!placement(ring).some((i) => i === 1 || i === 3));
    ring.setLive([true, true, true, true, true, true]);
    assert.deepEqual(placement(ring), original);
  });
});

describe('Ring failover: bad arguments', () => {
  const codeIs = (code: ErrorCode) => (error: unknown) => error instanceof MemcacheError && error.code === code;

  it('rejects an index that names no server with MC_ERR_BAD_ARGUMENT', () => {
    const ring = new Ring(hosts(3));
    for (const index of [-1, 3, 1.5, NaN]) {
      assert.throws(() => ring.eject(index), codeIs(ErrorCode.BAD_ARGUMENT));
      assert.throws(() => ring.restore(index), codeIs(ErrorCode.BAD_ARGUMENT));
      assert.throws(() => ring.isLive(index), codeIs(ErrorCode.BAD_ARGUMENT));
      assert.throws(() => ring.pointCount(index), codeIs(ErrorCode.BAD_ARGUMENT));
    }
  });

  it('rejects a live mask of the wrong length with MC_ERR_BAD_ARGUMENT', () => {
    const ring = new Ring(hosts(3));
    assert.throws(() => ring.setLive([true, true]), codeIs(ErrorCode.BAD_ARGUMENT));
    assert.throws(() => ring.setLive(null as never), codeIs(ErrorCode.BAD_ARGUMENT));
    assert.equal(ring.liveCount, 3);
  });
});
