// Data shared with libmemcached itself, both ways, on real servers: what
// memring stores, a libmemcached client (pylibmc, text protocol) finds with
// one multi-get, and what libmemcached stores, memring finds, each key on the
// one server both clients pick. The placement vectors prove the hashing; this
// proves the whole path, values and flags included, over each protocol
// memring speaks: the items are the same whichever wrote them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Group, type Distribution } from '../lib/index.js';
import { MemcachedServer } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';

const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('./support/libmemcached-peer.py', import.meta.url));
const INSTALL_HINT =
  'the interop spec runs a real libmemcached client: install it with ' +
  '`apt-get update && apt-get install -y python3-pylibmc` (Debian/Ubuntu), then run `npm test` again.';

interface PeerRequest {
  servers: string[];
  distribution: Distribution;
  read: string[];
  write: Record<string, string>;
}

/** Runs one libmemcached session; returns the keys it found, with their values. */
function libmemcached(request: PeerRequest): Map<string, string> {
  const run = spawnSync(PYTHON, [PEER], { input: JSON.stringify(request), encoding: 'utf8', timeout: 30_000 });
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error?.message ?? run.stderr;
    throw new Error(/No module named 'pylibmc'|ENOENT/.test(why) ? INSTALL_HINT : `libmemcached peer failed: ${why}`);
  }
  const { found } = JSON.parse(run.stdout) as { found: Record<string, string> };
  return new Map(Object.entries(found));
}

const KEYS = [
  ...Array.from({ length: 120 }, (_, i) => `interop:${i}`),
  ...Array.from({ length: 10 }, (_, i) => `user:${i * 7919}:profile`),
  ...Array.from({ length: 10 }, (_, i) => `café-${i}`),
  ...Array.from({ length: 10 }, (_, i) => `鍵${i}`),
];

const CASES: { distribution: Distribution; weights: number[] }[] = [
  { distribution: 'ketama', weights: [1, 2, 1] },
  { distribution: 'ketama', weights: [1, 1, 1] },
  { distribution: 'libmemcached-consistent', weights: [1, 1, 1] },
  { distribution: 'modula', weights: [1, 1, 1] },
];

// Three servers for both protocols: memcached answers both on one port.
const servers: MemcachedServer[] = [];
before(async () => {
  for (let i = 0; i < 3; i++) servers.push(await MemcachedServer.start());
});
after(async () => {
  for (const s of servers) await s.stop();
});

for (const protocol of PROTOCOLS) {
  describe(`data shared with libmemcached (pylibmc), both ways, on real servers (${protocol})`, () => {
    let direct: Group[];
    before(() => {
      direct = servers.map((s) => new Group([s.address], { protocol }));
    });
    after(async () => {
      await Promise.all(direct.map((g) => g.close()));
    });

    /** The addresses of the servers holding `key`, asked of each server directly. */
    async function holders(key: string): Promise<string[]> {
      const found: string[] = [];
      for (const [i, g] of direct.entries()) if ((await g.get(key)) !== null) found.push(servers[i]!.address);
      return found;
    }

    for (const { distribution, weights } of CASES) {
      const label = weights.some((w) => w !== 1) ? `${distribution}, weights ${weights.join('/')}` : distribution;
      it(`${label}: libmemcached finds what memring stored, and memring what libmemcached stored`, async () => {
        const specs = servers.map((s, i) => `${s.address}:${weights[i]}`);
        const group = new Group(specs, { protocol, distribution });
        try {
          await group.flush();
          const mine = KEYS.filter((_, i) => i % 2 === 0);
          const theirs = KEYS.filter((_, i) => i % 2 === 1);
          await Promise.all(mine.map((key) => group.set(key, `from memring: ${key}`)));

          const found = libmemcached({
            servers: specs,
            distribution,
            read: mine,
            write: Object.fromEntries(theirs.map((key) => [key, `from libmemcached: ${key}`])),
          });
          assert.equal(found.size, mine.length, `libmemcached found ${found.size} of ${mine.length} keys memring stored`);
          for (const key of mine) assert.equal(found.get(key), `from memring: ${key}`);

          const items = await group.getMulti(theirs);
          assert.equal(items.size, theirs.length, `memring found ${items.size} of ${theirs.length} keys libmemcached stored`);
          for (const key of theirs) {
            const item = items.get(key)!;
            assert.equal(item.text, `from libmemcached: ${key}`);
            assert.equal(item.flags, 0);
          }

          // Each key sits on exactly one server: the one memring names for it.
          for (const key of KEYS) assert.deepEqual(await holders(key), [group.serverFor(key)], key);
        } finally {
          await group.close();
        }
      });
    }
  });
}
