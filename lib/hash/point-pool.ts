/**
 * Every candidate point of every server, sorted once. The continuum for any
 * set of live servers and point counts is then one filtering pass with no
 * sort, so ejecting and restoring a server stays cheap.
 */

import { Continuum } from './continuum.js';

export class PointPool {
  // Sorted ascending; ties in server order, then in each server's point order.
  readonly #points: Uint32Array;
  readonly #owners: Uint16Array;
  // Position of each point in its server's own list: the first `count` are kept.
  readonly #ranks: Uint32Array;
  readonly #available: Uint32Array;

  /** `lists[i]`: the points of server i, in libmemcached's label order. */
  constructor(lists: readonly Uint32Array[]) {
    let total = 0;
    for (const list of lists) total += list.length;
    const points = new Uint32Array(total);
    const owners = new Uint16Array(total);
    const ranks = new Uint32Array(total);
    this.#available = new Uint32Array(lists.length);
    let at = 0;
    lists.forEach((list, owner) => {
      points.set(list, at);
      owners.fill(owner, at, at + list.length);
      for (let rank = 0; rank < list.length; rank++) ranks[at + rank] = rank;
      at += list.length;
      this.#available[owner] = list.length;
    });
    sortPoints(points, owners, ranks);
    this.#points = points;
    this.#owners = owners;
    this.#ranks = ranks;
  }

  /** Whether the pool holds the first `count` points of server `index`. */
  holds(index: number, count: number): boolean {
    return count <= this.#available[index]!;
  }

  /** The continuum made of the first `counts[i]` points of each server i; `total` is their sum (> 0). */
  select(counts: Uint32Array, total: number): Continuum {
    // One spare slot: every point is written, and only kept ones advance `at`.
    const points = new Uint32Array(total + 1);
    const owners = new Uint16Array(total + 1);
    const from = this.#points;
    const fromOwners = this.#owners;
    const ranks = this.#ranks;
    let at = 0;
    for (let i = 0; i < from.length; i++) {
      const owner = fromOwners[i]!;
      points[at] = from[i]!;
      owners[at] = owner;
      // 1 when rank < count (both below 2^31): no branch to mispredict.
      at += (ranks[i]! - counts[owner]!) >>> 31;
    }
    return new Continuum(points.subarray(0, total), owners.subarray(0, total));
  }
}

/**
 * Sorts points ascending, carrying owners and ranks along. LSD radix, three
 * passes of 11, 11 and 10 bits; stable, so equal points keep their server
 * order, as libmemcached's sort leaves them.
 */
function sortPoints(points: Uint32Array, owners: Uint16Array, ranks: Uint32Array): void {
  const length = points.length;
  const low = new Int32Array(2048);
  const middle = new Int32Array(2048);
  const high = new Int32Array(1024);
  for (let i = 0; i < length; i++) {
    const point = points[i]!;
    low[point & 0x7ff]!++;
    middle[(point >>> 11) & 0x7ff]!++;
    high[point >>> 22]!++;
  }
  toStarts(low);
  toStarts(middle);
  toStarts(high);
  const spare = new Uint32Array(length);
  const spareOwners = new Uint16Array(length);
  const spareRanks = new Uint32Array(length);
  scatter(points, owners, ranks, spare, spareOwners, spareRanks, low, 0, 0x7ff);
  scatter(spare, spareOwners, spareRanks, points, owners, ranks, middle, 11, 0x7ff);
  scatter(points, owners, ranks, spare, spareOwners, spareRanks, high, 22, 0x3ff);
  points.set(spare);
  owners.set(spareOwners);
  ranks.set(spareRanks);
}

// Digit counts to the index where each digit's run starts.
function toStarts(counts: Int32Array): void {
  let sum = 0;
  for (let digit = 0; digit < counts.length; digit++) {
    const count = counts[digit]!;
    counts[digit] = sum;
    sum += count;
  }
}

// One radix pass: moves every entry to the next free slot of its digit.
function scatter(
  points: Uint32Array,
  owners: Uint16Array,
  ranks: Uint32Array,
  toPoints: Uint32Array,
  toOwners: Uint16Array,
  toRanks: Uint32Array,
  starts: Int32Array,
  shift: number,
  mask: number,
): void {
  for (let i = 0; i < points.length; i++) {
    const point = points[i]!;
    const at = starts[(point >>> shift) & mask]!++;
    toPoints[at] = point;
    toOwners[at] = owners[i]!;
    toRanks[at] = ranks[i]!;
  }
}
