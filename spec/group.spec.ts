// The Group API against a real memcached: every command, as the server decides it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Group, Item, MemcacheError } from '../lib/index.js';
import { MemcachedServer } from './support/memcached.js';
import { SERVER_CASES } from './support/protocols.js';

let counter = 0;
/** A key no other test uses. */
function fresh(prefix = 'k'): string {
  return `${prefix}:${process.pid}:${counter++}`;
}

for (const c of SERVER_CASES) {
  describe(`the Group API over ${c.name}`, () => {
    let server: MemcachedServer;
    let group: Group;

    before(async () => {
      server = await MemcachedServer.start({ args: c.args });
      group = new Group([server.address], { protocol: c.protocol });
    });
    after(async () => {
      await group.close();
      await server.stop();
    });

    describe('get and set', () => {
      it('stores a string and reads it back as bytes, text, flags and CAS', async () => {
        const key = fresh();
        assert.equal(await group.set(key, 'hello world', { flags: 0xdeadbeef }), true);
        const item = await group.get(key);
        assert.ok(item instanceof Item);
        assert.equal(item.text, 'hello world');
        assert.deepEqual([...item.value], [...new TextEncoder().encode('hello world')]);
        assert.equal(item.flags, 0xdeadbeef);
        assert.equal(typeof item.cas, 'bigint');
        assert.ok(item.cas > 0n);
      });

      it('resolves null on a miss, never throws', async () => {
        assert.equal(await group.get(fresh('missing')), null);
      });

      it('keeps every byte value 0..255 intact', async () => {
        const key = fresh();
        const bytes = new Uint8Array(512);
        for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
        await group.set(key, bytes);
        const item = await group.get(key);
        assert.deepEqual(item?.value, new Uint8Array(bytes));
      });

      it('stores an empty value', async () => {
        const key = fresh();
        await group.set(key, '');
        const item = await group.get(key);
        assert.equal(item?.value.length, 0);
      });

      it('accepts UTF-8 keys and values', async () => {
        for (const key of ['café', 'ключ:1', '鍵', 'emoji-😀', 'ü'.repeat(125)]) {
          await group.set(key, `value of ${key} ✓`);
          assert.equal((await group.get(key))?.text, `value of ${key} ✓`);
        }
      });

      it('accepts a key of exactly 250 bytes', async () => {
        const key = 'x'.repeat(250);
        await group.set(key, 'long');
        assert.equal((await group.get(key))?.text, 'long');
      });

      it('returns a new CAS on every change', async () => {
        const key = fresh();
        await group.set(key, 'a');
        const first = (await group.get(key))!.cas;
        await group.set(key, 'b');
        const second = (await group.get(key))!.cas;
        assert.notEqual(first, second);
      });
    });

    describe('large values', () => {
      for (const size of [64 * 1024, 256 * 1024, 1024 * 1024 - 4096]) {
        it(`round-trips ${size} bytes arriving in many TCP reads`, async () => {
          const key = fresh('big');
          const value = new Uint8Array(size);
          for (let i = 0; i < size; i++) value[i] = (i * 31 + 7) & 0xff;
          assert.equal(await group.set(key, value), true);
          const item = await group.get(key);
          assert.equal(item?.value.length, size);
          assert.deepEqual(item?.value, value);
        });
      }

      it('stores the largest value the server allows and gets 0x03 one byte past it, connection intact', async () => {
        const key = fresh('edge');
        // memcached 1.6.18 item limit: 1 MiB - 56 (item header) - (key + 1) - 2 (CRLF).
        const largest = 1024 * 1024 - 56 - (key.length + 1) - 2;
        assert.equal(await group.set(key, new Uint8Array(largest)), true);
        assert.equal((await group.get(key))?.value.length, largest);
        await assert.rejects(group.set(key, new Uint8Array(largest + 1)), (error: MemcacheError) => {
          assert.equal(error.code, 'MC_ERR_VALUE_TOO_LARGE');
          assert.equal(error.status, 0x03);
          assert.match(error.message, new RegExp(server.address.replace(/\./g, '\\.')));
          return true;
        });
        // memcached unlinks the old item when a store fails for size, so stale data cannot linger.
        assert.equal(await group.get(key), null);
        assert.equal(await group.set(key, 'after'), true);
        assert.equal((await group.get(key))?.text, 'after');
      });

      it('a 2 MB value: the server says too large and the connection survives', async () => {
        const roomy = new Group([server.address], { protocol: c.protocol, maxValueSize: 4 * 1024 * 1024 });
        try {
          const key = fresh('huge');
          await assert.rejects(roomy.set(key, new Uint8Array(2 * 1024 * 1024)), { code: 'MC_ERR_VALUE_TOO_LARGE', status: 3 });
          await roomy.set(key, 'small');
          assert.equal((await roomy.get(key))?.text, 'small');
        } finally {
          await roomy.close();
        }
      });

      it('a 2 MB value with the default limit is refused before sending', async () => {
        const key = fresh('huge');
        await assert.rejects(group.set(key, new Uint8Array(2 * 1024 * 1024)), (error: MemcacheError) => {
          assert.equal(error.code, 'MC_ERR_VALUE_TOO_LARGE');
          assert.equal(error.status, undefined);
          return true;
        });
        assert.equal(await group.get(key), null);
      });
    });

    describe('add, replace and cas', () => {
      it('add stores only a new key', async () => {
        const key = fresh();
        assert.equal(await group.add(key, 'first'), true);
        assert.equal(await group.add(key, 'second'), false);
        assert.equal((await group.get(key))?.text, 'first');
      });

      it('replace stores only an existing key', async () => {
        const key = fresh();
        assert.equal(await group.replace(key, 'nothing to replace'), false);
        assert.equal(await group.get(key), null);
        await group.set(key, 'old');
        assert.equal(await group.replace(key, 'new'), true);
        assert.equal((await group.get(key))?.text, 'new');
      });

      it('cas stores only while the token matches', async () => {
        const key = fresh();
        await group.set(key, 'v1');
        const item = (await group.get(key))!;
        assert.equal(await group.cas(key, 'v2', item.cas), true);
        assert.equal(await group.cas(key, 'v3', item.cas), false);
        assert.equal((await group.get(key))?.text, 'v2');
      });

      it('cas on a missing key is false', async () => {
        assert.equal(await group.cas(fresh(), 'v', 12345n), false);
      });

      it('set with a cas option is conditional too', async () => {
        const key = fresh();
        await group.set(key, 'a');
        const { cas } = (await group.get(key))!;
        assert.equal(await group.set(key, 'b', { cas: cas + 1000n }), false);
        assert.equal(await group.set(key, 'b', { cas }), true);
      });
    });

    describe('append and prepend', () => {
      it('append adds after, prepend really adds before', async () => {
        const key = fresh();
        await group.set(key, 'middle');
        assert.equal(await group.append(key, '>after'), true);
        assert.equal(await group.prepend(key, 'before<'), true);
        assert.equal((await group.get(key))?.text, 'before<middle>after');
      });

      it('both are false on a missing key and create nothing', async () => {
        const key = fresh();
        assert.equal(await group.append(key, 'x'), false);
        assert.equal(await group.prepend(key, 'x'), false);
        assert.equal(await group.get(key), null);
      });

      it('keep the flags of the stored item', async () => {
        const key = fresh();
        await group.set(key, 'a', { flags: 42 });
        await group.append(key, 'b');
        assert.equal((await group.get(key))?.flags, 42);
      });
    });

    describe('delete', () => {
      it('is true for an existing key and false for a missing one', async () => {
        const key = fresh();
        await group.set(key, 'x');
        assert.equal(await group.delete(key), true);
        assert.equal(await group.get(key), null);
        assert.equal(await group.delete(key), false);
      });

      it('with a CAS deletes only the unchanged item', async () => {
        const key = fresh();
        await group.set(key, 'x');
        const { cas } = (await group.get(key))!;
        if (c.protocol === 'text') {
          // The text protocol's delete takes no CAS: refused, typed, and nothing deleted.
          await assert.rejects(group.delete(key, { cas }), { code: 'MC_ERR_UNSUPPORTED' });
          assert.equal((await group.get(key))?.text, 'x');
          return;
        }
        assert.equal(await group.delete(key, { cas: cas + 1n }), false);
        assert.equal(await group.delete(key, { cas }), true);
      });
    });

    describe('incr and decr', () => {
      it('resolve to the new value', async () => {
        const key = fresh();
        await group.set(key, '10');
        assert.equal(await group.incr(key, 5), 15n);
        assert.equal(await group.decr(key, 3), 12n);
        assert.equal(await group.incr(key), 13n);
        assert.equal((await group.get(key))?.text.trim(), '13');
      });

      it('resolve null on a missing key without an initial value, creating nothing', async () => {
        const key = fresh();
        assert.equal(await group.incr(key, 1), null);
        assert.equal(await group.decr(key, 1), null);
        assert.equal(await group.get(key), null);
      });

      it('create a missing key with the initial value, atomically', async () => {
        const key = fresh();
        assert.equal(await group.incr(key, 5, { initial: 100 }), 100n);
        assert.equal(await group.incr(key, 5, { initial: 100 }), 105n);
        assert.equal(await group.decr(fresh(), 5, { initial: 7n }), 7n);
      });

      it('wrap around at 2^64 and take 64-bit operands', async () => {
        const key = fresh();
        await group.set(key, '18446744073709551615');
        assert.equal(await group.incr(key, 1), 0n);
        assert.equal(await group.incr(key, 0xffffffffffffffffn), 0xffffffffffffffffn);
        assert.equal(await group.incr(key, 2), 1n);
        assert.equal(await group.incr(key, 2n ** 53n), 2n ** 53n + 1n);
      });

      it('decr stops at zero', async () => {
        const key = fresh();
        await group.set(key, '3');
        assert.equal(await group.decr(key, 10), 0n);
      });

      it('reject a non-numeric value with MC_ERR_NOT_NUMERIC, and the connection goes on', async () => {
        const key = fresh();
        await group.set(key, 'not a number');
        await assert.rejects(group.incr(key, 1), (error: MemcacheError) => {
          assert.equal(error.code, 'MC_ERR_NOT_NUMERIC');
          assert.equal(error.status, 0x06);
          assert.doesNotMatch(error.message, /not a number/);
          return true;
        });
        assert.equal((await group.get(key))?.text, 'not a number');
      });

      it('apply the expiration to a created counter', async () => {
        const key = fresh();
        assert.equal(await group.incr(key, 1, { initial: 1, expires: 1 }), 1n);
        await new Promise((r) => setTimeout(r, 2100));
        assert.equal(await group.get(key), null);
      });
    });

    describe('touch and gat', () => {
      it('touch is true for an existing key and false for a missing one', async () => {
        const key = fresh();
        await group.set(key, 'x');
        assert.equal(await group.touch(key, 100), true);
        assert.equal(await group.touch(fresh(), 100), false);
      });

      it('gat returns the item and sets its expiration; touch can shorten it', async () => {
        const keep = fresh();
        const drop = fresh();
        // memcached's clock ticks once a second, so a 1-second item may be gone at the next tick:
        // 2 seconds leave the gat at least one.
        await group.set(keep, 'kept', { expires: 2, flags: 7 });
        await group.set(drop, 'dropped');
        const item = await group.gat(keep, 100);
        assert.equal(item?.text, 'kept');
        assert.equal(item?.flags, 7);
        assert.equal(await group.gat(fresh(), 100), null);
        assert.equal(await group.touch(drop, 1), true);
        await new Promise((r) => setTimeout(r, 3100));
        assert.equal((await group.get(keep))?.text, 'kept');
        assert.equal(await group.get(drop), null);
      });
    });

    describe('getMulti', () => {
      it('returns the hits and leaves misses out', async () => {
        const a = fresh();
        const b = fresh();
        const missing = fresh();
        await group.set(a, 'A', { flags: 1 });
        await group.set(b, new Uint8Array([0, 1, 2]));
        const items = await group.getMulti([a, missing, b]);
        assert.deepEqual([...items.keys()].sort(), [a, b].sort());
        assert.equal(items.get(a)?.text, 'A');
        assert.equal(items.get(a)?.flags, 1);
        assert.deepEqual([...items.get(b)!.value], [0, 1, 2]);
        assert.equal(items.has(missing), false);
      });

      it('resolves at once to an empty map for no keys', async () => {
        const items = await group.getMulti([]);
        assert.equal(items.size, 0);
      });

      it('takes any iterable and repeated keys', async () => {
        const key = fresh();
        await group.set(key, 'v');
        const items = await group.getMulti(new Set([key, fresh()]));
        assert.equal(items.get(key)?.text, 'v');
        const twice = await group.getMulti([key, key]);
        assert.equal(twice.size, 1);
      });

      it("takes its keys at call time: the caller's array reused before the reply names no hit wrongly", async () => {
        const prefix = fresh('al');
        const keys = Array.from({ length: 20 }, (_, i) => `${prefix}:${i}`);
        const others = Array.from({ length: 20 }, (_, i) => `${prefix}:other:${i}`);
        await Promise.all([...keys, ...others].map((k) => group.set(k, `value-of-${k}`)));
        const batch = [...keys];
        const pending = group.getMulti(batch);
        // The caller fills the same array for its next batch before the first one is answered.
        for (let i = 0; i < batch.length; i++) batch[i] = others[i]!;
        const next = group.getMulti(batch);
        const [items, nextItems] = await Promise.all([pending, next]);
        assert.deepEqual([...items.keys()].sort(), [...keys].sort());
        for (const [key, item] of items) assert.equal(item.text, `value-of-${key}`);
        assert.deepEqual([...nextItems.keys()].sort(), [...others].sort());
        for (const [key, item] of nextItems) assert.equal(item.text, `value-of-${key}`);
      });

      it('fetches 2000 keys, each with its own value', async () => {
        const keys = Array.from({ length: 2000 }, () => fresh('multi'));
        await Promise.all(keys.map((k, i) => (i % 3 === 0 ? Promise.resolve(true) : group.set(k, `value-${k}`))));
        const items = await group.getMulti(keys);
        assert.equal(items.size, keys.filter((_, i) => i % 3 !== 0).length);
        for (const [key, item] of items) assert.equal(item.text, `value-${key}`);
      });
    });

    describe('pipelining', () => {
      it('gives each of 5000 concurrent requests its own reply', async () => {
        const keys = Array.from({ length: 5000 }, () => fresh('many'));
        await Promise.all(keys.map((k) => group.set(k, `v:${k}`)));
        const results = await Promise.all(keys.map((k) => group.get(k)));
        results.forEach((item, i) => assert.equal(item?.text, `v:${keys[i]}`));
      });

      it('mixes commands in flight and keeps their order of effect', async () => {
        const key = fresh();
        const [stored, incremented, read, deleted, gone] = await Promise.all([
          group.set(key, '1'),
          group.incr(key, 41),
          group.get(key),
          group.delete(key),
          group.get(key),
        ]);
        assert.deepEqual([stored, incremented, read?.text, deleted, gone], [true, 42n, '42', true, null]);
      });
    });

    describe('every-server commands', () => {
      it('version names its server', async () => {
        const versions = await group.version();
        assert.deepEqual([...versions.keys()], [server.address]);
        assert.match(versions.get(server.address)!, /^1\.6\.\d+/);
      });

      it('stats returns the server statistics, and a named group', async () => {
        const stats = (await group.stats()).get(server.address)!;
        assert.equal(stats['pid'], String(server.pid));
        const settings = (await group.stats('settings')).get(server.address)!;
        assert.equal(settings['item_size_max'], String(1024 * 1024));
      });

      it('noop round-trips', async () => {
        assert.equal(await group.noop(), undefined);
      });

      it('flush empties the cache, now or after a delay', async () => {
        const own = await MemcachedServer.start({ args: c.args });
        const g = new Group([own.address], { protocol: c.protocol });
        try {
          await g.set('a', '1');
          await g.flush();
          assert.equal(await g.get('a'), null);
          await g.set('b', '2');
          await g.flush(2);
          assert.equal((await g.get('b'))?.text, '2');
          await new Promise((r) => setTimeout(r, 3100));
          assert.equal(await g.get('b'), null);
        } finally {
          await g.close();
          await own.stop();
        }
      });
    });

    describe('close', () => {
      it('lets operations in flight finish, then refuses new ones', async () => {
        const g = new Group([server.address], { protocol: c.protocol });
        const key = fresh();
        const pending = g.set(key, 'last');
        const closing = g.close();
        assert.equal(await pending, true);
        await closing;
        await assert.rejects(g.get(key), { code: 'MC_ERR_CLIENT_CLOSED' });
        assert.equal((await group.get(key))?.text, 'last');
      });
    });

    describe('the public type', () => {
      it('keeps the pool observer (server health callbacks) out of Group', async () => {
        const g = new Group([server.address], { protocol: c.protocol });
        try {
          // Type-checked by `npx tsc --noEmit`: each line is an error unless the member is gone.
          // @ts-expect-error onDown is not part of Group's API
          assert.equal(g.onDown, undefined);
          // @ts-expect-error onProbeFailed is not part of Group's API
          assert.equal(g.onProbeFailed, undefined);
          // @ts-expect-error onFailure is not part of Group's API
          assert.equal(g.onFailure, undefined);
          // @ts-expect-error onUp is not part of Group's API
          assert.equal(g.onUp, undefined);
          for (const name of ['onDown', 'onProbeFailed', 'onFailure', 'onUp']) assert.equal(name in g, false, name);
        } finally {
          await g.close();
        }
      });
    });
  });
}
