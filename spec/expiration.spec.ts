// An expiration over 30 days is an absolute Unix time to memcached: one that is not in the
// future (seconds meant as relative, e.g. 34 days) would expire the item at once, so it is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CacheAPI, ErrorCode, Group, MemcacheError } from '../lib/index.js';
import { MemcachedServer } from './support/memcached.js';
import { SERVER_CASES } from './support/protocols.js';

const THIRTY_DAYS = 2_592_000;
const THIRTY_FOUR_DAYS = 3_000_000;

function refusedAsPast(name: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof MemcacheError, String(error));
    assert.equal(error.code, ErrorCode.BAD_ARGUMENT, error.message);
    assert.ok(error.message.startsWith(`${name} ${THIRTY_FOUR_DAYS} is over 30 days`), error.message);
    assert.ok(error.message.includes('Math.floor(Date.now() / 1000) + seconds'), error.message);
    return true;
  };
}

let counter = 0;
function fresh(): string {
  return `expiration:${process.pid}:${counter++}`;
}

for (const c of SERVER_CASES) {
  describe(`expirations over ${c.name}`, () => {
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

    it('refuses 34 days in seconds on every call that takes an expiration, and sends nothing', async () => {
      const key = fresh();
      await group.set(key, 'kept');
      const cas = (await group.get(key))!.cas;
      const expires = THIRTY_FOUR_DAYS;
      await assert.rejects(group.set(key, 'v', { expires }), refusedAsPast('expires'));
      await assert.rejects(group.add(fresh(), 'v', { expires }), refusedAsPast('expires'));
      await assert.rejects(group.replace(key, 'v', { expires }), refusedAsPast('expires'));
      await assert.rejects(group.cas(key, 'v', cas, { expires }), refusedAsPast('expires'));
      await assert.rejects(group.touch(key, expires), refusedAsPast('expires'));
      await assert.rejects(group.gat(key, expires), refusedAsPast('expires'));
      await assert.rejects(group.incr(fresh(), 1, { initial: 1, expires }), refusedAsPast('expires'));
      await assert.rejects(group.decr(fresh(), 1, { initial: 1, expires }), refusedAsPast('expires'));
      // flush_all reads its delay the same way: a past absolute time would flush at once.
      await assert.rejects(group.flush(expires), refusedAsPast('delay'));
      const item = await group.get(key);
      assert.equal(item?.text, 'kept');
      assert.equal(item.cas, cas);
    });

    it('accepts 2,592,000 (30 days, still relative) and keeps the item', async () => {
      const [set, counter, touched] = [fresh(), fresh(), fresh()];
      assert.equal(await group.set(set, 'v', { expires: THIRTY_DAYS }), true);
      assert.equal(await group.incr(counter, 1, { initial: 5, expires: THIRTY_DAYS }), 5n);
      await group.set(touched, 't');
      assert.equal(await group.touch(touched, THIRTY_DAYS), true);
      assert.equal((await group.gat(touched, THIRTY_DAYS))?.text, 't');
      assert.equal((await group.get(set))?.text, 'v');
      assert.equal((await group.get(counter))?.text, '5');
      assert.equal((await group.get(touched))?.text, 't');
    });

    it('accepts an absolute time in the future and keeps the item', async () => {
      const key = fresh();
      const inAnHour = Math.floor(Date.now() / 1000) + 3600;
      assert.equal(await group.set(key, 'v', { expires: inAnHour }), true);
      assert.equal((await group.get(key))?.text, 'v');
      assert.equal(await group.touch(key, inAnHour + 60), true);
      assert.equal((await group.get(key))?.text, 'v');
    });
  });
}

describe('CacheAPI expirations', () => {
  let server: MemcachedServer;
  let api: CacheAPI;
  let id: string;

  before(async () => {
    server = await MemcachedServer.start();
    api = new CacheAPI([`g = ${server.address}`]);
    id = api.storageIds[0]!;
  });
  after(async () => {
    await api.close();
    await server.stop();
  });

  it('refuses 34 days in seconds on store, add and sub; accepts 30 days and a future time', async () => {
    const key = fresh();
    await assert.rejects(api.store(id, key, 'v', THIRTY_FOUR_DAYS), refusedAsPast('expires'));
    await assert.rejects(api.add(id, key, 1, THIRTY_FOUR_DAYS), refusedAsPast('expires'));
    await assert.rejects(api.sub(id, key, 1, THIRTY_FOUR_DAYS), refusedAsPast('expires'));
    assert.equal(await api.fetch(id, key), null);
    await api.store(id, key, 'v', THIRTY_DAYS);
    assert.equal(await api.fetch(id, key), 'v');
    const counterKey = fresh();
    assert.equal(await api.add(id, counterKey, 3, Math.floor(Date.now() / 1000) + 3600), 3);
    assert.equal(await api.counterFetch(id, counterKey), 3);
  });
});
