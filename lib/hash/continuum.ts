/**
 * The continuum: sorted 32-bit points, each owned by a server, searched the
 * way libmemcached's dispatch_host searches it (first point >= the key's
 * hash; past the last point, the first).
 */

// Bounds of the bucket index: 2 to 65536 buckets, about one per point.
const MIN_BUCKET_BITS = 1;
const MAX_BUCKET_BITS = 16;

/**
 * Sorted points and their owners, with a bucket index over the top bits of
 * the hash: a lookup reads one bucket's bounds and scans a point or two,
 * instead of a binary search whose every step is a mispredicted branch.
 */
export class Continuum {
  readonly points: Uint32Array;
  readonly owners: Uint16Array;
  // buckets[b] = index of the first point >= b << shift; one extra entry = points.length.
  readonly #buckets: Uint32Array;
  readonly #shift: number;

  /** Takes points already sorted ascending (ties in server order), not empty. */
  constructor(points: Uint32Array, owners: Uint16Array) {
    this.points = points;
    this.owners = owners;
    let bits = MIN_BUCKET_BITS;
    while (bits < MAX_BUCKET_BITS && 1 << bits < points.length) bits++;
    const shift = 32 - bits;
    this.#shift = shift;
    const bucketCount = 1 << bits;
    // Points are sorted, so a bucket's first point index is the number of
    // points in the buckets below it: a histogram and a prefix sum, no branches.
    const buckets = new Uint32Array(bucketCount + 1);
    for (let i = 0; i < points.length; i++) buckets[(points[i]! >>> shift) + 1]!++;
    for (let bucket = 1; bucket <= bucketCount; bucket++) buckets[bucket]! += buckets[bucket - 1]!;
    this.#buckets = buckets;
  }

  /** Owner of the first point >= hash, or of the first point when hash is past the last. */
  ownerOf(hash: number): number {
    const points = this.points;
    const bucket = hash >>> this.#shift;
    let at = this.#buckets[bucket]!;
    const end = this.#buckets[bucket + 1]!;
    while (at < end && points[at]! < hash) at++;
    return this.owners[at === points.length ? 0 : at]!;
  }
}
