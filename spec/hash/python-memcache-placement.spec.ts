// python-memcache (pure Python, Debian's python3-memcache) places keys with
// crc under modula: `(crc32(key) >> 16) & 0x7fff` modulo the server count.
// It stores keys on real memcached servers here, each server is then asked
// directly which keys it holds, and a Group with `modula` + `crc` names the
// same server for every key, but one kind: python-memcache turns a crc of 0
// into 1, libhashkit does not, so those rare keys go to different servers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { Group } from '../../lib/index.js';
import { keyHashFunction } from '../../lib/hash/key-hash.js';
import { MemcachedServer } from '../support/memcached.js';

const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('../support/python-memcache-peer.py', import.meta.url));
const INSTALL_HINT =
  'the python-memcache placement spec runs the real python-memcache client: install it with ' +
  '`apt-get update && apt-get install -y python3-memcache` (Debian/Ubuntu), then run `npm test` again.';

function pythonMemcacheStore(servers: string[], keys: string[]): void {
  const run = spawnSync(PYTHON, [PEER], { input: JSON.stringify({ servers, keys }), encoding: 'utf8', timeout: 60_000 });
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error?.message ?? run.stderr;
    throw new Error(/No module named 'memcache'|ENOENT/.test(why) ? INSTALL_HINT : `python-memcache failed: ${why}`);
  }
  assert.deepEqual(JSON.parse(run.stdout), { stored: keys.length });
}

// Keys whose crc is 0 (libhashkit's 15 bits): python-memcache's `or 1` moves them.
const CRC_ZERO_KEYS = ['crc-zero-30454', 'crc-zero-59355', 'crc-zero-64781'];

const KEYS = [
  ...Array.from({ length: 300 }, (_, i) => `key:${i}`),
  ...Array.from({ length: 40 }, (_, i) => `user:${i * 7919}:profile:${'p'.repeat(i * 5)}`),
  ...Array.from({ length: 20 }, (_, i) => `café-${i}`),
  ...Array.from({ length: 20 }, (_, i) => `鍵${i}`),
];

const servers: MemcachedServer[] = [];
before(async () => {
  for (let i = 0; i < 5; i++) servers.push(await MemcachedServer.start());
});
after(async () => {
  for (const s of servers) await s.stop();
});

/** For every key, the addresses of the servers holding it, each server asked directly. */
async function holders(keys: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>(keys.map((key) => [key, []]));
  for (const server of servers) {
    const direct = new Group([server.address]);
    try {
      for (const key of (await direct.getMulti(keys)).keys()) found.get(key)!.push(server.address);
    } finally {
      await direct.close();
    }
  }
  return found;
}

for (const count of [2, 3, 5]) {
  describe(`python-memcache and a Group with modula + crc, ${count} servers`, () => {
    it(`every key python-memcache stored is on the server the Group names (${KEYS.length} keys)`, async () => {
      const addresses = servers.slice(0, count).map((s) => s.address);
      const group = new Group(addresses, { distribution: 'modula', hash: 'crc' });
      try {
        await group.flush();
        pythonMemcacheStore(addresses, KEYS);
        const found = await holders(KEYS);
        for (const key of KEYS) assert.deepEqual(found.get(key), [group.serverFor(key)], `key "${key}"`);
        // All servers got keys: the placement is not one server by accident.
        const used = new Set(KEYS.map((key) => found.get(key)![0]));
        assert.equal(used.size, count);
      } finally {
        await group.close();
      }
    });

    it('a key whose crc is 0 goes where python-memcache puts 1 instead (its `or 1`), not where libhashkit puts it', async () => {
      const addresses = servers.slice(0, count).map((s) => s.address);
      const group = new Group(addresses, { distribution: 'modula', hash: 'crc' });
      try {
        await group.flush();
        pythonMemcacheStore(addresses, CRC_ZERO_KEYS);
        const found = await holders(CRC_ZERO_KEYS);
        for (const key of CRC_ZERO_KEYS) {
          assert.equal(keyHashFunction('crc')(key), 0, `crc("${key}")`);
          // memring (as libmemcached): 0 % count, the first server; python-memcache: 1 % count, the second.
          assert.equal(group.serverFor(key), addresses[0]);
          assert.deepEqual(found.get(key), [addresses[1]], `python-memcache put "${key}" on the second server`);
        }
      } finally {
        await group.close();
      }
    });
  });
}
