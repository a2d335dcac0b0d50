// What `#zlib` is under workerd: CompressionStream / DecompressionStream
// ('deflate', the zlib format). Run here on Node's own implementation of
// those streams (the same web API Workers have): its streams are the zlib
// format PHP's compress2 and Python's zlib.compress write, both ways.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
import { deflate, inflate } from '../../lib/compress/stream-zlib.js';

const text = new TextEncoder().encode('compressed under Workers, read by PHP and Python. '.repeat(2000));

describe('#zlib under workerd (CompressionStream)', () => {
  it('deflates to a zlib stream node:zlib (as PHP and Python) inflates, and inflates what node:zlib deflated', async () => {
    const stream = await deflate(text);
    assert.equal(stream[0], 0x78);
    assert.ok(stream.length < text.length / 10);
    assert.deepEqual(new Uint8Array(inflateSync(stream)), text);
    assert.deepEqual(await inflate(deflateSync(text), text.length), text);
    assert.deepEqual(await inflate(await deflate(new Uint8Array(0)), 0), new Uint8Array(0));
  });

  it('refuses output over the limit, and corrupt streams, by rejecting', async () => {
    await assert.rejects(inflate(deflateSync(text), text.length - 1), RangeError);
    await assert.rejects(inflate(new Uint8Array([0x78, 0x9c, 1, 2, 3, 4]), 100));
  });
});
