import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Ring, type Distribution } from '../../lib/hash/ring.js';
import type { ServerInput } from '../../lib/hash/server.js';

// Placements libmemcached 1.1.4 itself decided; vectors/make-libmemcached-vectors.py tells how.
interface ExtraCase {
  name: string;
  distribution: Distribution;
  servers: string[];
  weights?: number[];
  /** Servers libmemcached had auto-ejected (a refused address) when placing the keys. */
  ejected?: number[];
  /** Server index per key; -1 where libmemcached failed the store (modula, key of an ejected server). */
  placement: number[];
}

const vectors = JSON.parse(readFileSync(new URL('./vectors/libmemcached-extra.json', import.meta.url), 'utf8')) as {
  keys: string[];
  cases: ExtraCase[];
};

function serversOf(vector: ExtraCase): ServerInput[] {
  const weights = vector.weights;
  return weights === undefined ? vector.servers : vector.servers.map((server, i) => `${server}:${weights[i]!}`);
}

describe('Ring: more placements decided by libmemcached (IPv6, host names, 100 servers, weights)', () => {
  for (const vector of vectors.cases.filter((c) => c.ejected === undefined)) {
    it(`${vector.name}: every key on libmemcached's server`, () => {
      const ring = new Ring(serversOf(vector), { distribution: vector.distribution });
      assert.equal(vector.placement.length, vectors.keys.length);
      vectors.keys.forEach((key, k) => assert.equal(ring.pick(key), vector.placement[k], `key ${key}`));
    });
  }

  it('includes IPv6 servers, labelled without brackets as libmemcached labels them', () => {
    const ipv6 = vectors.cases.filter((c) => c.name.startsWith('ipv6-'));
    assert.equal(ipv6.length, 3);
    assert.ok(ipv6.every((c) => c.servers.includes('[::1]:11212')));
  });
});

describe('Ring.eject: placements libmemcached made after auto-ejecting a refused server', () => {
  for (const vector of vectors.cases.filter((c) => c.ejected !== undefined)) {
    it(`${vector.name}: ejecting the same server gives the same placement`, () => {
      const ring = new Ring(serversOf(vector), { distribution: vector.distribution });
      for (const index of vector.ejected!) ring.eject(index);
      let failed = 0;
      vectors.keys.forEach((key, k) => {
        const expected = vector.placement[k]!;
        if (expected === -1) {
          // libmemcached's modula keeps the key on its dead server, so the store failed.
          failed++;
          assert.equal(vector.distribution, 'modula', `only modula leaves a key on a dead server (${key})`);
          assert.ok(vector.ejected!.includes(ring.pick(key)), `key ${key} maps to the ejected server`);
        } else {
          assert.equal(ring.pick(key), expected, `key ${key}`);
        }
      });
      if (vector.distribution === 'modula') assert.ok(failed > 0, 'some keys belonged to the dead server');
    });
  }
});
