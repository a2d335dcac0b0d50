// CacheAPI, OpenSIPS's memcache functions, against real memcached: every
// group on its own servers, so groups can be shown to be kept apart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { CacheAPI } from '../lib/cache-api.js';
import { ErrorCode, MemcacheError } from '../lib/errors.js';
import { Group } from '../lib/group.js';
import { Ring } from '../lib/hash/ring.js';
import { MemcachedServer } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';

const G1 = 'memcached_g1';
const G2 = 'memcached:g2';

// One server per group, shared by both protocols: memcached answers both on one port.
let s1: MemcachedServer;
let s2: MemcachedServer;

before(async () => {
  [s1, s2] = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
});
after(async () => {
  await Promise.all([s1.stop(), s2.stop()]);
});

let counter = 0;
/** A key no other test uses. */
function fresh(prefix = 'k'): string {
  return `${prefix}:${process.pid}:${counter++}`;
}

/** Asserts the call returned a promise (no synchronous throw) that rejects with `code` and a message naming `names`. */
async function rejects(call: () => Promise<unknown>, code: ErrorCode, ...names: string[]): Promise<MemcacheError> {
  let promise: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    promise = call();
  });
  assert.ok(promise instanceof Promise);
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => ((caught = error), true));
  assert.ok(caught instanceof MemcacheError, `not a MemcacheError: ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const name of names) assert.ok(caught.message.includes(name), `"${caught.message}" does not name ${name}`);
  return caught;
}

for (const protocol of PROTOCOLS) {
  describe(`CacheAPI (${protocol})`, () => {
  let api: CacheAPI;
  /** A plain Group on each group's server: what any other client sees. */
  let direct1: Group;
  let direct2: Group;

  before(() => {
    api = new CacheAPI([`g1 = ${s1.address}`, `memcached:g2://${s2.address}/`], { protocol });
    direct1 = new Group([s1.address], { protocol });
    direct2 = new Group([s2.address], { protocol });
  });
  after(async () => {
    await Promise.all([api.close(), direct1.close(), direct2.close()]);
  });

  describe('storage ids', () => {
    it('names groups as OpenSIPS does: memcached_<name>, memcached:<group>', () => {
      assert.deepEqual(api.storageIds, [G1, G2]);
    });

    it('returns the id from addServerGroup, "memcached" for a URL without a group', async () => {
      const local = new CacheAPI([], { protocol });
      try {
        assert.equal(local.addServerGroup(`memcached://${s1.address}/`), 'memcached');
        assert.equal(local.addServerGroup(`x = ${s1.address}`), 'memcached_x');
        // The same name in both forms makes two ids.
        assert.equal(local.addServerGroup(`memcached:x://${s1.address}`), 'memcached:x');
        assert.deepEqual(local.storageIds, ['memcached', 'memcached_x', 'memcached:x']);
        const key = fresh();
        await local.store('memcached', key, 'via default');
        assert.equal(await local.fetch('memcached_x', key), 'via default');
      } finally {
        await local.close();
      }
    });

    it('refuses an id configured twice with MC_ERR_BAD_CONFIG, naming it', () => {
      for (const specs of [
        ['g = a', 'g = b'],
        ['memcached:g://a/', 'memcached:g://b/'],
        ['memcached://a/', 'memcached://b/'],
      ]) {
        assert.throws(
          () => new CacheAPI(specs),
          (error: unknown) => error instanceof MemcacheError && error.code === ErrorCode.BAD_CONFIG && /configured twice/.test(error.message),
        );
      }
      const local = new CacheAPI(['g = a']);
      assert.throws(
        () => local.addServerGroup('g=b'),
        (error: unknown) => error instanceof MemcacheError && error.code === ErrorCode.BAD_CONFIG && error.message.includes('"memcached_g"'),
      );
      assert.deepEqual(local.storageIds, ['memcached_g']);
    });

    it('refuses bad specs with their typed error', () => {
      const cases: [string, ErrorCode][] = [
        ['= h', ErrorCode.BAD_CONFIG],
        ['g = ', ErrorCode.BAD_CONFIG],
        ['redis://h/', ErrorCode.BAD_CONFIG],
        ['g = h:x', ErrorCode.BAD_SERVER],
        ['g = h:1,h:1', ErrorCode.BAD_CONFIG], // the Group refuses a server listed twice
      ];
      for (const [spec, code] of cases) {
        assert.throws(
          () => new CacheAPI([spec]),
          (error: unknown) => error instanceof MemcacheError && error.code === code,
          spec,
        );
      }
      assert.throws(() => new CacheAPI('g = h' as never), (error: unknown) => error instanceof MemcacheError);
    });

    it('names the group when a Group refuses its servers or options', () => {
      assert.throws(
        () => new CacheAPI(['g = h:1,h:1']),
        (error: unknown) => error instanceof MemcacheError && error.message.startsWith('group "memcached_g": '),
      );
      assert.throws(
        () => new CacheAPI(['g = h'], { timeout: -1 }),
        (error: unknown) => error instanceof MemcacheError && error.code === ErrorCode.BAD_ARGUMENT && error.message.includes('timeout'),
      );
    });

    it('rejects an unknown id with MC_ERR_BAD_ARGUMENT, naming it, from every method', async () => {
      const key = fresh();
      const calls: (() => Promise<unknown>)[] = [
        () => api.store('memcached_nope', key, 'v'),
        () => api.fetch('memcached_nope', key),
        () => api.remove('memcached_nope', key),
        () => api.add('memcached_nope', key, 1),
        () => api.sub('memcached_nope', key, 1),
        () => api.counterFetch('memcached_nope', key),
      ];
      for (const call of calls) await rejects(call, ErrorCode.BAD_ARGUMENT, '"memcached_nope"', G1, G2);
      // The OpenSIPS name of a group is not its storage id.
      await rejects(() => api.fetch('g1', key), ErrorCode.BAD_ARGUMENT, '"g1"');
      await rejects(() => api.fetch(42 as never, key), ErrorCode.BAD_ARGUMENT, 'storage id must be a string');
    });

    it('never shows an id that may hold a password: a cachedb URL given as the id', async () => {
      for (const id of ['memcached://app:S3cr3tPW@h/', 'app:S3cr3tPW@h']) {
        const error = await rejects(() => api.fetch(id, fresh()), ErrorCode.BAD_ARGUMENT, 'unknown storage id', G1);
        assert.equal(error.message.includes('S3cr3tPW'), false, error.message);
      }
    });

    it('never shows a password when a spec is a malformed cachedb URL', () => {
      for (const spec of ['memcached:app:S3cr3tPW@127.0.0.1/', 'memcached: //app:S3cr3tPW@127.0.0.1/', 'memcached//app:S3cr3tPW@127.0.0.1/', 'memcached:g=1://app:S3cr3tPW@h/']) {
        assert.throws(
          () => new CacheAPI([spec]),
          (error: unknown) => {
            assert.ok(error instanceof MemcacheError);
            for (let e: unknown = error; e instanceof Error; e = e.cause) assert.equal(e.message.includes('S3cr3tPW'), false, e.message);
            return true;
          },
          spec,
        );
      }
    });
  });

  describe('store and fetch (cache_store, cache_fetch)', () => {
    it('stores a string and fetches it back', async () => {
      const key = fresh();
      assert.equal(await api.store(G1, key, 'hello'), undefined);
      assert.equal(await api.fetch(G1, key), 'hello');
      await api.store(G1, key, 'again');
      assert.equal(await api.fetch(G1, key), 'again');
    });

    it('fetches null on a miss', async () => {
      assert.equal(await api.fetch(G1, fresh('missing')), null);
    });

    it('stores plain UTF-8 bytes with flags 0, as PHP, Python and C read them', async () => {
      const key = fresh('clé');
      const value = 'héllo wörld ✓ 鍵 😀';
      await api.store(G1, key, value);
      const item = await direct1.get(key);
      assert.ok(item !== null);
      assert.equal(item.flags, 0);
      assert.deepEqual(item.value, new TextEncoder().encode(value));
      assert.equal(await api.fetch(G1, key), value);
    });

    it('fetches what another client stored, whatever its flags', async () => {
      const key = fresh();
      await direct2.set(key, 'from elsewhere ü', { flags: 7 });
      assert.equal(await api.fetch(G2, key), 'from elsewhere ü');
    });

    it('stores the empty string', async () => {
      const key = fresh();
      await api.store(G1, key, '');
      assert.equal(await api.fetch(G1, key), '');
    });

    it('rejects a value that is not a string with MC_ERR_BAD_VALUE and stores nothing', async () => {
      const key = fresh();
      for (const bad of [42, null, undefined, new Uint8Array([1]), { toString: () => 'x' }]) {
        await rejects(() => api.store(G1, key, bad as never), ErrorCode.BAD_VALUE, 'must be a string');
      }
      assert.equal(await direct1.get(key), null);
    });

    it('rejects a bad key with MC_ERR_BAD_KEY from every method, and stores nothing', async () => {
      for (const bad of ['has space', '', 'tab\there', 'x'.repeat(251), 42 as never]) {
        await rejects(() => api.store(G1, bad, 'v'), ErrorCode.BAD_KEY);
        await rejects(() => api.fetch(G1, bad), ErrorCode.BAD_KEY);
        await rejects(() => api.remove(G1, bad), ErrorCode.BAD_KEY);
        await rejects(() => api.add(G1, bad, 1), ErrorCode.BAD_KEY);
        await rejects(() => api.sub(G1, bad, 1), ErrorCode.BAD_KEY);
        await rejects(() => api.counterFetch(G1, bad), ErrorCode.BAD_KEY);
      }
      assert.equal(await direct1.get('has'), null);
    });

    it('rejects an expire that is not an integer from 0 to 2^32-1 with MC_ERR_BAD_ARGUMENT', async () => {
      const key = fresh();
      for (const bad of [-1, 1.5, 2 ** 32, '10' as never]) {
        await rejects(() => api.store(G1, key, 'v', bad), ErrorCode.BAD_ARGUMENT, 'expires');
        await rejects(() => api.add(G1, key, 1, bad), ErrorCode.BAD_ARGUMENT, 'expires');
      }
      assert.equal(await direct1.get(key), null);
    });

    it('honours expire on store, and on add and sub when they create the key', async () => {
      const [stored, added, subbed, kept] = [fresh(), fresh(), fresh(), fresh()];
      // 2 seconds: memcached's clock ticks once a second, so a 1-second item may be gone before it is read.
      await api.store(G1, stored, 'short-lived', 2);
      await api.add(G1, added, 5, 2);
      await api.sub(G1, subbed, 5, 2);
      await api.store(G1, kept, 'forever', 0);
      assert.equal(await api.fetch(G1, stored), 'short-lived');
      assert.equal(await api.counterFetch(G1, added), 5);
      assert.equal(await api.counterFetch(G1, subbed), 0);
      await new Promise((r) => setTimeout(r, 3100));
      assert.equal(await api.fetch(G1, stored), null);
      assert.equal(await api.counterFetch(G1, added), null);
      assert.equal(await api.counterFetch(G1, subbed), null);
      assert.equal(await api.fetch(G1, kept), 'forever');
    });
  });

  describe('remove (cache_remove)', () => {
    it('removes a key', async () => {
      const key = fresh();
      await api.store(G1, key, 'v');
      assert.equal(await api.remove(G1, key), undefined);
      assert.equal(await api.fetch(G1, key), null);
    });

    it('resolves for a missing key, as OpenSIPS returns 1', async () => {
      const key = fresh('missing');
      assert.equal(await api.remove(G1, key), undefined);
      assert.equal(await api.remove(G1, key), undefined);
    });
  });

  describe('add and sub (cache_add, cache_sub)', () => {
    it('add creates a missing key holding delta and resolves to it', async () => {
      const key = fresh();
      assert.equal(await api.add(G1, key, 5), 5);
      assert.equal(await api.fetch(G1, key), '5');
      assert.equal(await api.add(G1, key, 3), 8);
      assert.equal(await api.counterFetch(G1, key), 8);
    });

    it('sub creates a missing key holding 0 (OpenSIPS stores +delta) and resolves to 0', async () => {
      const key = fresh();
      assert.equal(await api.sub(G1, key, 5), 0);
      assert.equal(await api.counterFetch(G1, key), 0);
    });

    it('sub subtracts and stops at 0, as memcached does', async () => {
      const key = fresh();
      await api.store(G1, key, '10');
      assert.equal(await api.sub(G1, key, 3), 7);
      assert.equal(await api.sub(G1, key, 100), 0);
      assert.equal(await api.add(G1, key, 2), 2);
    });

    it('counts on a value written by store, and by any other client', async () => {
      const key = fresh();
      await api.store(G1, key, '42');
      assert.equal(await api.add(G1, key, 1), 43);
      await direct1.set(key, '100', { flags: 3 });
      assert.equal(await api.sub(G1, key, 1), 99);
    });

    it('creates and adds in one atomic step: concurrent adds on a missing key lose nothing', async () => {
      const key = fresh();
      const results = await Promise.all(Array.from({ length: 50 }, () => api.add(G1, key, 1)));
      assert.deepEqual(
        [...results].sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      assert.equal(await api.counterFetch(G1, key), 50);
    });

    it('rejects on a value that is not a number with MC_ERR_NOT_NUMERIC', async () => {
      const key = fresh();
      await api.store(G1, key, 'abc');
      await rejects(() => api.add(G1, key, 1), ErrorCode.NOT_NUMERIC);
      await rejects(() => api.sub(G1, key, 1), ErrorCode.NOT_NUMERIC);
      assert.equal(await api.fetch(G1, key), 'abc');
    });

    it('rejects a delta that is not a non-negative safe integer with MC_ERR_BAD_ARGUMENT', async () => {
      const key = fresh();
      for (const bad of [-1, 1.5, NaN, 2 ** 53, '1' as never]) {
        await rejects(() => api.add(G1, key, bad), ErrorCode.BAD_ARGUMENT, 'delta');
        await rejects(() => api.sub(G1, key, bad), ErrorCode.BAD_ARGUMENT, 'delta');
      }
      assert.equal(await direct1.get(key), null);
    });

    it('loses precision past 2^53: the 64-bit counter is exact on the server, not in the number', async () => {
      const key = fresh();
      await api.store(G1, key, '9007199254740993'); // 2^53 + 1
      assert.equal(await api.add(G1, key, 0), 2 ** 53);
      assert.equal(await api.counterFetch(G1, key), 2 ** 53);
      assert.equal((await direct1.get(key))?.text, '9007199254740993');
    });
  });

  describe('counterFetch (cache_counter_fetch)', () => {
    it('resolves null on a miss', async () => {
      assert.equal(await api.counterFetch(G1, fresh('missing')), null);
    });

    it('reads a decremented counter despite the trailing spaces memcached leaves', async () => {
      const key = fresh();
      await api.store(G1, key, '10');
      assert.equal(await api.sub(G1, key, 1), 9);
      assert.equal((await direct1.get(key))?.text, '9 ');
      assert.equal(await api.counterFetch(G1, key), 9);
    });

    it('reads decimal integers as str2sint does, a minus sign and leading zeros included', async () => {
      const key = fresh();
      for (const [text, value] of [['0', 0], ['-5', -5], ['007', 7], ['18446744073709551615', 2 ** 64]] as const) {
        await api.store(G1, key, text);
        assert.equal(await api.counterFetch(G1, key), value, text);
      }
    });

    it('rejects a value that is not a decimal integer with MC_ERR_NOT_NUMERIC, without showing it', async () => {
      const key = fresh();
      for (const bad of ['abc', '', ' 12', '12abc', '1.5', '0x10', '+1', '1e3', '12\n', '٣']) {
        await api.store(G1, key, bad);
        const error = await rejects(() => api.counterFetch(G1, key), ErrorCode.NOT_NUMERIC, G1, s1.address);
        // Only values that cannot occur in the id or the address tell anything here.
        if (/[a-z]/.test(bad)) assert.equal(error.message.includes(bad), false, error.message);
      }
    });
  });

  describe('groups are kept apart', () => {
    it('a key stored in one group is not seen in the other', async () => {
      const key = fresh();
      await api.store(G1, key, 'one');
      assert.equal(await api.fetch(G2, key), null);
      assert.equal((await direct1.get(key))?.text, 'one');
      assert.equal(await direct2.get(key), null);
      await api.store(G2, key, 'two');
      assert.equal(await api.fetch(G1, key), 'one');
      assert.equal(await api.fetch(G2, key), 'two');
      await api.remove(G2, key);
      assert.equal(await api.fetch(G1, key), 'one');
      assert.equal(await api.fetch(G2, key), null);
    });

    it('counters of the same name count separately', async () => {
      const key = fresh();
      assert.equal(await api.add(G1, key, 5), 5);
      assert.equal(await api.add(G2, key, 100), 100);
      assert.equal(await api.sub(G1, key, 1), 4);
      assert.equal(await api.counterFetch(G1, key), 4);
      assert.equal(await api.counterFetch(G2, key), 100);
    });
  });

  describe('close', () => {
    it('closes every group; later calls reject with MC_ERR_CLIENT_CLOSED', async () => {
      const local = new CacheAPI([`a = ${s1.address}`, `memcached:b://${s2.address}/`], { protocol });
      const key = fresh();
      await local.store('memcached_a', key, 'v');
      await local.store('memcached:b', key, 'v');
      await local.close();
      await local.close();
      await rejects(() => local.fetch('memcached_a', key), ErrorCode.CLIENT_CLOSED);
      await rejects(() => local.store('memcached:b', key, 'w'), ErrorCode.CLIENT_CLOSED);
      assert.throws(
        () => local.addServerGroup(`c = ${s1.address}`),
        (error: unknown) => error instanceof MemcacheError && error.code === ErrorCode.CLIENT_CLOSED,
      );
      assert.equal((await direct2.get(key))?.text, 'v');
    });
  });

  // These groups have several servers each: they need the multi-server Group.
  describe('multi-server groups', () => {
    let servers: MemcachedServer[];
    let multi: CacheAPI;
    let direct: Group[];
    const ids = { m1: 'memcached_m1', m2: 'memcached:m2' };

    before(async () => {
      servers = await Promise.all([0, 1, 2, 3].map(() => MemcachedServer.start()));
      const [a, b, c, d] = servers.map((s) => s.address);
      // OpenSIPS runs libmemcached with modula: a group that shares keys with it says so.
      multi = new CacheAPI([`m1 = ${a}, ${b}`, `memcached:m2://${c},${d}/`], { protocol, distribution: 'modula' });
      direct = servers.map((s) => new Group([s.address], { protocol }));
    });
    after(async () => {
      await Promise.all([multi.close(), ...direct.map((g) => g.close())]);
      await Promise.all(servers.map((s) => s.stop()));
    });

    /** Indexes of the servers that hold `key`, asked directly. */
    async function holders(key: string): Promise<number[]> {
      const found: number[] = [];
      for (const [i, g] of direct.entries()) if ((await g.get(key)) !== null) found.push(i);
      return found;
    }

    it('puts each key on the server modula picks, within its own group only', async () => {
      const ring = new Ring(servers.slice(0, 2).map((s) => s.address), { distribution: 'modula' });
      const used = new Set<number>();
      for (let i = 0; i < 40; i++) {
        const key = fresh('modula');
        await multi.store(ids.m1, key, `v${i}`);
        const expected = ring.pick(key);
        used.add(expected);
        assert.deepEqual(await holders(key), [expected], key);
        assert.equal(await multi.fetch(ids.m1, key), `v${i}`);
        assert.equal(await multi.fetch(ids.m2, key), null);
      }
      assert.deepEqual([...used].sort(), [0, 1]);
    });

    it('counts, fetches and removes on the key server of the URL group', async () => {
      const ring = new Ring(servers.slice(2).map((s) => s.address), { distribution: 'modula' });
      for (let i = 0; i < 10; i++) {
        const key = fresh('counter');
        assert.equal(await multi.add(ids.m2, key, i + 1), i + 1);
        assert.equal(await multi.sub(ids.m2, key, 1), i);
        assert.equal(await multi.counterFetch(ids.m2, key), i);
        assert.deepEqual(await holders(key), [2 + ring.pick(key)], key);
        await multi.remove(ids.m2, key);
        assert.deepEqual(await holders(key), []);
      }
    });

    it('passes weights from the spec to the ring ("host:port weight")', async () => {
      const [a, b] = servers.map((s) => s.address);
      const weighted = new CacheAPI([`w = ${a} 3,${b}:1`], { protocol, distribution: 'ketama' });
      try {
        const ring = new Ring([`${a}:3`, `${b}:1`], { distribution: 'ketama' });
        const even = new Ring([a!, b!], { distribution: 'ketama' });
        let differs = false;
        for (let i = 0; i < 40; i++) {
          const key = fresh('weighted');
          await weighted.store('memcached_w', key, 'v');
          assert.deepEqual(await holders(key), [ring.pick(key)], key);
          differs ||= ring.pick(key) !== even.pick(key);
        }
        assert.ok(differs, 'no key placed differently with weights: the test proves nothing');
      } finally {
        await weighted.close();
      }
    });
  });
  });
}
