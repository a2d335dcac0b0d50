// The value stored is the value at the time of the call, at every size: a
// caller may reuse its buffer as soon as set() returns, without awaiting it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Group } from '../lib/index.js';
// The threshold both writers (binary and meta) share.
import { OUT_OF_LINE_VALUE } from '../lib/protocol/block-writer.js';
import { MemcachedServer } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';

const KIB = 1024;
// Both sides of the out-of-line threshold, and up to just under the default 1 MiB item limit (-I 1m).
const SIZES = [KIB, OUT_OF_LINE_VALUE - 1, OUT_OF_LINE_VALUE, 32 * KIB, 100_000, 1024 * KIB - KIB];

// One server for both protocols: memcached answers both on one port.
let server: MemcachedServer;

before(async () => {
  server = await MemcachedServer.start();
});
after(() => server.stop());

let counter = 0;
function fresh(prefix = 'snapshot'): string {
  return `${prefix}:${process.pid}:${counter++}`;
}

/** Index and byte of the first byte that is not `expected`, or null when all are. */
function firstOther(bytes: Uint8Array, expected: number): string | null {
  const i = bytes.findIndex((b) => b !== expected);
  return i < 0 ? null : `byte ${i} of ${bytes.length} is 0x${bytes[i]!.toString(16)}`;
}

for (const protocol of PROTOCOLS) {
  describe(`a Uint8Array value changed after set() is called, before it settles (${protocol})`, () => {
    let group: Group;
    before(async () => {
      group = new Group([server.address], { protocol });
      await group.noop();
    });
    after(() => group.close());

    for (const size of SIZES) {
      it(`stores the bytes as they were at the call: ${size} bytes`, async () => {
        const key = fresh();
        const value = new Uint8Array(size).fill(0x41);
        const stored = group.set(key, value);
        value.fill(0x42);
        assert.equal(await stored, true);
        const item = await group.get(key);
        assert.ok(item !== null);
        assert.equal(item.value.length, size);
        assert.equal(firstOther(item.value, 0x41), null);
      });
    }

    it('stores the bytes as they were at the call while the connection is still opening', async () => {
      const opening = new Group([server.address], { protocol });
      try {
        const key = fresh();
        const value = new Uint8Array(100_000).fill(0x41);
        const stored = opening.set(key, value);
        value.fill(0x42);
        assert.equal(await stored, true);
        const item = await opening.get(key);
        assert.ok(item !== null);
        assert.equal(firstOther(item.value, 0x41), null);
      } finally {
        await opening.close();
      }
    });

    it('stores only the view passed, as it was, when the value is a subarray of a bigger buffer', async () => {
      const key = fresh();
      const backing = new Uint8Array(3 * OUT_OF_LINE_VALUE).fill(0x40);
      const value = backing.subarray(OUT_OF_LINE_VALUE, 3 * OUT_OF_LINE_VALUE).fill(0x41);
      const stored = group.set(key, value);
      backing.fill(0x42);
      assert.equal(await stored, true);
      const item = await group.get(key);
      assert.ok(item !== null);
      assert.equal(item.value.length, 2 * OUT_OF_LINE_VALUE);
      assert.equal(firstOther(item.value, 0x41), null);
    });

    it('stores a Node Buffer as it was at the call (Buffer#slice would only be a view)', async () => {
      const key = fresh();
      const value = Buffer.alloc(100_000, 0x41);
      const stored = group.set(key, value);
      value.fill(0x42);
      assert.equal(await stored, true);
      const item = await group.get(key);
      assert.ok(item !== null);
      assert.equal(firstOther(item.value, 0x41), null);
    });

    it('appends, adds and compares-and-sets the bytes as they were at the call', async () => {
      const key = fresh();
      const size = 2 * OUT_OF_LINE_VALUE;
      const first = new Uint8Array(size).fill(0x41);
      const added = group.add(key, first);
      first.fill(0x42);
      assert.equal(await added, true);
      const tail = new Uint8Array(size).fill(0x41);
      const appended = group.append(key, tail);
      tail.fill(0x42);
      assert.equal(await appended, true);
      const before = await group.get(key);
      assert.ok(before !== null);
      assert.equal(before.value.length, 2 * size);
      assert.equal(firstOther(before.value, 0x41), null);
      const next = new Uint8Array(size).fill(0x43);
      const swapped = group.cas(key, next, before.cas);
      next.fill(0x42);
      assert.equal(await swapped, true);
      const after = await group.get(key);
      assert.ok(after !== null);
      assert.equal(firstOther(after.value, 0x43), null);
    });
  });
}
