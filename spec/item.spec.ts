// How an Item read from a real memcached prints: util.inspect and JSON show its size, flags,
// CAS and a short preview, never the whole value nor the private CAS halves.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import type { Item } from '../lib/index.js';
import { serverFixture } from './support/server-fixture.js';

describe('an Item printed', () => {
  const fx = serverFixture();

  async function stored(key: string, value: string | Uint8Array, flags = 0): Promise<Item> {
    await fx.raw.set(key, value, { flags });
    const item = await fx.raw.get(key);
    assert.ok(item !== null);
    return item;
  }

  it('util.inspect shows size, flags, cas as a bigint and the text', async () => {
    const item = await stored('print:short', 'hello world', 7);
    assert.equal(inspect(item), `Item { size: 11, flags: 7, cas: ${item.cas}n, preview: 'hello world' }`);
    const shown = inspect(item);
    assert.doesNotMatch(shown, /casHi|casLo|value|\[\s*104/);
  });

  it('a long value is previewed by its first 32 bytes, cut before a character, not through it', async () => {
    const item = await stored('print:long', `${'é'.repeat(20)}${'x'.repeat(100_000)}`);
    const shown = inspect(item);
    assert.match(shown, /size: 100040/);
    // 16 two-byte characters fill the 32 bytes exactly; a 33rd byte would split the 17th.
    assert.ok(shown.includes(`preview: '${'é'.repeat(16)}…'`), shown);
    assert.ok(shown.length < 200, shown);
    assert.equal(JSON.parse(JSON.stringify(item)).preview, `${'é'.repeat(16)}…`);
  });

  it('a preview ending inside a character backs up to its start', async () => {
    const item = await stored('print:cut', `a${'é'.repeat(40)}`);
    assert.equal(item.toJSON().preview, `a${'é'.repeat(15)}…`);
  });

  it('toJSON gives { size, flags, cas as a decimal string, preview }, and the value stays bytes', async () => {
    const item = await stored('print:json', 'hello', 0xdeadbeef);
    assert.deepEqual(JSON.parse(JSON.stringify(item)), { size: 5, flags: 0xdeadbeef, cas: item.cas.toString(), preview: 'hello' });
    assert.ok(item.value instanceof Uint8Array);
    assert.equal(item.text, 'hello');
  });

  it('nested deeper than util.inspect looks, it is [Item]', async () => {
    const item = await stored('print:nested', 'v');
    assert.equal(inspect({ a: { b: item } }, { depth: 1 }), '{ a: { b: [Item] } }');
    assert.equal(inspect([item]), `[ Item { size: 1, flags: 0, cas: ${item.cas}n, preview: 'v' } ]`);
  });
});
