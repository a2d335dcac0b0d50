// Values shared with php-memcached 3.x, both ways, on a real server: what PHP
// stores (every type, both serializers it writes structures with, FastLZ and
// zlib compression) memring's 'php' transcoder reads as the same value, and
// what memring stores PHP reads as the value memring was given, byte for
// byte where PHP would have written the same bytes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DecodeError, ErrorCode, GetMultiDecodeError, Group, PhpTranscoder, isMemcacheError } from '../../lib/index.js';
import { MemcachedServer } from '../support/memcached.js';
import { PROTOCOLS } from '../support/protocols.js';
import { php } from './peers.js';

const RANDOM_HEX = randomBytes(3000).toString('hex');
/** 30000 random bytes three times: PHP's FastLZ uses level 2 (≥ 64 KiB) and matches 30000 bytes back (a far distance). */
const FAR = randomBytes(30000).toString('hex');

describe("PHP's values read through the 'php' transcoder", () => {
  let server: MemcachedServer;
  before(async () => {
    server = await MemcachedServer.start();
    php({
      server: server.address,
      write: {
        'php:string': { t: 'string', v: 'hello' },
        'php:utf8': { t: 'string', v: 'héllo wörld ☃' },
        'php:empty': { t: 'string', v: '' },
        'php:binary': { t: 'hex', v: '00ff80fe' },
        'php:int': { t: 'int', v: '42' },
        'php:negative': { t: 'int', v: '-7' },
        'php:int-max': { t: 'int', v: '9223372036854775807' },
        'php:int-min': { t: 'int', v: '-9223372036854775808' },
        'php:2^53+1': { t: 'int', v: '9007199254740993' },
        'php:one': { t: 'float', v: '1.0' },
        'php:sum': { t: 'float', v: '0.30000000000000004' },
        'php:big-float': { t: 'float', v: '1e100' },
        'php:tiny': { t: 'float', v: '-1.5e-10' },
        'php:half': { t: 'float', v: '0.5' },
        'php:true': { t: 'bool', v: true },
        'php:false': { t: 'bool', v: false },
        'php:null': { t: 'null' },
        'php:list': { t: 'array', v: '[1, "two", 3.5, true, null, [4]]' },
        'php:map': { t: 'array', v: '{"a": 1, "b": {"c": "d"}, "7": "seven", "__proto__": "kept"}' },
        'php:object': { t: 'object', v: '{"x": 1, "y": [true, "s"]}' },
        'php:fastlz': { t: 'repeat', v: 'abcdefgh', n: 1000 },
        'php:fastlz-level2': { t: 'hex', v: FAR + FAR + FAR },
        'php:incompressible': { t: 'hex', v: RANDOM_HEX },
      },
    });
    php({ server: server.address, compression: 'zlib', write: { 'php:zlib': { t: 'repeat', v: 'zlib? ', n: 1000 } } });
    php({ server: server.address, serializer: 'json', write: { 'php:json': { t: 'object', v: '{"a": [1, 2, {"b": null}]}' } } });
    php({ server: server.address, serializer: 'igbinary', write: { 'php:igbinary': { t: 'array', v: '{"a": 1}' } } });
    php({ server: server.address, serializer: 'msgpack', write: { 'php:msgpack': { t: 'array', v: '{"a": 1}' } } });
  });
  after(() => server.stop());

  for (const protocol of PROTOCOLS) {
    describe(`over ${protocol}`, () => {
      let group: Group<'php'>;
      let raw: Group;
      before(() => {
        group = new Group(server.address, { protocol, transcoder: 'php' });
        raw = new Group(server.address, { protocol });
      });
      after(async () => {
        await group.close();
        await raw.close();
      });

      async function data(key: string): Promise<unknown> {
        const item = await group.get(key);
        assert.ok(item !== null, key);
        return item.data;
      }

      it('strings (flag 0): UTF-8 as a string, other bytes as a Uint8Array', async () => {
        assert.equal(await data('php:string'), 'hello');
        assert.equal(await data('php:utf8'), 'héllo wörld ☃');
        assert.equal(await data('php:empty'), '');
        assert.deepEqual(await data('php:binary'), new Uint8Array([0x00, 0xff, 0x80, 0xfe]));
      });

      it('integers (flag 1): numbers, and bigints beyond 2^53, exact', async () => {
        assert.equal(await data('php:int'), 42);
        assert.equal(await data('php:negative'), -7);
        assert.equal(await data('php:int-max'), 9223372036854775807n);
        assert.equal(await data('php:int-min'), -9223372036854775808n);
        assert.equal(await data('php:2^53+1'), 9007199254740993n);
      });

      it('doubles (flag 2) as PHP wrote them: 1.0 as "1", 0.1 + 0.2 as ".30000000000000004"', async () => {
        assert.equal((await raw.get('php:one'))!.text, '1');
        assert.equal((await raw.get('php:sum'))!.text, '.30000000000000004');
        assert.equal(await data('php:one'), 1);
        assert.equal(await data('php:sum'), 0.1 + 0.2);
        assert.equal(await data('php:big-float'), 1e100);
        assert.equal(await data('php:tiny'), -1.5e-10);
        assert.equal(await data('php:half'), 0.5);
      });

      it('booleans (flag 3)', async () => {
        assert.equal(await data('php:true'), true);
        assert.equal(await data('php:false'), false);
      });

      it("structures in PHP's serialize (flag 4, the default serializer): null, lists, maps, objects as plain objects", async () => {
        assert.equal((await raw.get('php:list'))!.flags, 4);
        assert.equal(await data('php:null'), null);
        assert.deepEqual(await data('php:list'), [1, 'two', 3.5, true, null, [4]]);
        const map = (await data('php:map')) as Record<string, unknown>;
        assert.deepEqual(Object.keys(map), ['7', 'a', 'b', '__proto__']);
        assert.equal(map['__proto__'], 'kept');
        assert.equal(Object.getPrototypeOf(map), Object.prototype);
        assert.deepEqual({ ...map }, { a: 1, b: { c: 'd' }, 7: 'seven', ['__proto__']: 'kept' });
        assert.deepEqual(await data('php:object'), { x: 1, y: [true, 's'] });
      });

      it('structures with the JSON serializer (flag 6)', async () => {
        assert.equal((await raw.get('php:json'))!.flags, 6);
        assert.deepEqual(await data('php:json'), { a: [1, 2, { b: null }] });
      });

      it('FastLZ (0x50, level 1 and, from 64 KiB, level 2 with far matches) and zlib (0x30) compressed values', async () => {
        assert.equal((await raw.get('php:fastlz'))!.flags, 0x50);
        assert.equal(await data('php:fastlz'), 'abcdefgh'.repeat(1000));
        const far = await raw.get('php:fastlz-level2');
        assert.equal(far!.flags, 0x50);
        // The FastLZ block (after PHP's 4-byte length) says level 2 in its first byte's top bits.
        assert.equal(far!.value[4]! >> 5, 1);
        assert.ok(far!.value.length < 40_000, `${far!.value.length}`);
        assert.deepEqual(await data('php:fastlz-level2'), new Uint8Array(Buffer.from(FAR + FAR + FAR, 'hex')));
        assert.equal((await raw.get('php:zlib'))!.flags, 0x30);
        assert.equal(await data('php:zlib'), 'zlib? '.repeat(1000));
        // What does not shrink stays as it is.
        assert.equal((await raw.get('php:incompressible'))!.flags, 0);
        assert.deepEqual(await data('php:incompressible'), new Uint8Array(Buffer.from(RANDOM_HEX, 'hex')));
      });

      it('igbinary (5) and msgpack (7) fail with MC_ERR_DECODE, keeping the stored bytes and flags', async () => {
        for (const [key, flags] of [['php:igbinary', 5], ['php:msgpack', 7]] as const) {
          const stored = (await raw.get(key))!;
          await assert.rejects(group.get(key), (error: unknown) => {
            assert.ok(error instanceof DecodeError);
            assert.ok(isMemcacheError(error, ErrorCode.DECODE));
            assert.equal(error.flags, flags);
            assert.equal(error.key, key);
            assert.deepEqual(error.bytes, stored.value);
            return true;
          });
        }
        // The connection is fine: the next call on it succeeds.
        assert.equal(await data('php:string'), 'hello');
      });

      it('getMulti rejects with the decoded items and each key that could not be decoded', async () => {
        const keys = ['php:string', 'php:igbinary', 'php:int', 'php:msgpack', 'php:absent'];
        await assert.rejects(group.getMulti(keys), (error: unknown) => {
          assert.ok(error instanceof GetMultiDecodeError);
          assert.equal(error.code, ErrorCode.DECODE);
          assert.deepEqual([...error.items.keys()].sort(), ['php:int', 'php:string']);
          assert.equal(error.items.get('php:int')!.data, 42);
          assert.deepEqual([...error.failures.keys()].sort(), ['php:igbinary', 'php:msgpack']);
          assert.equal(error.failures.get('php:msgpack')!.flags, 7);
          return true;
        });
        const found = await group.getMulti(['php:string', 'php:true', 'php:absent']);
        assert.deepEqual([...found].map(([k, item]) => [k, item.data]).sort(), [['php:string', 'hello'], ['php:true', true]]);
      });
    });
  }
});

describe("memring's values read by PHP", () => {
  let server: MemcachedServer;
  let group: Group<'php'>;
  let fastlz: Group<PhpTranscoder>;
  let raw: Group;
  before(async () => {
    server = await MemcachedServer.start();
    group = new Group(server.address, { transcoder: 'php' });
    fastlz = new Group(server.address, { transcoder: new PhpTranscoder({ compression: 'fastlz' }) });
    raw = new Group(server.address);
  });
  after(async () => {
    await Promise.all([group.close(), fastlz.close(), raw.close()]);
    await server.stop();
  });

  it('every type comes back as the PHP value it stands for', async () => {
    const values: Record<string, Parameters<Group<'php'>['set']>[1]> = {
      'js:string': 'hello',
      'js:utf8': 'héllo ☃',
      'js:bytes': new Uint8Array([0, 255, 128]),
      'js:int': 42,
      'js:negative': -7,
      'js:bigint': 2n ** 62n,
      'js:int-min': -(2n ** 63n),
      'js:float': 0.1 + 0.2,
      'js:half': 0.5,
      'js:huge': 1e100,
      'js:inf': Infinity,
      'js:nan': NaN,
      'js:true': true,
      'js:false': false,
      'js:null': null,
      'js:list': [1, 'two', 3.5, false],
      'js:object': { a: 1, b: { c: [null] } },
    };
    for (const [key, value] of Object.entries(values)) assert.equal(await group.set(key, value), true);
    const read = php({ server: server.address, read: Object.keys(values) });
    assert.deepEqual(read['js:string'], { t: 'string', v: 'hello' });
    assert.deepEqual(read['js:utf8'], { t: 'string', v: 'héllo ☃' });
    assert.deepEqual(read['js:bytes'], { t: 'binary', v: '00ff80' });
    assert.deepEqual(read['js:int'], { t: 'int', v: '42' });
    assert.deepEqual(read['js:negative'], { t: 'int', v: '-7' });
    assert.deepEqual(read['js:bigint'], { t: 'int', v: String(2n ** 62n) });
    assert.deepEqual(read['js:int-min'], { t: 'int', v: String(-(2n ** 63n)) });
    assert.equal(read['js:float']!.t, 'float');
    assert.equal(Number(read['js:float']!.v), 0.1 + 0.2);
    assert.equal(Number(read['js:half']!.v), 0.5);
    assert.equal(Number(read['js:huge']!.v), 1e100);
    assert.deepEqual(read['js:inf'], { t: 'float', v: 'Infinity' });
    assert.deepEqual(read['js:nan'], { t: 'float', v: 'NaN' });
    assert.deepEqual(read['js:true'], { t: 'bool', v: true });
    assert.deepEqual(read['js:false'], { t: 'bool', v: false });
    assert.deepEqual(read['js:null'], { t: 'null' });
    // JSON (flag 6): PHP's json_decode gives a list as an array, an object as stdClass.
    assert.deepEqual(read['js:list'], { t: 'array', v: '[1,"two",3.5,false]' });
    assert.equal(read['js:object']!.t, 'object');
    assert.equal(read['js:object']!.class, 'stdClass');
    assert.deepEqual(JSON.parse(read['js:object']!.v as string), { a: 1, b: { c: [null] } });
  });

  it('scalars are stored byte for byte as PHP stores them, flags included', async () => {
    const doubles = ['1.0', '0.30000000000000004', '1e100', '-1.5e-10', '0.5', '100.0', '1e15', '1e21', '-0.0', '1e-7', '0.0001', '123456789012345680000', '5e-324'];
    const write: Record<string, { t: string; v?: unknown }> = {};
    doubles.forEach((v, i) => (write[`php:double:${i}`] = { t: 'float', v }));
    write['php:int'] = { t: 'int', v: '-12345' };
    write['php:true'] = { t: 'bool', v: true };
    write['php:false'] = { t: 'bool', v: false };
    php({ server: server.address, write });
    const ours: Record<string, Parameters<Group<'php'>['set']>[1]> = { 'js:int': -12345, 'js:true': true, 'js:false': false };
    doubles.forEach((v, i) => (ours[`js:double:${i}`] = Number(v)));
    // 1.0 and 100.0 are integers in JS: written as PHP ints, so their double twins are compared as doubles below.
    for (const [key, value] of Object.entries(ours)) await group.set(key, value);
    for (const name of ['int', 'true', 'false']) {
      const theirs = (await raw.get(`php:${name}`))!;
      const mine = (await raw.get(`js:${name}`))!;
      assert.equal(mine.flags, theirs.flags, name);
      assert.deepEqual(mine.value, theirs.value, name);
    }
    for (let i = 0; i < doubles.length; i++) {
      const theirs = (await raw.get(`php:double:${i}`))!;
      const mine = (await raw.get(`js:double:${i}`))!;
      assert.equal(theirs.flags, 2);
      const n = Number(doubles[i]);
      if (Number.isInteger(n) && Math.abs(n) < 2 ** 63 && !Object.is(n, -0)) {
        // A JS integer is a PHP int: same digits as PHP's double, flag 1.
        assert.equal(mine.flags, 1, doubles[i]);
        assert.equal(Number(mine.text), Number(theirs.text), doubles[i]);
      } else {
        assert.equal(mine.flags, 2, doubles[i]);
        assert.equal(mine.text, theirs.text, doubles[i]);
      }
    }
  });

  it('compressed values (zlib by default, FastLZ by option) PHP decompresses; small or incompressible ones stay raw', async () => {
    const text = 'memring shares values with PHP. '.repeat(200);
    const incompressible = randomBytes(5000);
    await group.set('js:zlib', text);
    await fastlz.set('js:fastlz', text);
    await fastlz.set('js:fastlz-big', 'x'.repeat(70_000) + text);
    await group.set('js:small', 'a'.repeat(1999));
    await group.set('js:threshold', 'a'.repeat(2000));
    await group.set('js:random', incompressible);
    await group.set('js:json-big', { list: Array.from({ length: 500 }, (_, i) => ({ i, name: `n${i % 10}` })) });
    assert.equal((await raw.get('js:zlib'))!.flags, 0x30);
    assert.equal((await raw.get('js:fastlz'))!.flags, 0x50);
    assert.equal((await raw.get('js:small'))!.flags, 0);
    assert.equal((await raw.get('js:threshold'))!.flags, 0x30);
    assert.equal((await raw.get('js:random'))!.flags, 0);
    assert.equal((await raw.get('js:json-big'))!.flags, 0x36);
    const read = php({ server: server.address, read: ['js:zlib', 'js:fastlz', 'js:fastlz-big', 'js:small', 'js:threshold', 'js:random', 'js:json-big'] });
    assert.deepEqual(read['js:zlib'], { t: 'string', v: text });
    assert.deepEqual(read['js:fastlz'], { t: 'string', v: text });
    assert.deepEqual(read['js:fastlz-big'], { t: 'string', v: 'x'.repeat(70_000) + text });
    assert.deepEqual(read['js:threshold'], { t: 'string', v: 'a'.repeat(2000) });
    assert.deepEqual(read['js:random'], { t: 'binary', v: incompressible.toString('hex') });
    assert.equal(JSON.parse(read['js:json-big']!.v as string).list.length, 500);
    // And back through memring.
    assert.equal((await group.get('js:fastlz'))!.data, text);
    assert.equal((await fastlz.get('js:zlib'))!.data, text);
  });

  it('what PHP cannot hold is refused before sending (MC_ERR_BAD_VALUE), and the transcoder sets the flags', async () => {
    await assert.rejects(group.set('js:too-big', 2n ** 63n), { code: ErrorCode.BAD_VALUE });
    await assert.rejects(group.set('js:json-bigint', { n: 1n } as never), { code: ErrorCode.BAD_VALUE });
    await assert.rejects(group.set('js:undefined', undefined as never), { code: ErrorCode.BAD_VALUE });
    await assert.rejects(group.set('js:flags', 'x', { flags: 1 } as never), { code: ErrorCode.BAD_ARGUMENT });
    assert.equal(await raw.get('js:too-big'), null);
    assert.equal(await raw.get('js:flags'), null);
  });
});
