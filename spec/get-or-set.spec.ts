// getOrSet against a real memcached: one load per key however many callers,
// in one process on every protocol, across clients on meta (leases).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Group, Item, MemcacheError } from '../lib/index.js';
import { MemcachedServer, freePort } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';

let counter = 0;
/** A key no other test uses. */
function fresh(prefix = 'gos'): string {
  return `${prefix}:${process.pid}:${counter++}`;
}

/** A promise the test opens when it chooses: holds a factory mid-load. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function rejection(promise: Promise<unknown>): Promise<MemcacheError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, String(error));
    return error as MemcacheError;
  }
  throw new Error('expected a rejection');
}

/** Waits until `check` holds, polling; fails after `ms` (a generous bound, never an assertion on speed). */
async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const protocol of PROTOCOLS) {
  describe(`getOrSet over ${protocol}`, () => {
    let server: MemcachedServer;
    let group: Group;

    before(async () => {
      server = await MemcachedServer.start();
      group = new Group([server.address], { protocol, timeout: 10_000 });
    });
    after(async () => {
      await group.close();
      await server.stop();
    });

    describe('a miss loads, a hit does not', () => {
      it('runs the factory on a miss, stores its value with expires and flags, and resolves to an Item', async () => {
        const key = fresh();
        const keys: string[] = [];
        const item = await group.getOrSet(key, (k) => (keys.push(k), 'loaded'), { expires: 60, flags: 42 });
        assert.ok(item instanceof Item);
        assert.equal(item.text, 'loaded');
        assert.equal(item.flags, 42);
        assert.deepEqual(keys, [key]);
        const stored = await group.get(key);
        assert.equal(stored?.text, 'loaded');
        assert.equal(stored?.flags, 42);
        if (protocol === 'meta') assert.equal(item.cas, stored!.cas, 'on meta the loaded Item carries the stored CAS');
        else assert.equal(item.cas, 0n, 'on binary the store CAS is not read back');
      });

      it('resolves a hit to the stored Item without calling the factory', async () => {
        const key = fresh();
        await group.set(key, new Uint8Array([1, 2, 3]), { flags: 7 });
        let runs = 0;
        const item = await group.getOrSet(key, () => (runs++, 'never'), { expires: 60 });
        assert.ok(item instanceof Item);
        assert.deepEqual([...item.value], [1, 2, 3]);
        assert.equal(item.flags, 7);
        assert.equal(runs, 0);
      });

      it('takes bytes from the factory as they are, and a promise of them', async () => {
        const key = fresh();
        const item = await group.getOrSet(key, async () => new Uint8Array([0, 255, 13, 10]), { expires: 60 });
        assert.deepEqual([...item.value], [0, 255, 13, 10]);
        assert.deepEqual([...(await group.get(key))!.value], [0, 255, 13, 10]);
      });

      it('loads an empty string as a value (a later call is a hit)', async () => {
        const key = fresh();
        let runs = 0;
        assert.equal((await group.getOrSet(key, () => (runs++, ''), { expires: 60 })).text, '');
        assert.equal((await group.getOrSet(key, () => (runs++, 'again'), { expires: 60 })).text, '');
        assert.equal(runs, 1);
      });
    });

    describe('concurrent calls in one process', () => {
      it('share one factory call, and every call gets its value (those whose request crossed the loader\'s, and those made during the load)', async () => {
        const key = fresh();
        const hold = gate();
        let runs = 0;
        const factory = async (): Promise<string> => {
          runs++;
          await hold.opened;
          return 'once';
        };
        // All sent in one turn, before any reply: each is its own request, and only one call loads.
        const calls = Array.from({ length: 20 }, () => group.getOrSet(key, factory, { expires: 60 }));
        await eventually(() => runs > 0);
        const late = group.getOrSet(key, factory, { expires: 60 });
        hold.open();
        const items = await Promise.all([...calls, late]);
        assert.equal(runs, 1);
        assert.deepEqual(items.map((i) => i.text), Array(21).fill('once'));
        // The load is over: a new call is a plain hit.
        assert.equal((await group.getOrSet(key, () => 'never', { expires: 60 })).text, 'once');
      });

      // Every call sends its own first request (a hit then costs what a get costs: no lookup of the key);
      // what concurrent calls share is the load.
      it('concurrent hits: one round trip per call, as get', async () => {
        const key = fresh();
        await group.set(key, 'hit');
        const hitsBefore = Number((await group.stats()).get(server.address)!['get_hits']);
        const items = await Promise.all(Array.from({ length: 10 }, () => group.getOrSet(key, () => 'never', { expires: 60 })));
        const hits = Number((await group.stats()).get(server.address)!['get_hits']) - hitsBefore;
        assert.deepEqual(items.map((i) => i.text), Array(10).fill('hit'));
        assert.equal(hits, 10);
      });

      it('a load in progress is still joined after 9,000 other keys loaded and left the list', async () => {
        const key = fresh();
        const hold = gate();
        let runs = 0;
        const first = group.getOrSet(key, async () => (runs++, await hold.opened, 'held'), { expires: 60 });
        await eventually(() => runs === 1);
        const others = await Promise.all(Array.from({ length: 9000 }, (_, i) => group.getOrSet(`${key}:other:${i}`, () => 'x', { expires: 60 })));
        assert.equal(others.length, 9000);
        const joined = group.getOrSet(key, () => (runs++, 'second load'), { expires: 60 });
        hold.open();
        assert.deepEqual([(await first).text, (await joined).text], ['held', 'held']);
        assert.equal(runs, 1);
      });

      it('start a new flight once the last one is over', async () => {
        const key = fresh();
        await group.getOrSet(key, () => 'first', { expires: 60 });
        await group.delete(key);
        assert.equal((await group.getOrSet(key, () => 'second', { expires: 60 })).text, 'second');
      });
    });

    describe('a factory that fails', () => {
      it('rejects the calls that shared it with its own error, and the next call loads again', async () => {
        const key = fresh();
        const boom = new Error('the database is down');
        const hold = gate();
        let runs = 0;
        const failing = async (): Promise<string> => {
          runs++;
          await hold.opened;
          throw boom;
        };
        const calls = Array.from({ length: 5 }, () => rejection(group.getOrSet(key, failing, { expires: 60 })));
        await eventually(() => runs > 0);
        hold.open();
        for (const error of await Promise.all(calls)) assert.equal(error, boom);
        assert.equal(runs, 1);
        assert.equal(await group.get(key).then((i) => (i === null || i.value.length === 0 ? null : i.text)), null, 'nothing stored');
        // Not blocked for lockFor: the next call wins and loads at once.
        assert.equal((await group.getOrSet(key, () => 'recovered', { expires: 60, timeout: 2000 })).text, 'recovered');
      });

      it('a value set cannot take (a number) rejects with MC_ERR_BAD_VALUE and releases the key', async () => {
        const key = fresh();
        const error = await rejection(group.getOrSet(key, () => 42 as never, { expires: 60 }));
        assert.equal((error as MemcacheError).code, 'MC_ERR_BAD_VALUE');
        assert.equal((await group.getOrSet(key, () => 'fine', { expires: 60, timeout: 2000 })).text, 'fine');
      });

      it('a factory that throws synchronously is a failure like any other', async () => {
        const key = fresh();
        const error = await rejection(
          group.getOrSet(key, () => {
            throw new TypeError('sync');
          }, { expires: 60 }),
        );
        assert.equal(error.message, 'sync');
        assert.equal((await group.getOrSet(key, () => 'next', { expires: 60, timeout: 2000 })).text, 'next');
      });
    });

    describe('signals', () => {
      it("one caller's signal rejects that caller only; the load goes on for the others", async () => {
        const key = fresh();
        const hold = gate();
        let runs = 0;
        const factory = async (): Promise<string> => {
          runs++;
          await hold.opened;
          return 'for the others';
        };
        const controller = new AbortController();
        const first = group.getOrSet(key, factory, { expires: 60, signal: controller.signal });
        const others = Array.from({ length: 3 }, () => group.getOrSet(key, factory, { expires: 60 }));
        const joined = group.getOrSet(key, factory, { expires: 60, signal: new AbortController().signal });
        await eventually(() => runs > 0);
        controller.abort();
        const error = (await rejection(first)) as MemcacheError;
        assert.equal(error.code, 'MC_ERR_ABORTED');
        hold.open();
        assert.deepEqual((await Promise.all([...others, joined])).map((i) => i.text), Array(4).fill('for the others'));
        assert.equal(runs, 1);
        assert.equal((await group.get(key))?.text, 'for the others');
      });

      it('a signal fired before the call rejects it with MC_ERR_ABORTED and loads nothing', async () => {
        const key = fresh();
        let runs = 0;
        const error = (await rejection(group.getOrSet(key, () => (runs++, 'no'), { expires: 60, signal: AbortSignal.abort() }))) as MemcacheError;
        assert.equal(error.code, 'MC_ERR_ABORTED');
        assert.equal(runs, 0);
        assert.equal(await group.get(key), null);
      });
    });

    describe('bad input', () => {
      const cases: [string, () => Promise<unknown>, string][] = [
        ['no options', () => group.getOrSet('k', () => 'v', undefined as never), 'MC_ERR_BAD_ARGUMENT'],
        ['no expires', () => group.getOrSet('k', () => 'v', {} as never), 'MC_ERR_BAD_ARGUMENT'],
        ['a negative expires', () => group.getOrSet('k', () => 'v', { expires: -1 }), 'MC_ERR_BAD_ARGUMENT'],
        ['a factory that is not a function', () => group.getOrSet('k', 'v' as never, { expires: 1 }), 'MC_ERR_BAD_ARGUMENT'],
        ['staleFor without an expiring value', () => group.getOrSet('k', () => 'v', { expires: 0, staleFor: 5 }), 'MC_ERR_BAD_ARGUMENT'],
        ['expires + staleFor over 30 days', () => group.getOrSet('k', () => 'v', { expires: 2_592_000, staleFor: 1 }), 'MC_ERR_BAD_ARGUMENT'],
        ['lockFor 0', () => group.getOrSet('k', () => 'v', { expires: 1, lockFor: 0 }), 'MC_ERR_BAD_ARGUMENT'],
        ['a fractional lockFor', () => group.getOrSet('k', () => 'v', { expires: 1, lockFor: 1.5 }), 'MC_ERR_BAD_ARGUMENT'],
        ['timeout 0', () => group.getOrSet('k', () => 'v', { expires: 1, timeout: 0 }), 'MC_ERR_BAD_ARGUMENT'],
        ['flags over 32 bits', () => group.getOrSet('k', () => 'v', { expires: 1, flags: 2 ** 32 }), 'MC_ERR_BAD_ARGUMENT'],
        ['a signal that is not one', () => group.getOrSet('k', () => 'v', { expires: 1, signal: {} as never }), 'MC_ERR_BAD_ARGUMENT'],
        ['a key with a space', () => group.getOrSet('a b', () => 'v', { expires: 1 }), 'MC_ERR_BAD_KEY'],
        ['an empty key', () => group.getOrSet('', () => 'v', { expires: 1 }), 'MC_ERR_BAD_KEY'],
        ['a key that is not a string', () => group.getOrSet(5 as never, () => 'v', { expires: 1 }), 'MC_ERR_BAD_KEY'],
      ];
      for (const [what, call, code] of cases) {
        it(`${what}: ${code}, factory not called`, async () => {
          const error = (await rejection(call())) as MemcacheError;
          assert.ok(error instanceof MemcacheError, String(error));
          assert.equal(error.code, code, error.message);
        });
      }

      it('a joining call with bad options is refused too, and the flight it would have joined is untouched', async () => {
        const key = fresh();
        const hold = gate();
        let runs = 0;
        const first = group.getOrSet(key, async () => (runs++, await hold.opened, 'v'), { expires: 60 });
        const error = (await rejection(group.getOrSet(key, () => 'w', { expires: -5 }))) as MemcacheError;
        assert.equal(error.code, 'MC_ERR_BAD_ARGUMENT');
        await eventually(() => runs > 0);
        hold.open();
        assert.equal((await first).text, 'v');
        assert.equal(runs, 1);
      });

      it('nothing reaches the server for refused calls (no key created, no get counted)', async () => {
        const before = (await group.stats()).get(server.address)!;
        for (const [, call] of cases) await call().catch(() => undefined);
        const afterward = (await group.stats()).get(server.address)!;
        assert.equal(afterward['cmd_get'], before['cmd_get']);
        assert.equal(afterward['cmd_set'], before['cmd_set']);
        assert.equal(await group.get('k'), null);
      });

      it('a closed group rejects with MC_ERR_CLIENT_CLOSED and loads nothing', async () => {
        const closed = new Group([server.address], { protocol });
        await closed.close();
        let runs = 0;
        const error = (await rejection(closed.getOrSet(fresh(), () => (runs++, 'v'), { expires: 60 }))) as MemcacheError;
        assert.equal(error.code, 'MC_ERR_CLIENT_CLOSED');
        assert.equal(runs, 0);
      });
    });
  });
}

describe('getOrSet across clients (meta leases)', () => {
  let server: MemcachedServer;
  let groups: Group[];

  before(async () => {
    server = await MemcachedServer.start();
    // Separate Groups: separate connections, as separate processes would have (spec/get-or-set-processes.spec.ts runs real ones).
    groups = Array.from({ length: 5 }, () => new Group([server.address], { timeout: 10_000 }));
  });
  after(async () => {
    await Promise.all(groups.map((g) => g.close()));
    await server.stop();
  });

  it('5 clients × 5 concurrent calls on a missing key: the factory runs once, all 25 get its value', async () => {
    const key = fresh('race');
    const hold = gate();
    let runs = 0;
    const factory = async (): Promise<string> => {
      runs++;
      await hold.opened;
      return 'the one load';
    };
    const calls = groups.flatMap((g) => Array.from({ length: 5 }, () => g.getOrSet(key, factory, { expires: 60 })));
    await eventually(() => runs > 0);
    // Let every client's lease reach the server before the load ends (each client then has its answer: W or Z).
    await groups[4]!.noop();
    hold.open();
    const items = await Promise.all(calls);
    assert.equal(runs, 1);
    assert.deepEqual(items.map((i) => i.text), Array(25).fill('the one load'));
  });

  it('a late winner does not overwrite newer data: its store is refused, its callers get what it loaded', async () => {
    const key = fresh('late');
    const [slow, other] = groups;
    const hold = gate();
    let runs = 0;
    const loading = slow!.getOrSet(key, async () => (runs++, await hold.opened, 'old load'), { expires: 60 });
    await eventually(() => runs > 0);
    // Newer data arrives by another way (a plain set replaces the stub: its CAS is no longer the lease's).
    await other!.set(key, 'newer');
    hold.open();
    const item = await loading;
    assert.equal(item.text, 'old load');
    assert.equal(item.cas, 0n, 'not stored: no CAS');
    assert.equal((await other!.get(key))?.text, 'newer');
  });

  it('a factory that throws releases the win: another client loads at once instead of waiting for lockFor', async () => {
    const key = fresh('release');
    const [first, second] = groups;
    const hold = gate();
    let runs = 0;
    const failing = first!.getOrSet(key, async () => (runs++, await hold.opened, Promise.reject(new Error('load failed'))), {
      expires: 60,
      lockFor: 600,
    });
    await eventually(() => runs > 0);
    // The second client sees the stub (Z) and waits; timeout well under lockFor.
    const waiting = second!.getOrSet(key, () => (runs++, 'second load'), { expires: 60, lockFor: 600, timeout: 8000 });
    hold.open();
    assert.equal((await rejection(failing)).message, 'load failed');
    assert.equal((await waiting).text, 'second load');
    assert.equal(runs, 2);
  });

  it('a waiting caller rejects with MC_ERR_TIMEOUT after its timeout while the winner still loads', async () => {
    const key = fresh('wait');
    const [winner, waiter] = groups;
    const hold = gate();
    let runs = 0;
    const loading = winner!.getOrSet(key, async () => (runs++, await hold.opened, 'eventually'), { expires: 60 });
    await eventually(() => runs > 0);
    const error = (await rejection(waiter!.getOrSet(key, () => (runs++, 'no'), { expires: 60, timeout: 100 }))) as MemcacheError;
    assert.equal(error.code, 'MC_ERR_TIMEOUT');
    assert.match(error.message, /another client/);
    hold.open();
    assert.equal((await loading).text, 'eventually');
    assert.equal(runs, 1);
  });

  it('a winner that never stores holds the key for lockFor only: then a waiting client wins and loads', async () => {
    const key = fresh('dead');
    const [dead, next] = groups;
    const hold = gate();
    let runs = 0;
    const stuck = dead!.getOrSet(key, async () => (runs++, await hold.opened, 'too late'), { expires: 60, lockFor: 1 });
    await eventually(() => runs > 0);
    // memcached counts whole seconds: the 1 s stub goes within 2 s; the waiter then wins a poll.
    const item = await next!.getOrSet(key, () => (runs++, 'taken over'), { expires: 60, lockFor: 1, timeout: 8000 });
    assert.equal(item.text, 'taken over');
    assert.equal(runs, 2);
    hold.open();
    const late = await stuck;
    assert.equal(late.text, 'too late');
    assert.equal(late.cas, 0n, "the dead winner's store is refused");
    assert.equal((await next!.get(key))?.text, 'taken over');
  });

  it('staleFor: a value within staleFor of its end is reloaded by one caller while the others get it at once', async () => {
    const key = fresh('soft');
    const [a, b] = groups;
    // 5 s left to live, staleFor 60: the value is past its freshness, so the next lease wins the reload (mg R).
    await a!.set(key, 'aging', { expires: 5 });
    const hold = gate();
    let runs = 0;
    const factory = async (): Promise<string> => {
      runs++;
      await hold.opened;
      return 'refreshed';
    };
    const reloading = a!.getOrSet(key, factory, { expires: 60, staleFor: 60 });
    await eventually(() => runs > 0);
    // Another client and a joiner in the reloading one get the aging value without waiting for the load.
    const [other, joiner] = await Promise.all([
      b!.getOrSet(key, factory, { expires: 60, staleFor: 60 }),
      a!.getOrSet(key, factory, { expires: 60, staleFor: 60 }),
    ]);
    assert.equal(other.text, 'aging');
    assert.equal(joiner.text, 'aging');
    hold.open();
    assert.equal((await reloading).text, 'refreshed');
    assert.equal(runs, 1);
    assert.equal((await b!.get(key))?.text, 'refreshed');
  });
});

for (const protocol of PROTOCOLS) {
  describe(`getOrSet with a transcoder (json) over ${protocol}`, () => {
    let server: MemcachedServer;
    let group: Group<'json'>;

    before(async () => {
      server = await MemcachedServer.start();
      group = new Group([server.address], { protocol, transcoder: 'json' });
    });
    after(async () => {
      await group.close();
      await server.stop();
    });

    it('stores what the factory returns through the transcoder; the Item carries it as data, on a load and on a hit', async () => {
      const key = fresh('json');
      let runs = 0;
      const loadedItem = await group.getOrSet(key, () => (runs++, { user: 'ann', visits: 3 }), { expires: 60 });
      assert.deepEqual(loadedItem.data, { user: 'ann', visits: 3 });
      const hit = await group.getOrSet(key, () => (runs++, { user: 'never' }), { expires: 60 });
      assert.deepEqual(hit.data, { user: 'ann', visits: 3 });
      assert.deepEqual((await group.get(key))?.data, { user: 'ann', visits: 3 });
      assert.equal(hit.flags, loadedItem.flags, 'the flags the transcoder chose, the same either way');
      assert.equal(runs, 1);
    });

    it('refuses flags (the transcoder sets them) before sending anything', async () => {
      const key = fresh('json');
      const error = (await rejection(group.getOrSet(key, () => 1, { expires: 60, flags: 3 } as never))) as MemcacheError;
      assert.equal(error.code, 'MC_ERR_BAD_ARGUMENT');
      assert.equal(await group.get(key), null);
    });

    it('a value the transcoder cannot encode rejects with MC_ERR_BAD_VALUE and releases the key', async () => {
      const key = fresh('json');
      const error = (await rejection(group.getOrSet(key, () => 10n as never, { expires: 60 }))) as MemcacheError;
      assert.equal(error.code, 'MC_ERR_BAD_VALUE');
      assert.deepEqual((await group.getOrSet(key, () => [1, 2], { expires: 60, timeout: 2000 })).data, [1, 2]);
    });
  });
}

for (const protocol of PROTOCOLS) {
  for (const callerStacks of [true, false]) {
    describe(`getOrSet when the server fails, over ${protocol} (callerStacks ${callerStacks})`, () => {
      it('a refused connection rejects every caller sharing the flight with MC_ERR_CONNECT, the factory never called', async () => {
        const group = new Group([`127.0.0.1:${await freePort()}`], { protocol, callerStacks, timeout: 5000 });
        try {
          let runs = 0;
          const calls = Array.from({ length: 3 }, () => rejection(group.getOrSet('k', () => (runs++, 'v'), { expires: 60 })));
          for (const error of await Promise.all(calls)) {
            assert.ok(error instanceof MemcacheError, String(error));
            assert.ok(['MC_ERR_CONNECT', 'MC_ERR_SERVER_DOWN'].includes(error.code), error.code);
          }
          // The next call is a new flight, and fails the same way rather than hanging.
          const again = await rejection(group.getOrSet('k', () => (runs++, 'v'), { expires: 60 }));
          assert.ok(['MC_ERR_CONNECT', 'MC_ERR_SERVER_DOWN'].includes(again.code), again.code);
          assert.equal(runs, 0);
        } finally {
          await group.close();
        }
      });

      it('a server that stops answering: MC_ERR_TIMEOUT for the callers, and a later call works once it answers again', async () => {
        const server = await MemcachedServer.start();
        const group = new Group([server.address], { protocol, callerStacks, timeout: 300, retryDelay: 50 });
        try {
          await group.noop();
          await server.pause();
          let runs = 0;
          // lockFor 1: a lease the stalled server still answers (to a closed connection) leaves a win no one holds.
          const calls = Array.from({ length: 3 }, () => rejection(group.getOrSet('stalled', () => (runs++, 'v'), { expires: 60, lockFor: 1 })));
          for (const error of await Promise.all(calls)) assert.equal(error.code, 'MC_ERR_TIMEOUT', error.message);
          server.signal('SIGCONT');
          let item: Item | null = null;
          const deadline = Date.now() + 10_000;
          while (item === null) {
            item = await group.getOrSet('stalled', () => (runs++, 'after'), { expires: 60, lockFor: 1 }).catch(() => null);
            if (item === null) {
              assert.ok(Date.now() < deadline, 'the group did not recover');
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
          }
          assert.equal(item.text, 'after');
          assert.equal(runs, 1);
        } finally {
          server.signal('SIGCONT');
          await group.close();
          await server.stop();
        }
      });
    });
  }
}
