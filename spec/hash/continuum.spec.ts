// The continuum's bucketed lookup must give exactly what libmemcached's
// binary search gives: the first point >= the hash, wrapping to the first.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Continuum } from '../../lib/hash/continuum.js';

/** The plain lower-bound binary search libmemcached's dispatch does. */
function referenceOwner(points: Uint32Array, owners: Uint16Array, hash: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (points[mid]! < hash) low = mid + 1;
    else high = mid;
  }
  return owners[low === points.length ? 0 : low]!;
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}

function continuum(values: number[]): { points: Uint32Array; owners: Uint16Array; c: Continuum } {
  const points = Uint32Array.from(values).sort();
  const owners = Uint16Array.from(points, (_, i) => i % 7);
  return { points, owners, c: new Continuum(points, owners) };
}

describe('Continuum lookup', () => {
  it('agrees with a binary search for uniform points and random hashes', () => {
    const next = random(1);
    for (const count of [1, 2, 3, 100, 160 * 10, 160 * 1024]) {
      const { points, owners, c } = continuum(Array.from({ length: count }, next));
      for (let i = 0; i < 20_000; i++) {
        const hash = next();
        assert.equal(c.ownerOf(hash), referenceOwner(points, owners, hash), `${count} points, hash ${hash}`);
      }
    }
  });

  it('agrees on clustered points, duplicates, and the edges 0 and 2^32-1', () => {
    const next = random(2);
    const clustered = [
      ...Array.from({ length: 500 }, () => 0x7fff0000 + (next() & 0xff)),
      ...Array.from({ length: 20 }, () => 0xffffffff),
      0,
      0,
      ...Array.from({ length: 50 }, next),
    ];
    const { points, owners, c } = continuum(clustered);
    const probes = [0, 1, 0x7ffeffff, 0x7fff0000, 0x7fff0080, 0x7fff00ff, 0x7fff0100, 0xfffffffe, 0xffffffff];
    for (const p of points) probes.push(p, Math.max(0, p - 1), Math.min(0xffffffff, p + 1));
    for (const hash of probes) assert.equal(c.ownerOf(hash), referenceOwner(points, owners, hash), `hash ${hash}`);
  });
});
