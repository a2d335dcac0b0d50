/**
 * How many continuum points each server gets, computed as libmemcached's
 * update_continuum computes it.
 */

/** Points per server in libmemcached's weighted (MD5) continuum before weighting. */
export const KETAMA_POINTS_PER_SERVER = 160;
/** Points per server in libmemcached's unweighted one-at-a-time continuum. */
export const CONSISTENT_POINTS_PER_SERVER = 100;
/** Each MD5 label digest gives four points. */
export const POINTS_PER_DIGEST = 4;

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
