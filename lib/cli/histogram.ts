/**
 * Latency histogram with fixed log-linear buckets (HdrHistogram's layout):
 * values below 64 ns each have their own bucket, above that every power of two
 * is split into 32 equal buckets, so any value is known within 1/32 (about 3%).
 * Recording is a few integer operations into a preallocated array: nothing is
 * allocated per operation, and histograms merge by adding counts.
 */

const SUB_BITS = 5;
const SUB_COUNT = 1 << SUB_BITS; // 32 buckets per power of two
const LINEAR_LIMIT = SUB_COUNT * 2; // values below 64 map to themselves
// Values are clamped to 2^32 - 1 ns (4.3 s); the exact maximum is kept apart.
const MAX_TRACKED = 0xffffffff;
const BUCKETS = (32 - SUB_BITS) * SUB_COUNT;

/** Bucket of a value in whole nanoseconds (0 to 2^32 - 1). */
export function bucketOf(ns: number): number {
  if (ns < LINEAR_LIMIT) return ns;
  const shift = 31 - Math.clz32(ns) - SUB_BITS;
  return (shift + 1) * SUB_COUNT + ((ns >>> shift) - SUB_COUNT);
}

/** Largest value (ns) that falls in `bucket`. */
export function bucketHigh(bucket: number): number {
  if (bucket < LINEAR_LIMIT) return bucket;
  const shift = Math.floor(bucket / SUB_COUNT) - 1;
  const sub = (bucket % SUB_COUNT) + SUB_COUNT;
  return (sub + 1) * 2 ** shift - 1;
}

export interface LatencySummary {
  /** Values recorded. */
  count: number;
  /** In microseconds. */
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
}

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  /** Sum of the recorded values, ns. */
  sum = 0;
  /** Largest value recorded, exact, ns. */
  max = 0;

  /** Records one value in nanoseconds (fractions are rounded, negatives count as 0). */
  record(ns: number): void {
    let value = Math.round(ns);
    if (!(value > 0)) value = 0;
    if (value > this.max) this.max = value;
    this.sum += value;
    this.count++;
    this.counts[bucketOf(value > MAX_TRACKED ? MAX_TRACKED : value)]!++;
  }

  /** Adds another histogram's values to this one. */
  add(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
  }

  /**
   * The value (ns) at or below which `percent` of the values lie: the upper
   * edge of the bucket that holds that rank, capped by the exact maximum.
   */
  percentile(percent: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketHigh(i), this.max);
    }
    return this.max;
  }

  /** Percentiles in microseconds. */
  summary(): LatencySummary {
    const us = (ns: number): number => Math.round(ns / 100) / 10;
    return {
      count: this.count,
      mean: us(this.count === 0 ? 0 : this.sum / this.count),
      p50: us(this.percentile(50)),
      p90: us(this.percentile(90)),
      p99: us(this.percentile(99)),
      p99_9: us(this.percentile(99.9)),
      max: us(this.max),
    };
  }
}
