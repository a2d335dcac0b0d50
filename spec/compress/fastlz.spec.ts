// FastLZ as php-memcached's own C FastLZ writes and reads it: blocks PHP
// compressed (level 1 below 64 KiB, level 2 from there: chained length
// bytes, 16-bit far distances) decode here to the bytes PHP was given, and
// blocks encoded here PHP decodes to ours. The raw bytes travel through a
// real server and memring's default (raw) transcoder; the values are built
// in the spec, so what the server holds is known exactly.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { fastlzDecode, fastlzEncode, Group } from '../../lib/index.js';
import { MemcachedServer } from '../support/memcached.js';
import { serverFixture } from '../support/server-fixture.js';
import { php } from '../transcode/peers.js';

/** Seeded bytes (xorshift), so a failure is the same on every run. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A key for a content's name (keys hold no spaces). */
const keyOf = (prefix: string, name: string): string => `${prefix}:${createHash('sha1').update(name).digest('hex').slice(0, 12)}`;

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Contents of every kind PHP compresses (each shrinks by over 1.3×, so PHP keeps it compressed). */
const CONTENTS: Record<string, Uint8Array> = {
  'one byte repeated (runs, distance 1)': new Uint8Array(5000).fill(0x61),
  'text with short matches': text('the quick brown fox jumps over the lazy dog; '.repeat(100)),
  'periodic at 8191 back (the level-1 window edge)': (() => {
    const block = noise(8191, 7);
    return concat(block, block);
  })(),
  'level 2: 100000 equal bytes (length bytes chained past 255)': new Uint8Array(100_000).fill(0x7a),
  'level 2: 30000 random bytes three times (distances past 8191)': (() => {
    const block = noise(30_000, 11);
    return concat(block, block, block);
  })(),
  'level 2: text and noise mixed': concat(text('header '.repeat(2000)), noise(20_000, 3), text('header '.repeat(2000)), noise(20_000, 3)),
};

/** What a level-2 block holds: matches with a 16-bit far distance, and length bytes chained past a 255. */
function level2Features(block: Uint8Array): { far: number; chained: number } {
  let far = 0;
  let chained = 0;
  let ip = 1;
  let ctrl = block[0]! & 31;
  for (;;) {
    if (ctrl < 32) ip += ctrl + 1;
    else {
      if (ctrl >> 5 === 7) {
        let extra: number;
        let count = 0;
        do {
          extra = block[ip++]!;
          count++;
        } while (extra === 255);
        if (count > 1) chained++;
      }
      const low = block[ip++]!;
      if (low === 255 && (ctrl & 31) === 31) {
        far++;
        ip += 2;
      }
    }
    if (ip >= block.length) break;
    ctrl = block[ip++]!;
  }
  return { far, chained };
}

describe('FastLZ blocks written by php-memcached decode here', () => {
  let server: MemcachedServer;
  let raw: Group;
  before(async () => {
    server = await MemcachedServer.start();
    raw = new Group(server.address);
    const write: Record<string, { t: string; v: string }> = {};
    for (const [name, bytes] of Object.entries(CONTENTS)) write[keyOf('fastlz', name)] = { t: 'hex', v: Buffer.from(bytes).toString('hex') };
    php({ server: server.address, compression: 'fastlz', write });
  });
  after(async () => {
    await raw.close();
    await server.stop();
  });

  for (const [name, bytes] of Object.entries(CONTENTS)) {
    it(name, async () => {
      const item = await raw.get(keyOf('fastlz', name));
      assert.ok(item !== null);
      // php-memcached's layout: flags 0x50 (compressed | FastLZ), u32 LE length, then the block.
      assert.equal(item.flags, 0x50);
      const size = new DataView(item.value.buffer, item.value.byteOffset).getUint32(0, true);
      assert.equal(size, bytes.length);
      const block = item.value.subarray(4);
      assert.equal(block[0]! >> 5, bytes.length < 65536 ? 0 : 1, 'level');
      if (name.includes('past 8191')) assert.ok(level2Features(block).far > 0, 'far distances');
      if (name.includes('chained')) assert.ok(level2Features(block).chained > 0, 'chained lengths');
      const decoded = fastlzDecode(block, size);
      assert.equal(createHash('sha1').update(decoded).digest('hex'), createHash('sha1').update(bytes).digest('hex'));
    });
  }
});

describe('FastLZ blocks encoded here decode in php-memcached', () => {
  const fx = serverFixture();

  it('every content, stored in php-memcached\'s layout, reads back as the original', async () => {
    const contents = { ...CONTENTS, 'noise with a repeat 8192 back (just past the window)': (() => {
      const block = noise(8192, 5);
      return concat(block, block, text('z'.repeat(3000)));
    })() };
    const keys: string[] = [];
    for (const [name, bytes] of Object.entries(contents)) {
      const block = fastlzEncode(bytes);
      assert.equal(block[0]! >> 5, 0, 'level 1');
      const framed = new Uint8Array(block.length + 4);
      new DataView(framed.buffer).setUint32(0, bytes.length, true);
      framed.set(block, 4);
      await fx.raw.set(keyOf('ours', name), framed, { flags: 0x50 });
      keys.push(keyOf('ours', name));
    }
    const read = php({ server: fx.server.address, read: keys });
    for (const [name, bytes] of Object.entries(contents)) {
      const got = read[keyOf('ours', name)]!;
      assert.ok(got.t === 'string' || got.t === 'binary', `${name}: ${JSON.stringify(got).slice(0, 200)}`);
      const back = got.t === 'string' ? Buffer.from(got.v as string) : Buffer.from(got.v as string, 'hex');
      assert.ok(back.equals(Buffer.from(bytes)), name);
    }
  });
});

describe('FastLZ on its own', () => {
  it('round-trips every length from 0 to 300 of runs, text and noise, and larger ones', () => {
    for (let n = 0; n <= 300; n++) {
      for (const bytes of [new Uint8Array(n).fill(9), text('abcab'.repeat(61)).subarray(0, n), noise(n, n + 1)]) {
        assert.deepEqual(fastlzDecode(fastlzEncode(bytes), n), bytes, `length ${n}`);
      }
    }
    for (const bytes of [...Object.values(CONTENTS), noise(70_000, 9), randomBytes(10_000)]) {
      const copy = new Uint8Array(bytes);
      assert.deepEqual(fastlzDecode(fastlzEncode(copy), copy.length), copy);
    }
  });

  it('a long match is split at 264 bytes, and incompressible bytes grow by at most one byte in 32', () => {
    const run = fastlzEncode(new Uint8Array(10_000).fill(1));
    assert.ok(run.length < 10_000 / 264 * 3 + 10, `${run.length}`);
    const random = noise(10_000, 42);
    assert.ok(fastlzEncode(random).length <= 10_000 + Math.ceil(10_000 / 32));
  });

  it('corrupt blocks throw a RangeError, never write past the size or read before the start', () => {
    const good = fastlzEncode(text('hello hello hello hello'));
    assert.throws(() => fastlzDecode(good.subarray(0, good.length - 1), 23), RangeError);
    assert.throws(() => fastlzDecode(good, 22), RangeError);
    assert.throws(() => fastlzDecode(good, 24), RangeError);
    // A match 3 bytes long from 1 byte back, before anything was written.
    assert.throws(() => fastlzDecode(new Uint8Array([0x20, 0x00]), 3), RangeError);
    // Level 3 is no level FastLZ has.
    assert.throws(() => fastlzDecode(new Uint8Array([0x40, 0x61]), 1), RangeError);
    assert.throws(() => fastlzDecode(new Uint8Array(0), 1), RangeError);
    assert.deepEqual(fastlzDecode(new Uint8Array(0), 0), new Uint8Array(0));
  });
});
