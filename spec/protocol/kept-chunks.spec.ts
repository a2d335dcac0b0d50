// Values out of a chunk the transport never writes over again ("kept") are
// views of it, not copies; out of a lent chunk they are copies, which the
// transport may then read into again. Through a Group, the Node transport's
// read arenas keep values intact over thousands of later reads.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Group } from '../../lib/index.js';
import { ResponseDecoder } from '../../lib/protocol/binary/decoder.js';
import { MetaReader } from '../../lib/protocol/meta/reader.js';
import { TextReader } from '../../lib/protocol/text/reader.js';
import { concat, flagsOf, reply, utf8 } from '../support/frames.js';
import { MemcachedServer } from '../support/memcached.js';
import { PROTOCOLS } from '../support/protocols.js';

const GET = 0x00;

/** The first value each reader hands out for `chunk`, read as kept or lent. */
const firstValue = {
  binary(chunk: Uint8Array, kept: boolean): Uint8Array {
    let value: Uint8Array | undefined;
    new ResponseDecoder({ onFrame: (frame) => void (value ??= frame.value()) }).push(chunk, kept);
    return value!;
  },
  meta(chunk: Uint8Array, kept: boolean): Uint8Array {
    let value: Uint8Array | undefined;
    new MetaReader({ onReply: (r) => void (value ??= r.value()) }, 1024).push(chunk, kept);
    return value!;
  },
  text(chunk: Uint8Array, kept: boolean): Uint8Array {
    let value: Uint8Array | undefined;
    new TextReader({ onReply: (r) => void (value ??= r.value()) }, 1024).push(chunk, kept);
    return value!;
  },
};

const replies = {
  binary: () => concat([reply({ opcode: GET, opaque: 1, extras: flagsOf(0), value: utf8('hello') }), reply({ opcode: 0x0a, opaque: 2 })]),
  meta: () => utf8('VA 5 f0\r\nhello\r\nHD\r\n'),
  text: () => utf8('VALUE k 0 5\r\nhello\r\nEND\r\n'),
};

for (const wire of ['binary', 'meta', 'text'] as const) {
  describe(`a ${wire} reply's value`, () => {
    it('is a view of a kept chunk: no copy', () => {
      const chunk = replies[wire]();
      const value = firstValue[wire](chunk, true);
      assert.equal(new TextDecoder().decode(value), 'hello');
      assert.equal(value.buffer, chunk.buffer);
      assert.equal(value.constructor, Uint8Array);
    });

    it('is a copy out of a lent chunk: the transport may read into it again', () => {
      const chunk = replies[wire]();
      const value = firstValue[wire](chunk, false);
      assert.notEqual(value.buffer, chunk.buffer);
      chunk.fill(0);
      assert.equal(new TextDecoder().decode(value), 'hello');
    });
  });
}

for (const protocol of PROTOCOLS) {
  describe(`values read through the Node transport's arenas (${protocol})`, () => {
    let server: MemcachedServer;
    before(async () => {
      server = await MemcachedServer.start();
    });
    after(() => server.stop());

    it('stay intact while thousands of later reads fill new arenas', async () => {
      const group = new Group(server.address, { protocol });
      try {
        const keys = Array.from({ length: 200 }, (_, i) => `arena:${protocol}:${i}`);
        await Promise.all(keys.map((k, i) => group.set(k, `value ${i} `.repeat(10))));
        const first = await Promise.all(keys.map((k) => group.get(k)));
        // Views of a read arena (16 KiB), not copies; a value split between two reads is assembled in a buffer of its own.
        const views = first.filter((item) => item !== null && item.value.buffer.byteLength === 16 * 1024).length;
        assert.ok(views > 100, `${views} of 200 values are views of a read arena`);
        // 20 rounds of 200 gets: many more reads, into new arenas, while the first values are held.
        for (let round = 0; round < 20; round++) await Promise.all(keys.map((k) => group.get(k)));
        first.forEach((item, i) => assert.equal(item!.text, `value ${i} `.repeat(10)));
      } finally {
        await group.close();
      }
    });
  });
}
