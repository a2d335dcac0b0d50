// A Group over several real memcached servers: placement, multi-get, every-server commands.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Group, Ring } from '../lib/index.js';
import { MemcachedServer } from './support/memcached.js';
import { SERVER_CASES } from './support/protocols.js';
import { placementVectors } from './support/vectors.js';

const vectors = placementVectors;

/** Which of `servers` holds `key`, asked of each server directly. */
async function holder(direct: Group[], key: string): Promise<number[]> {
  const found: number[] = [];
  for (const [i, g] of direct.entries()) if ((await g.get(key)) !== null) found.push(i);
  return found;
}

for (const { name, protocol, args } of SERVER_CASES) {
  describe(`placement on real servers agrees with libmemcached (${name})`, () => {
    // The vector cases on 127.0.0.1:31001-31005 are run for real: memcached on
    // those ports, every key stored through the Group, each server asked.
    const cases = vectors.cases.filter((c) => c.servers.every((s) => s.startsWith('127.0.0.1:3100')));
    const ports = [...new Set(cases.flatMap((c) => c.servers.map((s) => Number(s.split(':')[1]))))];
    const servers = new Map<number, MemcachedServer>();
    before(async () => {
      for (const port of ports) servers.set(port, await MemcachedServer.start({ port, args }));
    });
    after(async () => {
      for (const server of servers.values()) await server.stop();
    });

    for (const c of cases) {
      it(`${c.name}: every key lands where libmemcached put it`, async () => {
        const input = c.servers.map((s, i) => (c.weights ? `${s}:${c.weights[i]}` : s));
        const group = new Group(input, { protocol, distribution: c.distribution });
        const direct = c.servers.map((s) => new Group([s], { protocol }));
        try {
          await group.flush();
          await Promise.all(vectors.keys.map((key) => group.set(key, `v:${key}`)));
          for (const key of vectors.keys) {
            assert.deepEqual(await holder(direct, key), [c.placement[key]], key);
            assert.equal(group.serverFor(key), c.servers[c.placement[key]!]);
          }
          const items = await group.getMulti(vectors.keys);
          assert.equal(items.size, vectors.keys.length);
          for (const key of vectors.keys) assert.equal(items.get(key)?.text, `v:${key}`);
        } finally {
          await group.close();
          await Promise.all(direct.map((g) => g.close()));
        }
      });
    }
  });

  describe(`a group of four servers (${name})`, () => {
    const servers: MemcachedServer[] = [];
    let group: Group;
    let direct: Group[];
    before(async () => {
      for (let i = 0; i < 4; i++) servers.push(await MemcachedServer.start({ args }));
      group = new Group(servers.map((s) => s.address), { protocol });
      direct = servers.map((s) => new Group([s.address], { protocol }));
    });
    after(async () => {
      await group.close();
      await Promise.all(direct.map((g) => g.close()));
      for (const s of servers) await s.stop();
    });

    it('spreads keys over every server, each where the ring says', async () => {
      const ring = new Ring(servers.map((s) => s.address));
      const keys = Array.from({ length: 400 }, (_, i) => `spread:${i}`);
      await Promise.all(keys.map((k) => group.set(k, k)));
      const counts = [0, 0, 0, 0];
      for (const key of keys) {
        const found = await holder(direct, key);
        assert.deepEqual(found, [ring.pick(key)], key);
        counts[found[0]!]!++;
      }
      for (const count of counts) assert.ok(count > 50, `uneven spread ${counts.join(',')}`);
    });

    it('getMulti asks every server at once and merges the hits', async () => {
      const keys = Array.from({ length: 1000 }, (_, i) => `multi:${i}`);
      await Promise.all(keys.filter((_, i) => i % 4 !== 0).map((k) => group.set(k, `value of ${k}`)));
      const before = await Promise.all(direct.map(async (g) => Number((await g.stats()).values().next().value!['cmd_get'])));
      const items = await group.getMulti(keys);
      assert.equal(items.size, 750);
      for (const [key, item] of items) assert.equal(item.text, `value of ${key}`);
      const afterStats = await Promise.all(direct.map(async (g) => Number((await g.stats()).values().next().value!['cmd_get'])));
      // Every server served its share of the 1000 lookups.
      const served = afterStats.map((n, i) => n - before[i]!);
      assert.equal(served.reduce((a, b) => a + b, 0), 1000);
      for (const n of served) assert.ok(n > 100, `served ${served.join(',')}`);
    });

    it('getMulti of an empty list resolves at once without touching a server', async () => {
      assert.equal((await group.getMulti([])).size, 0);
    });

    it('getMulti refuses a bad key before asking any server', async () => {
      await assert.rejects(group.getMulti(['ok:1', 'ok:2', 'not ok']), { code: 'MC_ERR_BAD_KEY' });
    });

    it('version, stats and flush go to every server and say which answer came from where', async () => {
      const versions = await group.version();
      assert.deepEqual([...versions.keys()], servers.map((s) => s.address));
      const stats = await group.stats();
      for (const server of servers) assert.equal(stats.get(server.address)?.['pid'], String(server.pid));
      await group.set('flush:me', 'x');
      await group.flush();
      for (const g of direct) assert.equal(await g.get('flush:me'), null);
    });

    it('spreads requests over several connections per server', async () => {
      const wide = new Group([servers[0]!.address], { protocol, connections: 3 });
      try {
        const before = Number((await wide.stats()).get(servers[0]!.address)!['total_connections']);
        await Promise.all(Array.from({ length: 3000 }, (_, i) => wide.set(`wide:${i}`, 'x')));
        const after = Number((await wide.stats()).get(servers[0]!.address)!['total_connections']);
        assert.ok(after - before >= 2, `opened ${after - before} more connections`);
        assert.equal((await wide.get('wide:2999'))?.text, 'x');
      } finally {
        await wide.close();
      }
    });
  });
}
