/**
 * One server's continuum points, hashed once from its labels (`prefix-0`,
 * `prefix-1`, ...) and grown on demand: ejecting other servers changes how
 * many points a server has, never their values.
 */

import type { KeyHashFunction } from './key-hash.js';
import { md5WordsOfBytes } from './md5.js';
import { CONSISTENT_POINTS_PER_SERVER, POINTS_PER_DIGEST } from './point-counts.js';

export class ServerPoints {
  readonly #labelPrefix: string;
  readonly #keyHash: KeyHashFunction;
  #md5Points = new Uint32Array(0);
  #keyHashPoints: Uint32Array | undefined;

  /** `keyHash`: the ring's key hash, which also makes the unweighted points. */
  constructor(labelPrefix: string, keyHash: KeyHashFunction) {
    this.#labelPrefix = labelPrefix;
    this.#keyHash = keyHash;
  }

  /** At least the first `count` MD5 points, four per label, in label order. */
  md5(count: number): Uint32Array {
    const known = this.#md5Points.length;
    if (count > known) {
      // A quarter to spare, so a run of ejections rarely hashes and re-sorts again.
      const spare = Math.ceil(known / 4 / POINTS_PER_DIGEST) * POINTS_PER_DIGEST;
      const grown = new Uint32Array(Math.max(count, known + spare));
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

  /**
   * The 100 unweighted points, one per label `prefix-0` ... `prefix-99`,
   * hashed with the key hash (libmemcached's hashkit_digest, one-at-a-time by default).
   */
  keyHashed(): Uint32Array {
    if (this.#keyHashPoints === undefined) {
      const points = new Uint32Array(CONSISTENT_POINTS_PER_SERVER);
      for (let i = 0; i < points.length; i++) points[i] = this.#keyHash(`${this.#labelPrefix}-${i}`);
      this.#keyHashPoints = points;
    }
    return this.#keyHashPoints;
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
