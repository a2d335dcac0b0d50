// Values shared with pylibmc and python-memcache, both ways, on a real
// server: bytes, str, int (beyond 2^53 too), bool and zlib-compressed values
// each client writes, read through the 'python' transcoder; what memring
// writes, each client reads as the value memring was given.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError, ErrorCode, Group } from '../../lib/index.js';
import { MemcachedServer } from '../support/memcached.js';
import { python } from './peers.js';

const LONG_TEXT = 'pylibmc and memring, compressed. '.repeat(200);

describe("Python's values read through the 'python' transcoder", () => {
  let server: MemcachedServer;
  let group: Group<'python'>;
  let raw: Group;
  before(async () => {
    server = await MemcachedServer.start();
    group = new Group(server.address, { transcoder: 'python' });
    raw = new Group(server.address);
    const write = {
      str: { t: 'str', v: 'héllo ☃' },
      bytes: { t: 'bytes', v: '00ff80' },
      int: { t: 'int', v: '-42' },
      long: { t: 'int', v: String(2n ** 70n) },
      true: { t: 'bool', v: true },
      false: { t: 'bool', v: false },
      float: { t: 'float', v: '1.5' },
      zstr: { t: 'repeat', v: LONG_TEXT, n: 1 },
    };
    for (const client of ['pylibmc', 'memcache'] as const) {
      python({
        server: server.address,
        client,
        compress: 100,
        write: Object.fromEntries(Object.entries(write).map(([k, v]) => [`${client}:${k}`, v])),
      });
    }
  });
  after(async () => {
    await Promise.all([group.close(), raw.close()]);
    await server.stop();
  });

  async function data(key: string): Promise<unknown> {
    const item = await group.get(key);
    assert.ok(item !== null, key);
    return item.data;
  }

  for (const client of ['pylibmc', 'memcache'] as const) {
    it(`${client}: str, bytes, int and long, with the flags it writes`, async () => {
      assert.equal((await raw.get(`${client}:str`))!.flags, 16);
      assert.equal(await data(`${client}:str`), 'héllo ☃');
      assert.equal((await raw.get(`${client}:bytes`))!.flags, 0);
      assert.deepEqual(await data(`${client}:bytes`), new Uint8Array([0, 255, 128]));
      assert.equal((await raw.get(`${client}:int`))!.flags, client === 'pylibmc' ? 4 : 2);
      assert.equal(await data(`${client}:int`), -42);
      assert.equal(await data(`${client}:long`), 2n ** 70n);
    });

    it(`${client}: zlib-compressed str (flag 24), read whole`, async () => {
      const stored = (await raw.get(`${client}:zstr`))!;
      assert.equal(stored.flags, 24);
      assert.ok(stored.value.length < LONG_TEXT.length / 10);
      assert.equal(await data(`${client}:zstr`), LONG_TEXT);
    });

    it(`${client}: pickled values (flag 1) fail with MC_ERR_DECODE, keeping the bytes`, async () => {
      const stored = (await raw.get(`${client}:float`))!;
      assert.equal(stored.flags, 1);
      await assert.rejects(group.get(`${client}:float`), (error: unknown) => {
        assert.ok(error instanceof DecodeError);
        assert.equal(error.code, ErrorCode.DECODE);
        assert.deepEqual(error.bytes, stored.value);
        assert.equal(error.flags, 1);
        return true;
      });
    });
  }

  it("pylibmc's bools are ints with flag 2 (True is 1, as pylibmc itself reads it back); python-memcache pickles them", async () => {
    assert.equal((await raw.get('pylibmc:true'))!.flags, 2);
    assert.equal(await data('pylibmc:true'), 1);
    assert.equal(await data('pylibmc:false'), 0);
    assert.equal((await raw.get('memcache:true'))!.flags, 1);
  });
});

describe("memring's values read by pylibmc and python-memcache", () => {
  let server: MemcachedServer;
  let group: Group<'python'>;
  before(async () => {
    server = await MemcachedServer.start();
    group = new Group(server.address, { transcoder: 'python' });
  });
  after(async () => {
    await group.close();
    await server.stop();
  });

  it('str, bytes, int, bigint, bool and zlib-compressed values', async () => {
    const values = {
      'js:str': 'héllo ☃',
      'js:bytes': new Uint8Array([0, 255, 128]),
      'js:int': -42,
      'js:safe': 2 ** 53,
      'js:long': 2n ** 70n,
      'js:true': true,
      'js:false': false,
      'js:zstr': LONG_TEXT,
      'js:zbytes': new TextEncoder().encode(LONG_TEXT),
    };
    for (const [key, value] of Object.entries(values)) assert.equal(await group.set(key, value), true);
    const raw = new Group(server.address);
    try {
      assert.equal((await raw.get('js:zstr'))!.flags, 24);
      assert.equal((await raw.get('js:zbytes'))!.flags, 8);
      assert.equal((await raw.get('js:int'))!.flags, 4);
    } finally {
      await raw.close();
    }
    for (const client of ['pylibmc', 'memcache'] as const) {
      const read = python({ server: server.address, client, read: Object.keys(values) });
      assert.deepEqual(read['js:str'], { t: 'str', v: 'héllo ☃' }, client);
      assert.deepEqual(read['js:bytes'], { t: 'bytes', v: '00ff80' }, client);
      assert.deepEqual(read['js:int'], { t: 'int', v: '-42' }, client);
      assert.deepEqual(read['js:safe'], { t: 'int', v: String(2 ** 53) }, client);
      assert.deepEqual(read['js:long'], { t: 'int', v: String(2n ** 70n) }, client);
      // Flag 2, as pylibmc writes True: both read it back as the int.
      assert.deepEqual(read['js:true'], { t: 'int', v: '1' }, client);
      assert.deepEqual(read['js:false'], { t: 'int', v: '0' }, client);
      assert.deepEqual(read['js:zstr'], { t: 'str', v: LONG_TEXT }, client);
      assert.deepEqual(read['js:zbytes'], { t: 'bytes', v: Buffer.from(LONG_TEXT).toString('hex') }, client);
    }
  });

  it('what would need pickle is refused before sending (MC_ERR_BAD_VALUE)', async () => {
    await assert.rejects(group.set('js:float', 1.5), { code: ErrorCode.BAD_VALUE });
    await assert.rejects(group.set('js:null', null as never), { code: ErrorCode.BAD_VALUE });
    await assert.rejects(group.set('js:list', [1] as never), { code: ErrorCode.BAD_VALUE });
    assert.equal(await group.get('js:float'), null);
  });
});
