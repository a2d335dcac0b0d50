// What the Group's types allow and refuse (this file is type-checked by `tsc --noEmit`:
// each @ts-expect-error must meet an error), and the same code run against a real memcached.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CacheAPI, ErrorCode, Group, MemcacheError, type ServerEventType } from '../lib/index.js';
import { MemcachedServer, freePort } from './support/memcached.js';

function isClosed(error: unknown): boolean {
  return error instanceof MemcacheError && error.code === ErrorCode.CLIENT_CLOSED;
}

describe('event listeners typed by event name', () => {
  it('a server-down listener reads event.server and event.error without a cast', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const group = new Group([address], { retryDelay: 60_000, maxRetryDelay: 60_000 });
    try {
      const down = new Promise<{ server: string; code: string | undefined; type: ServerEventType }>((resolve) => {
        group.addEventListener('server-down', (event) => resolve({ server: event.server, code: event.error?.code, type: event.type }), {
          once: true,
        });
      });
      await assert.rejects(group.get('k'));
      assert.deepEqual(await down, { server: address, code: ErrorCode.CONNECT, type: 'server-down' });
    } finally {
      await group.close();
    }
  });

  it('an object listener and removeEventListener take the same typed events', () => {
    const group = new Group('127.0.0.1:1');
    const failures: number[] = [];
    const listener = { handleEvent: (event: { failures: number }) => failures.push(event.failures) };
    group.addEventListener('server-ejected', listener);
    group.removeEventListener('server-ejected', listener);
    assert.deepEqual(failures, []);
    return group.close();
  });

  it('a misspelled event name and the internals do not compile', () => {
    const group = new Group('127.0.0.1:1');
    // @ts-expect-error: 'server-donw' is not one of the Group's events
    group.addEventListener('server-donw', () => {});
    // @ts-expect-error: nor is any other string
    group.removeEventListener('close' as string, () => {});
    // @ts-expect-error: the pools are private
    void group.pools;
    // @ts-expect-error: the pools' health reports are not Group methods
    void group.onDown;
    // @ts-expect-error: nor its private handler
    void group.serverDown;
    return group.close();
  });
});

describe('await using', () => {
  let server: MemcachedServer;

  before(async () => {
    server = await MemcachedServer.start();
  });
  after(async () => {
    await server.stop();
  });

  it('closes the Group at the end of its block: later calls reject with MC_ERR_CLIENT_CLOSED', async () => {
    let kept: Group | undefined;
    {
      await using group = new Group([server.address]);
      kept = group;
      assert.equal(await group.set('dispose:group', 'v'), true);
    }
    await assert.rejects(kept.get('dispose:group'), isClosed);
    await assert.rejects(kept.set('dispose:group', 'w'), isClosed);
  });

  it('closes a CacheAPI and its groups at the end of its block', async () => {
    let kept: CacheAPI | undefined;
    {
      await using cache = new CacheAPI([`one = ${server.address}`]);
      kept = cache;
      await cache.store(cache.storageIds[0]!, 'dispose:cache', 'v');
    }
    await assert.rejects(kept.fetch(kept.storageIds[0]!, 'dispose:cache'), isClosed);
    assert.throws(() => kept.addServerGroup(`two = ${server.address}`), isClosed);
  });

  it('is the method under Symbol.asyncDispose, or Symbol.for("nodejs.asyncDispose") where the runtime has none', async () => {
    const key = (Symbol as { asyncDispose?: symbol }).asyncDispose ?? Symbol.for('nodejs.asyncDispose');
    const group = new Group([server.address]);
    const dispose = (group as unknown as Record<symbol, () => Promise<void>>)[key];
    assert.equal(typeof dispose, 'function');
    assert.equal(await dispose!.call(group), undefined);
    await assert.rejects(group.get('k'), isClosed);
    // On the prototype, not enumerable: inspection and spreading do not show it.
    assert.equal(Object.hasOwn(group, key), false);
    assert.equal(Object.getOwnPropertyDescriptor(Group.prototype, key)?.enumerable, false);
  });
});
