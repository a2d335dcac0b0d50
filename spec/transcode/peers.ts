// Runs the real clients the transcoder specs share values with: php-cli with
// php-memcached (spec/support/php-values.php) and Debian's python3 with
// pylibmc or python-memcache (spec/support/python-values.py). A missing
// peer fails the spec with how to install it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PHP_PEER = fileURLToPath(new URL('../support/php-values.php', import.meta.url));
const PYTHON_PEER = fileURLToPath(new URL('../support/python-values.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

const PHP_HINT =
  'the transcoder specs run php-memcached: install it with ' +
  '`apt-get update && apt-get install -y php-cli php-memcached` (Debian/Ubuntu; scripts/install-system-packages.sh), then run the specs again.';
const PYTHON_HINT =
  'the transcoder specs run pylibmc and python-memcache: install them with ' +
  '`apt-get update && apt-get install -y python3-pylibmc python3-memcache` (Debian/Ubuntu; scripts/install-system-packages.sh), then run the specs again.';

/** What a peer read back: a type and value, or why it found nothing. */
export interface PeerValue {
  t?: string;
  v?: unknown;
  class?: string;
  missing?: unknown;
  message?: string;
}

export interface PhpRequest {
  server: string;
  compression?: 'fastlz' | 'zlib';
  serializer?: 'php' | 'json' | 'json_array' | 'igbinary' | 'msgpack';
  write?: Record<string, { t: string; v?: unknown; n?: number }>;
  read?: string[];
}

export function php(request: PhpRequest): Record<string, PeerValue> {
  const run = spawnSync('php', [PHP_PEER], { input: JSON.stringify(request), encoding: 'utf8', timeout: 60_000 });
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error?.message ?? run.stderr;
    throw new Error(/ENOENT|Class "Memcached" not found/.test(why) ? PHP_HINT : `php peer failed: ${why}`);
  }
  return (JSON.parse(run.stdout) as { read: Record<string, PeerValue> }).read;
}

export interface PythonRequest {
  server: string;
  client: 'pylibmc' | 'memcache';
  compress?: number;
  write?: Record<string, { t: string; v?: unknown; n?: number }>;
  read?: string[];
}

export function python(request: PythonRequest): Record<string, PeerValue> {
  const run = spawnSync(PYTHON, [PYTHON_PEER], { input: JSON.stringify(request), encoding: 'utf8', timeout: 60_000 });
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error?.message ?? run.stderr;
    throw new Error(/ENOENT|No module named/.test(why) ? PYTHON_HINT : `python peer failed: ${why}`);
  }
  return (JSON.parse(run.stdout) as { read: Record<string, PeerValue> }).read;
}
