// Runs spec/support/php-placement.php: where PHP's Memcached extension
// (libmemcached underneath) places keys, from getServerByKey.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Distribution } from '../../lib/hash/ring.js';

const SCRIPT = fileURLToPath(new URL('./php-placement.php', import.meta.url));
const INSTALL_HINT =
  'this spec runs PHP with its memcached extension: install them with ' +
  '`apt-get update && apt-get install -y php-cli php-memcached` (Debian/Ubuntu), then run `npm test` again.';

export interface PhpPlacementRequest {
  /** host:port[:weight], in configured order. */
  servers: string[];
  distribution: Distribution;
  /** A Memcached::HASH_* constant name, a libmemcached hash number, or null for PHP's default. */
  hash: string | number | null;
  keys: string[];
}

export interface PhpPlacement {
  /** Whether setOption(OPT_HASH) succeeded (false for a hash the libmemcached build lacks). */
  hashSet: boolean;
  /** getOption(OPT_HASH) afterwards. */
  hash: number;
  /** Index into `servers` of each key's server. */
  placement: number[];
}

export function phpPlacement(request: PhpPlacementRequest): PhpPlacement {
  const run = spawnSync('php', [SCRIPT], { input: JSON.stringify(request), encoding: 'utf8', timeout: 30_000 });
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error?.message ?? run.stderr;
    throw new Error(/ENOENT|extension is not loaded/.test(why) ? INSTALL_HINT : `php failed: ${why}`);
  }
  return JSON.parse(run.stdout) as PhpPlacement;
}
