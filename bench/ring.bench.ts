// Key placement: memring's Ring against npm hashring (ketama-compatible, MD5
// through node:crypto, with an LRU cache in front). Lookups cycle through a
// precomputed key array; builds construct a whole ring.
import { createRequire } from 'node:module';

import { consume, measure, report, type Measurement } from './harness.js';
import { Ring } from '../lib/hash/ring.js';

interface HashRingInstance {
  get(key: string): string | undefined;
}
type HashRingConstructor = new (servers: string[], algorithm?: string, options?: Record<string, unknown>) => HashRingInstance;
const HashRing = createRequire(import.meta.url)('hashring') as HashRingConstructor;

// Not port 11211: hashring always writes host:port in its labels, libmemcached omits the default port.
const servers = (count: number): string[] => Array.from({ length: count }, (_, i) => `127.0.${i >> 8}.${i & 0xff}:31001`);

// Keys of exactly 20 ASCII bytes.
function keys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `user:${String(i * 2654435761 % 1e12).padStart(12, '0')}:ab`.slice(0, 20));
}

const SMALL = keys(4096);
const LARGE = keys(65536);
const ten = servers(10);

// Sanity check before timing anything: both implement ketama, so they must agree.
{
  const ours = new Ring(ten);
  const theirs = new HashRing(ten);
  const disagree = SMALL.filter((key) => ten[ours.pick(key)] !== theirs.get(key)).length;
  if (disagree !== 0) throw new Error(`memring and hashring disagree on ${disagree} of ${SMALL.length} keys`);
}

const lookups: Measurement[] = [];
{
  const ring = new Ring(ten);
  lookups.push(measure('memring Ring.pick, ketama', (i) => ring.pick(SMALL[i & 4095]!), { iterations: 1_000_000 }));
  const consistent = new Ring(ten, { distribution: 'libmemcached-consistent' });
  lookups.push(
    measure('memring Ring.pick, libmemcached-consistent', (i) => consistent.pick(SMALL[i & 4095]!), { iterations: 1_000_000 }),
  );
  const modula = new Ring(ten, { distribution: 'modula' });
  lookups.push(measure('memring Ring.pick, modula', (i) => modula.pick(SMALL[i & 4095]!), { iterations: 1_000_000 }));
  lookups.push(measure('memring Ring.pick, ketama, 65536 keys', (i) => ring.pick(LARGE[i & 65535]!), { iterations: 1_000_000 }));
}
{
  const cached = new HashRing(ten);
  lookups.push(measure('hashring.get, 4096 keys (all hits in its 5000-entry LRU)', (i) => cached.get(SMALL[i & 4095]!), { iterations: 1_000_000 }));
  const churned = new HashRing(ten);
  lookups.push(measure('hashring.get, 65536 keys (LRU misses: MD5 + search)', (i) => churned.get(LARGE[i & 65535]!), { iterations: 200_000 }));
}
// The ratio is against hashring computing a placement; its LRU hit row shows what a cache hit costs.
report('Ring lookup: 20-byte keys, 10 servers', lookups, 'hashring.get, 65536 keys (LRU misses: MD5 + search)');

const builds: Measurement[] = [];
for (const count of [1, 10, 100, 1024]) {
  const list = servers(count);
  const iterations = Math.max(5, Math.floor(20_000 / count));
  builds.push(measure(`memring new Ring, ${count} servers`, () => new Ring(list), { iterations, rounds: 5 }));
  builds.push(measure(`hashring new HashRing, ${count} servers`, () => new HashRing(list), { iterations, rounds: 5 }));
}
report('Ring build (ketama)', builds);

// Failover cost: eject and restore rebuild from cached label hashes.
{
  const ring = new Ring(servers(100));
  const failover = measure('memring eject + restore, 100 servers', (i) => {
    ring.eject(i % 100);
    ring.restore(i % 100);
  }, { iterations: 200, rounds: 5 });
  report('Ring failover rebuild (two rebuilds per op)', [failover]);
  consume(ring);
}
