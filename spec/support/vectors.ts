// spec/hash/vectors/placement.json: placements observed from libmemcached 1.0.18,
// copied unchanged from the project's shared reference set (shared/vectors/placement.json)
// so the repository stands alone.
import { readFileSync } from 'node:fs';
import type { Distribution } from '../../lib/hash/ring.js';

export interface PlacementCase {
  name: string;
  distribution: Distribution;
  /** host:port, in configured order. */
  servers: string[];
  weights?: number[];
  /** key → index into servers */
  placement: Record<string, number>;
}

export const placementVectors = JSON.parse(
  readFileSync(new URL('../hash/vectors/placement.json', import.meta.url), 'utf8'),
) as { keys: string[]; cases: PlacementCase[] };
