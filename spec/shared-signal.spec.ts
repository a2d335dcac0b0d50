// One request-scoped AbortSignal shared by many calls, against real memcached:
// one listener on the signal however many calls watch it (no
// MaxListenersExceededWarning), and aborting it rejects every one of them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { Group } from '../lib/index.js';
import { MemcachedServer } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';

// One server for both protocols: memcached answers both on one port.
let server: MemcachedServer;

before(async () => {
  server = await MemcachedServer.start();
});
after(async () => {
  server.signal('SIGCONT');
  await server.stop();
});

/** Runs `body`, then returns every process warning emitted meanwhile (warnings are emitted on a later tick). */
async function warningsDuring(body: () => Promise<void>): Promise<Error[]> {
  const seen: Error[] = [];
  const listener = (warning: Error): void => {
    seen.push(warning);
  };
  process.on('warning', listener);
  try {
    await body();
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

const keys = Array.from({ length: 50 }, (_, i) => `shared-signal:${i}`);

for (const protocol of PROTOCOLS) {
  describe(`one AbortSignal shared by many calls (${protocol})`, () => {
    let group: Group;
    before(() => {
      group = new Group([server.address], { protocol, timeout: 5000 });
    });
    after(async () => {
      server.signal('SIGCONT');
      await group.close();
    });

    it('50 concurrent gets with one signal: no warning, each its own value, no listener left after', async () => {
      await Promise.all(keys.map((k) => group.set(k, `value-of-${k}`)));
      const { signal } = new AbortController();
      for (let run = 0; run < 2; run++) {
        const warnings = await warningsDuring(async () => {
          const items = await Promise.all(keys.map((k) => group.get(k, { signal })));
          for (const [i, item] of items.entries()) assert.equal(item?.text, `value-of-${keys[i]}`);
        });
        assert.deepEqual(warnings.map((w) => `${w.name}: ${w.message}`), [], `run ${run}`);
        assert.equal(getEventListeners(signal, 'abort').length, 0, `run ${run}: listeners left on the signal`);
      }
    });

    it('every kind of call shares the one listener: gets, sets, getMulti, noop', async () => {
      const { signal } = new AbortController();
      const warnings = await warningsDuring(async () => {
        const calls: Promise<unknown>[] = [];
        for (let i = 0; i < 20; i++) {
          calls.push(group.set(keys[i]!, `value-of-${keys[i]}`, { signal }), group.get(keys[i]!, { signal }));
        }
        calls.push(group.getMulti(keys, { signal }), group.noop({ signal }), group.touch(keys[0]!, 0, { signal }));
        const pending = calls.length;
        assert.ok(getEventListeners(signal, 'abort').length <= 1, 'more than one listener while calls are in flight');
        await Promise.all(calls);
        assert.equal(pending, 43);
      });
      assert.deepEqual(warnings.map((w) => w.name), []);
      assert.equal(getEventListeners(signal, 'abort').length, 0);
    });

    it('aborting the shared signal mid-flight rejects all 50 with MC_ERR_ABORTED; the signal is left bare', async () => {
      const controller = new AbortController();
      const { signal } = controller;
      const warnings = await warningsDuring(async () => {
        await server.pause();
        const calls = keys.map((k) => group.get(k, { signal }));
        await new Promise((resolve) => setTimeout(resolve, 30));
        controller.abort(new Error('request ended'));
        const outcomes = await Promise.allSettled(calls);
        for (const outcome of outcomes) {
          assert.equal(outcome.status, 'rejected');
          assert.equal((outcome.reason as { code?: string }).code, 'MC_ERR_ABORTED');
          assert.equal(((outcome.reason as Error).cause as Error).message, 'request ended');
        }
        server.signal('SIGCONT');
      });
      assert.deepEqual(warnings.map((w) => w.name), []);
      assert.equal(getEventListeners(signal, 'abort').length, 0);
      // The connection is still good, and a call with the fired signal is refused at once.
      assert.equal((await group.get(keys[0]!))?.text, `value-of-${keys[0]}`);
      await assert.rejects(group.get(keys[0]!, { signal }), { code: 'MC_ERR_ABORTED' });
    });

    it('a call that settles leaves the others watching: aborting later rejects only the ones still in flight', async () => {
      const controller = new AbortController();
      const { signal } = controller;
      assert.equal((await group.get(keys[0]!, { signal }))?.text, `value-of-${keys[0]}`);
      await server.pause();
      const late = [group.get(keys[1]!, { signal }), group.get(keys[2]!, { signal })];
      await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort();
      for (const call of late) await assert.rejects(call, { code: 'MC_ERR_ABORTED' });
      server.signal('SIGCONT');
      assert.equal(getEventListeners(signal, 'abort').length, 0);
    });
  });
}

describe('one AbortSignal shared by calls waiting for the first cluster (discovery)', () => {
  it('12 gets and a getMulti wait on one listener; aborting rejects them all, with no warning and no listener left', async () => {
    // A configuration endpoint that never answers: the calls wait for the first cluster.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const group = new Group([`127.0.0.1:${(silent.address() as AddressInfo).port}`], { discovery: 'elasticache', timeout: 10_000 });
    const controller = new AbortController();
    const { signal } = controller;
    try {
      let outcomes: PromiseSettledResult<unknown>[] = [];
      const warnings = await warningsDuring(async () => {
        const calls: Promise<unknown>[] = keys.slice(0, 12).map((k) => group.get(k, { signal }));
        calls.push(group.getMulti(keys.slice(12, 20), { signal }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(getEventListeners(signal, 'abort').length, 1, 'one listener for every waiting call');
        controller.abort();
        outcomes = await Promise.allSettled(calls);
      });
      assert.equal(outcomes.length, 13);
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        assert.equal((outcome.reason as { code?: string }).code, 'MC_ERR_ABORTED');
      }
      assert.deepEqual(warnings.map((w) => w.name), []);
      assert.equal(getEventListeners(signal, 'abort').length, 0);
    } finally {
      await group.close();
      silent.close();
    }
  });
});
