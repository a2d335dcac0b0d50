/**
 * The continuum: sorted 32-bit points, each owned by a server, built the way
 * libmemcached's update_continuum builds it, and searched the way its
 * dispatch_host searches it.
 */

import { md5WordsOfBytes } from './md5.js';
import { oneAtATime } from './one-at-a-time.js';

/** Points per server in libmemcached's weighted (MD5) continuum before weighting. */
export const KETAMA_POINTS_PER_SERVER = 160;
/** Points per server in libmemcached's unweighted one-at-a-time continuum. */
export const CONSISTENT_POINTS_PER_SERVER = 100;
/** Each MD5 label digest gives four points. */
const POINTS_PER_DIGEST = 4;

const f32 = Math.fround;

/**
 * Points a server gets in the weighted continuum. libmemcached computes this
 * in C `float`, so every step is rounded to float32 here too: with 25, 47 or
 * 100 equal servers that gives 156 points each, not 160, and double precision
 * would place keys differently. (Its `+ 1e-10` before the floor cannot change
 * a float32 value >= 1, so it is left out.)
 */
export function ketamaPointCount(weight: number, totalWeight: number, liveServers: number): number {
  const share = f32(f32(weight) / f32(totalWeight));
  const digests = f32(f32(f32(share * KETAMA_POINTS_PER_SERVER) / POINTS_PER_DIGEST) * f32(liveServers));
  return Math.floor(digests) * POINTS_PER_DIGEST;
}

/**
 * One server's point hashes, computed once from its labels and grown on
 * demand: ejecting other servers changes how many points it has, never their values.
 */
export class ServerPoints {
  readonly #labelPrefix: string;
  #md5Points = new Uint32Array(0);
  #oaatPoints: Uint32Array | undefined;

  constructor(labelPrefix: string) {
    this.#labelPrefix = labelPrefix;
  }

  /** The first `count` MD5 points: four per label `prefix-0`, `prefix-1`, ... */
  md5(count: number): Uint32Array {
    const known = this.#md5Points.length;
    if (count > known) {
      // Grow by at least double, so a run of rebuilds hashes each label once.
      const grown = new Uint32Array(Math.max(count, known * 2));
      grown.set(this.#md5Points);
      // Labels are written as bytes into one buffer: the prefix once, then each number.
      const label = new TextEncoder().encode(`${this.#labelPrefix}-4294967295`);
      const digitsAt = label.length - 10;
      for (let offset = known; offset < grown.length; offset += POINTS_PER_DIGEST) {
        const length = writeDecimal(label, digitsAt, offset / POINTS_PER_DIGEST);
        md5WordsOfBytes(label, length, grown, offset);
      }
      this.#md5Points = grown;
    }
    return this.#md5Points;
  }

  /** The 100 one-at-a-time points, one per label `prefix-0` ... `prefix-99`. */
  oneAtATime(): Uint32Array {
    if (this.#oaatPoints === undefined) {
      const points = new Uint32Array(CONSISTENT_POINTS_PER_SERVER);
      for (let i = 0; i < points.length; i++) points[i] = oneAtATime(`${this.#labelPrefix}-${i}`);
      this.#oaatPoints = points;
    }
    return this.#oaatPoints;
  }
}

// Writes `value` in decimal at `at`; returns the end of the digits.
function writeDecimal(bytes: Uint8Array, at: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  for (let i = at + digits - 1, rest = value; i >= at; i--, rest = Math.floor(rest / 10)) {
    bytes[i] = 0x30 + (rest % 10);
  }
  return at + digits;
}

/**
 * Sorts points ascending, carrying their owners along. Stable (LSD radix,
 * 8 bits a pass), so equal points stay in server order, as in libmemcached.
 */
function sortPoints(points: Uint32Array, owners: Uint16Array): void {
  const length = points.length;
  let fromPoints: Uint32Array = points;
  let fromOwners: Uint16Array = owners;
  let toPoints: Uint32Array = new Uint32Array(length);
  let toOwners: Uint16Array = new Uint16Array(length);
  const starts = new Int32Array(256);
  for (let shift = 0; shift < 32; shift += 8) {
    starts.fill(0);
    for (let i = 0; i < length; i++) starts[(fromPoints[i]! >>> shift) & 0xff]!++;
    let sum = 0;
    for (let digit = 0; digit < 256; digit++) {
      const count = starts[digit]!;
      starts[digit] = sum;
      sum += count;
    }
    for (let i = 0; i < length; i++) {
      const point = fromPoints[i]!;
      const at = starts[(point >>> shift) & 0xff]!++;
      toPoints[at] = point;
      toOwners[at] = fromOwners[i]!;
    }
    [fromPoints, toPoints] = [toPoints, fromPoints];
    [fromOwners, toOwners] = [toOwners, fromOwners];
  }
  // Four passes: the sorted data is back in the arrays passed in.
}

// Bounds of the bucket index: 2 to 65536 buckets, about one per point.
const MIN_BUCKET_BITS = 1;
const MAX_BUCKET_BITS = 16;

/**
 * Sorted points and their owners, with a bucket index over the top bits of
 * the hash: a lookup reads one bucket's bounds and scans a point or two,
 * instead of a binary search whose every step is a branch mispredicted.
 */
export class Continuum {
  readonly points: Uint32Array;
  readonly owners: Uint16Array;
  // buckets[b] = index of the first point >= b << shift; one extra entry = points.length.
  readonly #buckets: Uint32Array;
  readonly #shift: number;

  /** Takes the points unsorted, each with its owner, laid out in server order. */
  constructor(points: Uint32Array, owners: Uint16Array) {
    sortPoints(points, owners);
    this.points = points;
    this.owners = owners;
    let bits = MIN_BUCKET_BITS;
    while (bits < MAX_BUCKET_BITS && 1 << bits < points.length) bits++;
    this.#shift = 32 - bits;
    const bucketCount = 1 << bits;
    const buckets = new Uint32Array(bucketCount + 1);
    const width = 2 ** this.#shift;
    let at = 0;
    for (let bucket = 0; bucket <= bucketCount; bucket++) {
      const floor = bucket * width;
      while (at < points.length && points[at]! < floor) at++;
      buckets[bucket] = at;
    }
    this.#buckets = buckets;
  }

  /** Owner of the first point >= hash, or of the first point past the last (the ring wraps). */
  ownerOf(hash: number): number {
    const points = this.points;
    const bucket = hash >>> this.#shift;
    let at = this.#buckets[bucket]!;
    const end = this.#buckets[bucket + 1]!;
    while (at < end && points[at]! < hash) at++;
    return this.owners[at === points.length ? 0 : at]!;
  }
}
