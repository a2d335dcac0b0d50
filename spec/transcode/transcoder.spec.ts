// The transcoder option: checked when the Group is built, run where each
// call settles (a decoder that throws fails its own call, not the
// connection), the default (raw) unchanged, 'json' and 'kamailio', CacheAPI
// with a transcoder, and what the types accept.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CacheAPI,
  DecodeError,
  ErrorCode,
  GetMultiDecodeError,
  Group,
  JsonTranscoder,
  PhpTranscoder,
  PythonTranscoder,
  type Item,
  type Transcoder,
} from '../../lib/index.js';
import { MemcachedServer } from '../support/memcached.js';
import { serverFixture } from '../support/server-fixture.js';
import { PROTOCOLS } from '../support/protocols.js';
import { php } from './peers.js';

/** Numbers as decimal text with flag 77; any other flag fails to decode. */
const decimal: Transcoder<number, number> = {
  encode: (value) => ({ value: String(value), flags: 77 }),
  decode(bytes, flags) {
    if (flags !== 77) throw new TypeError('not a decimal');
    return Number(new TextDecoder().decode(bytes));
  },
};

/** The same, decoding asynchronously (as the zlib transcoders do under Workers). */
const lateDecimal: Transcoder<number, number> = {
  encode: decimal.encode,
  decode: (bytes, flags) => Promise.resolve().then(() => decimal.decode(bytes, flags) as number),
};

describe('the transcoder option is checked when the Group is built', () => {
  it('an unknown name, or an object without encode and decode, is MC_ERR_BAD_CONFIG', () => {
    assert.throws(() => new Group('127.0.0.1:1', { transcoder: 'perl' as never }), { code: ErrorCode.BAD_CONFIG, message: /unknown transcoder "perl"/ });
    assert.throws(() => new Group('127.0.0.1:1', { transcoder: { encode: decimal.encode } as never }), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => new Group('127.0.0.1:1', { transcoder: 42 as never }), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => new CacheAPI(['a = 127.0.0.1:1'], { transcoder: 'nope' as never }), { code: ErrorCode.BAD_CONFIG });
  });

  it("the built-ins' options are checked too", () => {
    assert.throws(() => new PhpTranscoder({ compression: 'lz4' as never }), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => new PhpTranscoder({ threshold: 0 }), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => new JsonTranscoder({ threshold: 1.5 }), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => new PythonTranscoder({ threshold: -1 }), { code: ErrorCode.BAD_CONFIG });
    assert.doesNotThrow(() => new PhpTranscoder({ compression: 'fastlz', threshold: Infinity }));
  });
});

for (const protocol of PROTOCOLS) {
  describe(`transcoders over ${protocol}`, () => {
    let server: MemcachedServer;
    let raw: Group;
    before(async () => {
      server = await MemcachedServer.start();
      raw = new Group(server.address, { protocol });
    });
    after(async () => {
      await raw.close();
      await server.stop();
    });

    it('the default keeps the bytes: data is the value itself, flags are the caller\'s', async () => {
      await raw.set('raw:x', 'héllo', { flags: 12 });
      const item = (await raw.get('raw:x'))!;
      assert.equal(item.data, item.value);
      assert.ok(item.data instanceof Uint8Array);
      assert.equal(item.flags, 12);
      assert.equal(item.text, 'héllo');
      const explicit = new Group(server.address, { protocol, transcoder: 'raw' });
      try {
        const same = (await explicit.get('raw:x'))!;
        assert.equal(same.data, same.value);
      } finally {
        await explicit.close();
      }
    });

    it('a custom transcoder encodes on set/add/replace/cas and decodes on get, gat and getMulti', async () => {
      for (const transcoder of [decimal, lateDecimal]) {
        const group = new Group(server.address, { protocol, transcoder });
        try {
          assert.equal(await group.set('custom:a', 1.25), true);
          assert.equal(await group.add('custom:a', 2), false);
          assert.equal(await group.replace('custom:a', 2.5), true);
          const item = (await group.get('custom:a'))!;
          const typed: number = item.data;
          assert.equal(typed, 2.5);
          assert.equal(item.flags, 77);
          assert.equal(await group.cas('custom:a', 3, item.cas), true);
          assert.equal((await group.gat('custom:a', 100))!.data, 3);
          await group.set('custom:b', 4);
          const found = await group.getMulti(['custom:a', 'custom:b', 'custom:none']);
          assert.deepEqual([...found].map(([k, v]) => [k, v.data]).sort(), [['custom:a', 3], ['custom:b', 4]]);
          assert.equal(await group.get('custom:none'), null);
        } finally {
          await group.close();
        }
      }
    });

    it('a decoder that throws fails its own call with MC_ERR_DECODE; calls in flight on the same connection succeed', async () => {
      for (const transcoder of [decimal, lateDecimal]) {
        const group = new Group(server.address, { protocol, transcoder });
        try {
          await raw.set('bad:1', 'not mine', { flags: 3 });
          await group.set('good:1', 9);
          const calls = [group.get('good:1'), group.get('bad:1'), group.get('good:1')];
          const results = await Promise.allSettled(calls);
          for (const at of [0, 2]) {
            const result = results[at]!;
            assert.ok(result.status === 'fulfilled');
            assert.equal(result.value!.data, 9);
          }
          const bad = results[1]!;
          assert.ok(bad.status === 'rejected');
          const error = bad.reason as DecodeError;
          assert.ok(error instanceof DecodeError);
          assert.equal(error.code, ErrorCode.DECODE);
          assert.equal(error.key, 'bad:1');
          assert.equal(error.flags, 3);
          assert.deepEqual(error.bytes, new TextEncoder().encode('not mine'));
          assert.ok(error.cause instanceof TypeError);
          // The message names the flags, never the value.
          assert.doesNotMatch(error.message, /not mine/);
          await assert.rejects(group.getMulti(['good:1', 'bad:1']), (e: unknown) => {
            assert.ok(e instanceof GetMultiDecodeError);
            assert.deepEqual([...e.items.keys()], ['good:1']);
            assert.deepEqual([...e.failures.keys()], ['bad:1']);
            return true;
          });
          assert.equal((await group.get('good:1'))!.data, 9);
        } finally {
          await group.close();
        }
      }
    });

    it('an encoder that throws stores nothing: its error if a MemcacheError, else MC_ERR_BAD_VALUE with it as the cause', async () => {
      const failing = new Group(server.address, {
        protocol,
        transcoder: {
          encode: (value: string): never => {
            throw new RangeError(`no ${value.length}`);
          },
          decode: () => 'x',
        },
      });
      const undefinedDecoder = new Group(server.address, { protocol, transcoder: { encode: (v: string) => ({ value: v, flags: 0 }), decode: () => undefined } });
      try {
        await assert.rejects(failing.set('enc:1', 'abc'), (e: unknown) => {
          assert.ok(e instanceof Error && 'code' in e && e.code === ErrorCode.BAD_VALUE);
          assert.ok(e.cause instanceof RangeError);
          return true;
        });
        assert.equal(await raw.get('enc:1'), null);
        await undefinedDecoder.set('enc:2', 'abc');
        await assert.rejects(undefinedDecoder.get('enc:2'), { code: ErrorCode.DECODE });
      } finally {
        await failing.close();
        await undefinedDecoder.close();
      }
    });

    it("'json': any JSON value with flag 6, compressed in PHP's layout above 2000 bytes", async () => {
      const group = new Group(server.address, { protocol, transcoder: 'json' });
      try {
        const values = [null, true, 0, -1.5, 'text', [1, [2, { a: 'b' }]], { nested: { list: [null, false] } }];
        for (const [i, value] of values.entries()) {
          await group.set(`json:${i}`, value);
          assert.equal((await raw.get(`json:${i}`))!.flags, 6);
          assert.deepEqual((await group.get(`json:${i}`))!.data, value);
        }
        const big = { rows: Array.from({ length: 300 }, (_, i) => ({ id: i, label: 'row' })) };
        await group.set('json:big', big);
        assert.equal((await raw.get('json:big'))!.flags, 0x36);
        assert.deepEqual((await group.get('json:big'))!.data, big);
        // JSON text stored as a plain string (flag 0) reads too; another flag does not.
        await raw.set('json:plain', '{"a":1}');
        assert.deepEqual((await group.get('json:plain'))!.data, { a: 1 });
        await raw.set('json:other', '{"a":1}', { flags: 1 });
        await assert.rejects(group.get('json:other'), { code: ErrorCode.DECODE });
        await assert.rejects(group.set('json:bigint', 1n as never), { code: ErrorCode.BAD_VALUE });
      } finally {
        await group.close();
      }
    });
  });
}

describe("'json' values read by php-memcached", () => {
  let server: MemcachedServer;
  before(async () => {
    server = await MemcachedServer.start();
  });
  after(() => server.stop());

  it('with its JSON serializer (objects as stdClass) and JSON_ARRAY (as arrays), compressed or not', async () => {
    const group = new Group(server.address, { transcoder: 'json' });
    const fastlz = new Group(server.address, { transcoder: new JsonTranscoder({ compression: 'fastlz' }) });
    const big = { rows: Array.from({ length: 300 }, (_, i) => ({ id: i, label: 'row' })) };
    try {
      await group.set('json:small', { a: [1, 'b', null] });
      await group.set('json:big', big);
      await fastlz.set('json:fastlz', big);
    } finally {
      await group.close();
      await fastlz.close();
    }
    const keys = ['json:small', 'json:big', 'json:fastlz'];
    const asObjects = php({ server: server.address, serializer: 'json', read: keys });
    assert.deepEqual(asObjects['json:small'], { t: 'object', class: 'stdClass', v: '{"a":[1,"b",null]}' });
    assert.deepEqual(JSON.parse(asObjects['json:big']!.v as string), big);
    assert.deepEqual(JSON.parse(asObjects['json:fastlz']!.v as string), big);
    const asArrays = php({ server: server.address, serializer: 'json_array', read: keys });
    assert.deepEqual(asArrays['json:small'], { t: 'array', v: '{"a":[1,"b",null]}' });
  });
});

describe('CacheAPI with a transcoder', () => {
  const fx = serverFixture();

  it("'kamailio' stores strings with flags 1, as Kamailio's memcached module does, and fetches them", async () => {
    const cache = new CacheAPI([`kam = ${fx.server.address}`], { transcoder: 'kamailio' });
    try {
      const id = cache.storageIds[0]!;
      await cache.store(id, 'location:alice', 'sip:alice@127.0.0.1');
      const item = (await fx.raw.get('location:alice'))!;
      assert.equal(item.flags, 1);
      assert.equal(item.text, 'sip:alice@127.0.0.1');
      assert.equal(await cache.fetch(id, 'location:alice'), 'sip:alice@127.0.0.1');
      // Integers (flag 0) and any other flags read as their text.
      await fx.raw.set('kam:n', '12', { flags: 0 });
      assert.equal(await cache.fetch(id, 'kam:n'), '12');
    } finally {
      await cache.close();
    }
  });

  it("'php' fetches what PHP compressed (the garbage raw bytes would be) and PHP's scalars as their text", async () => {
    const long = 'a value PHP compresses with FastLZ by default. '.repeat(100);
    php({
      server: fx.server.address,
      write: { 'cache:long': { t: 'string', v: long }, 'cache:int': { t: 'int', v: '42' }, 'cache:true': { t: 'bool', v: true }, 'cache:list': { t: 'array', v: '[1,2]' } },
    });
    const plain = new CacheAPI([`p = ${fx.server.address}`]);
    const cache = new CacheAPI([`p = ${fx.server.address}`], { transcoder: 'php' });
    try {
      assert.notEqual(await plain.fetch(plain.storageIds[0]!, 'cache:long'), long);
      assert.equal(await cache.fetch(cache.storageIds[0]!, 'cache:long'), long);
      assert.equal(await cache.fetch(cache.storageIds[0]!, 'cache:int'), '42');
      assert.equal(await cache.fetch(cache.storageIds[0]!, 'cache:true'), '1');
      assert.equal(await cache.fetch(cache.storageIds[0]!, 'cache:list'), '[1,2]');
      await cache.store(cache.storageIds[0]!, 'cache:mine', long);
      assert.equal((await fx.raw.get('cache:mine'))!.flags, 0x30);
      assert.deepEqual(php({ server: fx.server.address, read: ['cache:mine'] })['cache:mine'], { t: 'string', v: long });
    } finally {
      await plain.close();
      await cache.close();
    }
  });
});

describe('the types follow the transcoder', () => {
  it('set takes what the transcoder encodes; Item.data is what it decodes', async () => {
    // Only compiled: the calls below go to a closed port and are never awaited for a value.
    const phpGroup = new Group('127.0.0.1:1', { transcoder: 'php', timeout: 50, connectTimeout: 50 });
    const rawGroup = new Group('127.0.0.1:1', { timeout: 50, connectTimeout: 50 });
    const custom = new Group('127.0.0.1:1', { transcoder: decimal, timeout: 50, connectTimeout: 50 });
    const settled: Promise<unknown>[] = [];
    settled.push(phpGroup.set('k', { a: [1, true, null] }), phpGroup.set('k', 5n), rawGroup.set('k', 'x', { flags: 3 }), custom.set('k', 1));
    // @ts-expect-error the default transcoder stores strings and bytes only
    settled.push(rawGroup.set('k', 42));
    // @ts-expect-error a transcoder sets the flags
    settled.push(phpGroup.set('k', 'x', { flags: 3 }));
    // @ts-expect-error this transcoder encodes numbers
    settled.push(custom.set('k', 'text'));
    const check = async (): Promise<void> => {
      const fromPhp: Item<unknown> | null = await phpGroup.get('k');
      const fromRaw: Uint8Array | undefined = (await rawGroup.get('k'))?.data;
      const fromCustom: number | undefined = (await custom.get('k'))?.data;
      void [fromPhp, fromRaw, fromCustom];
    };
    void check;
    const results = await Promise.allSettled(settled);
    // Refused by the transcoder (BAD_ARGUMENT / BAD_VALUE) or failed to connect: nothing resolves.
    assert.ok(results.every((r) => r.status === 'rejected'));
    await Promise.all([phpGroup.close(), rawGroup.close(), custom.close()]);
  });
});
