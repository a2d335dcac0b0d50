// The meta codec against a real memcached 1.6.18, over a plain socket and the
// spec's FIFO (harness.ts): what the server decides, checked against the server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Verb, type Command } from '../../../lib/command.js';
import { ErrorCode, MemcacheError } from '../../../lib/errors.js';
import type { Item } from '../../../lib/item.js';
import { MetaCodec, metaCodec } from '../../../lib/protocol/meta/codec.js';
import { Status } from '../../../lib/protocol/status.js';
import { MemcachedServer } from '../../support/memcached.js';
import { CodecHarness } from './harness.js';

let counter = 0;
const fresh = (prefix = 'meta'): string => `${prefix}:${process.pid}:${counter++}`;
const key = (k: string) => (c: Command) => void (c.key = k);
const store = (k: string, value: string | Uint8Array, flags = 0, cas = 0n) => (c: Command) => {
  c.key = k;
  c.value = value;
  c.flags = flags;
  c.casHi = Number(cas >> 32n);
  c.casLo = Number(cas & 0xffffffffn);
};

async function rejects(promise: Promise<unknown>, code: ErrorCode, status?: number): Promise<MemcacheError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MemcacheError, String(error));
    assert.equal(error.code, code, error.message);
    if (status !== undefined) assert.equal(error.status, status, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

/** Every verb's behaviour on one server started with `args`. */
function verbs(title: string, args: string[]): void {
  describe(`meta codec against memcached ${args.join(' ') || '(defaults)'}: ${title}`, () => {
    let server: MemcachedServer;
    let mc: CodecHarness;
    before(async () => {
      server = await MemcachedServer.start({ args });
      // A client limit above the server's 1 MiB, so the server is the one to refuse.
      mc = new CodecHarness(metaCodec, { server: server.address, maxValueSize: 4 * 1024 * 1024 });
      await mc.connect(server.port);
    });
    after(async () => {
      mc.close();
      await server.stop();
    });

    it('set then get: the value, its flags and a CAS', async () => {
      const k = fresh();
      assert.equal(await mc.run(Verb.Set, store(k, 'hello', 42)), true);
      const item = await mc.run<Item>(Verb.Get, key(k));
      assert.equal(item.text, 'hello');
      assert.equal(item.flags, 42);
      assert.ok(item.cas > 0n);
    });

    it('get of a missing key is null; binary values round-trip', async () => {
      assert.equal(await mc.run(Verb.Get, key(fresh())), null);
      const k = fresh();
      const bytes = new Uint8Array(256).map((_, i) => i);
      assert.equal(await mc.run(Verb.Set, store(k, bytes, 0xffffffff)), true);
      const item = await mc.run<Item>(Verb.Get, key(k));
      assert.deepEqual(item.value, bytes);
      assert.equal(item.flags, 0xffffffff);
    });

    it('gat returns the item and touch says whether the key exists', async () => {
      const k = fresh();
      await mc.run(Verb.Set, store(k, 'x'));
      const item = await mc.run<Item>(Verb.GetAndTouch, (c) => ((c.key = k), (c.expires = 100)));
      assert.equal(item.text, 'x');
      assert.equal(await mc.run(Verb.GetAndTouch, (c) => ((c.key = fresh()), (c.expires = 100))), null);
      assert.equal(await mc.run(Verb.Touch, (c) => ((c.key = k), (c.expires = 100))), true);
      assert.equal(await mc.run(Verb.Touch, (c) => ((c.key = fresh()), (c.expires = 100))), false);
    });

    it('add on an existing key, replace and append on a missing one: false', async () => {
      const k = fresh();
      assert.equal(await mc.run(Verb.Add, store(k, 'a')), true);
      assert.equal(await mc.run(Verb.Add, store(k, 'b')), false);
      assert.equal(await mc.run(Verb.Replace, store(fresh(), 'c')), false);
      assert.equal(await mc.run(Verb.Replace, store(k, 'c')), true);
      assert.equal(await mc.run(Verb.Append, store(fresh(), 'z')), false);
      assert.equal(await mc.run(Verb.Prepend, store(fresh(), 'z')), false);
      assert.equal(await mc.run(Verb.Append, store(k, '>')), true);
      assert.equal(await mc.run(Verb.Prepend, store(k, '<')), true);
      assert.equal((await mc.run<Item>(Verb.Get, key(k))).text, '<c>');
    });

    it('a CAS condition: the current token stores, a stale one is false, on a missing key false', async () => {
      const k = fresh();
      await mc.run(Verb.Set, store(k, 'v1'));
      const first = await mc.run<Item>(Verb.Get, key(k));
      assert.equal(await mc.run(Verb.Set, store(k, 'v2', 0, first.cas)), true);
      assert.equal(await mc.run(Verb.Set, store(k, 'v3', 0, first.cas)), false);
      assert.equal((await mc.run<Item>(Verb.Get, key(k))).text, 'v2');
      assert.equal(await mc.run(Verb.Set, store(fresh(), 'v', 0, first.cas)), false);
    });

    it('delete: true, then false; with a stale CAS false', async () => {
      const k = fresh();
      await mc.run(Verb.Set, store(k, 'v'));
      const item = await mc.run<Item>(Verb.Get, key(k));
      await mc.run(Verb.Set, store(k, 'w'));
      assert.equal(await mc.run(Verb.Delete, (c) => ((c.key = k), (c.casHi = 0), (c.casLo = Number(item.cas)))), false);
      assert.equal(await mc.run(Verb.Delete, key(k)), true);
      assert.equal(await mc.run(Verb.Delete, key(k)), false);
    });

    it('incr/decr: a miss is null, create gives the initial value (as binary does), then counts; decr stops at 0', async () => {
      const k = fresh();
      assert.equal(await mc.run(Verb.Increment, (c) => ((c.key = k), (c.delta = 1))), null);
      const create = (delta: number | bigint, initial: number | bigint) => (c: Command) => {
        c.key = k;
        c.delta = delta;
        c.create = true;
        c.initial = initial;
      };
      assert.equal(await mc.run(Verb.Increment, create(5, 10)), 10n);
      assert.equal(await mc.run(Verb.Increment, create(5, 10)), 15n);
      assert.equal(await mc.run(Verb.Decrement, create(100, 10)), 0n);
      const big = fresh();
      const max = 2n ** 64n - 1n;
      assert.equal(await mc.run(Verb.Increment, (c) => ((c.key = big), (c.delta = 1), (c.create = true), (c.initial = max))), max);
      assert.equal(await mc.run(Verb.Increment, (c) => ((c.key = big), (c.delta = 2))), 1n);
    });

    it('incr on a value that is not a number: MC_ERR_NOT_NUMERIC, status 0x06, the connection stays', async () => {
      const k = fresh();
      await mc.run(Verb.Set, store(k, 'abc'));
      await rejects(mc.run(Verb.Increment, (c) => ((c.key = k), (c.delta = 1))), ErrorCode.NOT_NUMERIC, Status.NonNumeric);
      assert.equal(await mc.run(Verb.Noop), undefined);
    });

    it('a value over the server item limit: MC_ERR_VALUE_TOO_LARGE, status 0x03, the connection stays', async () => {
      const k = fresh();
      await rejects(mc.run(Verb.Set, store(k, new Uint8Array(1024 * 1024 + 1))), ErrorCode.VALUE_TOO_LARGE, Status.ValueTooLarge);
      assert.equal(await mc.run(Verb.Set, store(k, 'ok')), true);
    });

    it('a value as large as the server takes, in many reads, arrives intact', async () => {
      const k = fresh();
      const value = new Uint8Array(1000 * 1000).map((_, i) => (i * 31) & 0xff);
      assert.equal(await mc.run(Verb.Set, store(k, value)), true);
      assert.deepEqual((await mc.run<Item>(Verb.Get, key(k))).value, value);
    });

    it('getMulti: hits by their O index, misses absent', async () => {
      const keys = [fresh(), fresh(), fresh(), fresh(), fresh()];
      await mc.run(Verb.Set, store(keys[1]!, 'one', 1));
      await mc.run(Verb.Set, store(keys[3]!, new Uint8Array(200_000).fill(3), 3));
      const result = new Map<string, Item>();
      const out = await mc.run<Map<string, Item>>(Verb.GetMulti, (c) => ((c.keys = keys), (c.result = result)));
      assert.equal(out, result);
      assert.deepEqual([...out.keys()].sort(), [keys[1], keys[3]].sort());
      assert.equal(out.get(keys[1]!)!.text, 'one');
      assert.equal(out.get(keys[3]!)!.value.length, 200_000);
      assert.equal(out.get(keys[3]!)!.flags, 3);
      const none = await mc.run<Map<string, Item>>(Verb.GetMulti, (c) => ((c.keys = [fresh()]), (c.result = new Map())));
      assert.equal(none.size, 0);
    });

    it('stats, stats <group>, version, flush_all and noop', async () => {
      const stats = await mc.run<Record<string, string>>(Verb.Stats);
      assert.equal(Object.getPrototypeOf(stats), null);
      assert.equal(stats['version'], '1.6.18');
      assert.match(stats['pid']!, /^\d+$/);
      const settings = await mc.run<Record<string, string>>(Verb.Stats, key('settings'));
      assert.ok('maxbytes' in settings);
      await rejects(mc.run(Verb.Stats, key('nonsense')), ErrorCode.SERVER, Status.UnknownCommand);
      assert.equal(await mc.run(Verb.Version), '1.6.18');
      const k = fresh();
      await mc.run(Verb.Set, store(k, 'v'));
      assert.equal(await mc.run(Verb.Flush), undefined);
      assert.equal(await mc.run(Verb.Get, key(k)), null);
      assert.equal(await mc.run(Verb.Flush, (c) => (c.expires = 100)), undefined);
      assert.equal(await mc.run(Verb.Noop), undefined);
      assert.equal(mc.failure, null);
    });

    it('many commands in flight at once settle in order', async () => {
      const k = fresh();
      const all = [];
      for (let i = 0; i < 300; i++) {
        all.push(mc.run(Verb.Set, store(`${k}:${i}`, `v${i}`)));
        all.push(mc.run(Verb.Get, key(`${k}:${i}`)));
      }
      const out = await Promise.all(all);
      for (let i = 0; i < 300; i++) assert.equal((out[2 * i + 1] as Item).text, `v${i}`);
    });
  });
}

verbs('every verb', []);
verbs('binary disabled, meta still works', ['-B', 'ascii']);

describe('meta codec against memcached -Y (text authentication)', () => {
  const user = { username: 'alice', password: 'correct-horse' };
  let server: MemcachedServer;
  before(async () => {
    server = await MemcachedServer.start({ authFile: user });
  });
  after(async () => {
    await server.stop();
  });

  it('the right password: STORED, commands wait for it and then work', async () => {
    const mc = new CodecHarness(metaCodec, { server: server.address, sasl: user });
    await mc.connect(server.port);
    assert.equal(mc.codec.awaitingHandshake, true);
    const k = fresh();
    assert.equal(await mc.run(Verb.Set, store(k, 'secret-free')), true);
    assert.equal((await mc.run<Item>(Verb.Get, key(k))).text, 'secret-free');
    assert.equal(mc.failure, null);
    mc.close();
  });

  it('a wrong password: MC_ERR_AUTH naming the user, never the password', async () => {
    const mc = new CodecHarness(metaCodec, { server: server.address, sasl: { username: 'alice', password: 'Tr0ub4dor-wrong' } });
    await mc.connect(server.port);
    const error = await rejects(mc.run(Verb.Get, key(fresh())), ErrorCode.AUTH, Status.AuthError);
    assert.match(error.message, /alice/);
    assert.doesNotMatch(error.message, /Tr0ub4dor/);
    assert.doesNotMatch(String(error.stack), /Tr0ub4dor/);
    assert.equal(mc.failure, error);
  });

  it('no credentials: each command fails with MC_ERR_AUTH (0x20) saying authentication is required', async () => {
    const mc = new CodecHarness(metaCodec, { server: server.address });
    await mc.connect(server.port);
    assert.equal(mc.codec.awaitingHandshake, false);
    const error = await rejects(mc.run(Verb.Get, key(fresh())), ErrorCode.AUTH, Status.AuthError);
    assert.match(error.message, /requires authentication/);
    mc.close();
  });
});

describe('meta codec against memcached -S (binary SASL only)', () => {
  let server: MemcachedServer;
  before(async () => {
    server = await MemcachedServer.start({ sasl: { username: 'bob', password: 'pw' } });
  });
  after(async () => {
    await server.stop();
  });

  it('the server closes the connection without a byte once 24 bytes arrive; the codec says to use binary', async () => {
    const mc = new CodecHarness(metaCodec, { server: server.address });
    await mc.connect(server.port);
    const pending = mc.run(Verb.Get, key('a-key-long-enough-for-24-bytes'));
    await assert.rejects(pending);
    await mc.closed;
    const hint = (mc.codec as MetaCodec).silenceHint();
    assert.ok(hint !== null);
    assert.match(hint, /-S/);
    assert.match(hint, /protocol: 'binary'/);
  });
});
