import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ErrorCode } from '../../../lib/errors.js';
import { OUT_OF_LINE_VALUE } from '../../../lib/protocol/block-writer.js';
import { MetaWriter, StoreMode } from '../../../lib/protocol/meta/writer.js';
import { concat, utf8 } from '../../support/frames.js';
import { throwsCode } from '../../support/throws.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

function take(writer: MetaWriter): string {
  const out = concat(writer.drain());
  writer.drained();
  return text(out);
}

function written(write: (w: MetaWriter) => void, limit?: number): string {
  const writer = new MetaWriter(limit);
  write(writer);
  return take(writer);
}

describe('MetaWriter: request lines, byte for byte', () => {
  const cases: [string, (w: MetaWriter) => void, string][] = [
    ['get', (w) => w.get('foo', 7, false, 0, false), 'mg foo v f c O7\r\n'],
    ['gat', (w) => w.get('foo', 8, true, 300, false), 'mg foo v f c T300 O8\r\n'],
    ['quiet get (getMulti)', (w) => w.get('foo', 4294967295, false, 0, true), 'mg foo v f c O4294967295 q\r\n'],
    ['touch', (w) => w.touch('k', 86400, 0), 'mg k T86400 O0\r\n'],
    ['set', (w) => w.store(StoreMode.Set, 'k', 'hi', 42, 10, 0, 0, 1), 'ms k 2 F42 T10 MS O1\r\nhi\r\n'],
    ['add', (w) => w.store(StoreMode.Add, 'k', 'hi', 0, 0, 0, 0, 2), 'ms k 2 F0 T0 ME O2\r\nhi\r\n'],
    ['replace', (w) => w.store(StoreMode.Replace, 'k', 'hi', 0, 0, 0, 0, 3), 'ms k 2 F0 T0 MR O3\r\nhi\r\n'],
    ['cas set', (w) => w.store(StoreMode.Set, 'k', 'hi', 1, 2, 0, 99, 4), 'ms k 2 F1 T2 C99 MS O4\r\nhi\r\n'],
    ['append', (w) => w.store(StoreMode.Append, 'k', 'hi', 5, 6, 0, 0, 5), 'ms k 2 MA O5\r\nhi\r\n'],
    ['prepend with cas', (w) => w.store(StoreMode.Prepend, 'k', 'hi', 0, 0, 1, 0, 6), 'ms k 2 C4294967296 MP O6\r\nhi\r\n'],
    ['empty value', (w) => w.store(StoreMode.Set, 'k', '', 0, 0, 0, 0, 7), 'ms k 0 F0 T0 MS O7\r\n\r\n'],
    ['delete', (w) => w.delete('k', 0, 0, 8), 'md k O8\r\n'],
    ['delete with cas', (w) => w.delete('k', 0xffffffff, 0xffffffff, 9), 'md k C18446744073709551615 O9\r\n'],
    ['delete with a cas just under 2^53', (w) => w.delete('k', 0x1fffff, 0xffffffff, 9), 'md k C9007199254740991 O9\r\n'],
    ['incr', (w) => w.arithmetic('n', false, 1, false, 0, 0, 10), 'ma n MI D1 v O10\r\n'],
    ['decr', (w) => w.arithmetic('n', true, 25, false, 0, 0, 11), 'ma n MD D25 v O11\r\n'],
    ['incr creating', (w) => w.arithmetic('n', false, 1, true, 60, 100, 12), 'ma n MI D1 N60 J100 v O12\r\n'],
    ['incr, 64-bit bigint operands', (w) => w.arithmetic('n', false, 2n ** 64n - 1n, true, 0, 2n ** 32n, 13), 'ma n MI D18446744073709551615 N0 J4294967296 v O13\r\n'],
    ['incr, number operands over 2^32', (w) => w.arithmetic('n', false, 2 ** 53 - 1, true, 0, 10_000_000_000, 14), 'ma n MI D9007199254740991 N0 J10000000000 v O14\r\n'],
    ['incr, small bigint', (w) => w.arithmetic('n', false, 7n, false, 0, 0, 15), 'ma n MI D7 v O15\r\n'],
    ['noop', (w) => w.noop(), 'mn\r\n'],
    ['version', (w) => w.version(), 'version\r\n'],
    ['stats', (w) => w.stats(null), 'stats\r\n'],
    ['stats of a group', (w) => w.stats('slabs'), 'stats slabs\r\n'],
    ['flush_all', (w) => w.flush(0), 'flush_all\r\n'],
    ['flush_all with a delay', (w) => w.flush(30), 'flush_all 30\r\n'],
    ['text authentication', (w) => w.auth('alice', 'pw'), 'set memring-auth 0 -1 8\r\nalice pw\r\n'],
  ];
  for (const [name, write, expected] of cases) {
    it(name, () => assert.equal(written(write), expected));
  }

  it('writes every digit count of a 32-bit number', () => {
    for (let n = 1, digits = 1; digits <= 10; n *= 10, digits++) {
      for (const v of [n - 1, n, Math.min(n * 10 - 1, 0xffffffff)]) {
        assert.equal(written((w) => w.touch('k', v, v)), `mg k T${v} O${v}\r\n`);
      }
    }
    assert.equal(written((w) => w.touch('k', 0xffffffff, 0)), 'mg k T4294967295 O0\r\n');
  });

  it('a UTF-8 key and a non-ASCII string value are written with their byte lengths', () => {
    assert.equal(Buffer.from(written((w) => w.store(StoreMode.Set, 'clé', 'héllo wörld', 0, 0, 0, 0, 1)), 'latin1').toString('utf8'), 'ms clé 13 F0 T0 MS O1\r\nhéllo wörld\r\n');
    assert.equal(Buffer.from(written((w) => w.store(StoreMode.Set, 'k', '😀'.repeat(500), 0, 0, 0, 0, 1)), 'latin1').toString('utf8'), `ms k 2000 F0 T0 MS O1\r\n${'😀'.repeat(500)}\r\n`);
  });

  it('bytes of every value pass as they are', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    assert.equal(written((w) => w.store(StoreMode.Set, 'k', all, 0, 0, 0, 0, 1)), `ms k 256 F0 T0 MS O1\r\n${text(all)}\r\n`);
  });
});

describe('MetaWriter: values of 16 KiB and more go out as their own chunk, copied at the call', () => {
  for (const value of [new Uint8Array(OUT_OF_LINE_VALUE).fill(0x61), 'b'.repeat(OUT_OF_LINE_VALUE)]) {
    it(`a ${typeof value === 'string' ? 'string' : 'Uint8Array'} value`, () => {
      const writer = new MetaWriter();
      writer.get('before', 1, false, 0, false);
      writer.store(StoreMode.Set, 'k', value, 0, 0, 0, 0, 2);
      if (value instanceof Uint8Array) value.fill(0x7a); // the stored value is the value at the call
      writer.noop();
      const chunks = writer.drain();
      assert.equal(chunks.length, 3);
      assert.equal(text(chunks[0]!), 'mg before v f c O1\r\nms k 16384 F0 T0 MS O2\r\n');
      assert.equal(chunks[1]!.length, OUT_OF_LINE_VALUE);
      assert.ok(chunks[1]!.every((b) => b === (typeof value === 'string' ? 0x62 : 0x61)));
      assert.notEqual(chunks[1], value);
      assert.equal(text(chunks[2]!), '\r\nmn\r\n');
    });
  }
});

describe('MetaWriter: bad keys and values commit nothing', () => {
  const badKeys: [string, unknown][] = [
    ['empty', ''],
    ['251 bytes', 'k'.repeat(251)],
    ['over 250 bytes in UTF-8', 'é'.repeat(126)],
    ['a space', 'a b'],
    ['a newline', 'a\nb'],
    ['a carriage return', 'a\rb'],
    ['DEL', 'a\x7fb'],
    ['a C1 control', 'a\u0085b'],
    ['a lone surrogate', 'a\ud800'],
    ['not a string', 42],
  ];
  for (const [name, key] of badKeys) {
    it(`key: ${name}`, () => {
      const writer = new MetaWriter();
      writer.noop();
      for (const write of [
        (w: MetaWriter) => w.get(key as string, 1, false, 0, false),
        (w: MetaWriter) => w.store(StoreMode.Set, key as string, 'v', 0, 0, 0, 0, 1),
        (w: MetaWriter) => w.delete(key as string, 0, 0, 1),
        (w: MetaWriter) => w.arithmetic(key as string, false, 1, false, 0, 0, 1),
        (w: MetaWriter) => w.touch(key as string, 1, 1),
      ]) {
        throwsCode(() => write(writer), ErrorCode.BAD_KEY);
      }
      assert.equal(take(writer), 'mn\r\n');
    });
  }

  it('a stats group holding a space', () => {
    const writer = new MetaWriter();
    throwsCode(() => writer.stats('a b'), ErrorCode.BAD_KEY);
    assert.equal(writer.pending, false);
  });

  it('a value that is neither a string nor a Uint8Array: MC_ERR_BAD_VALUE', () => {
    const writer = new MetaWriter();
    for (const value of [null, 42, {}, [1, 2], new Uint16Array(2)]) {
      throwsCode(() => writer.store(StoreMode.Set, 'k', value as never, 0, 0, 0, 0, 1), ErrorCode.BAD_VALUE);
    }
    assert.equal(writer.pending, false);
  });

  it('a value over the limit, inline or out of line, string or bytes: MC_ERR_VALUE_TOO_LARGE', () => {
    for (const [limit, size] of [[100, 101], [100_000, 100_001], [20_000, 30_000]] as const) {
      const writer = new MetaWriter(limit);
      writer.noop();
      throwsCode(() => writer.store(StoreMode.Set, 'k', new Uint8Array(size), 0, 0, 0, 0, 1), ErrorCode.VALUE_TOO_LARGE);
      throwsCode(() => writer.store(StoreMode.Set, 'k', 'x'.repeat(size), 0, 0, 0, 0, 1), ErrorCode.VALUE_TOO_LARGE);
      // UTF-8 longer than the limit although the string is shorter.
      throwsCode(() => writer.store(StoreMode.Set, 'k', 'é'.repeat(Math.ceil(size / 2)), 0, 0, 0, 0, 1), ErrorCode.VALUE_TOO_LARGE);
      assert.equal(take(writer), 'mn\r\n');
    }
  });

  it('credentials text authentication cannot carry: MC_ERR_BAD_CONFIG without the password in the message', () => {
    const error = throwsCode(() => new MetaWriter().auth('alice', 'pass word'), ErrorCode.BAD_CONFIG);
    assert.match(error.message, /alice/);
    assert.doesNotMatch(error.message, /pass word/);
    throwsCode(() => new MetaWriter().auth('al ice', 'pw'), ErrorCode.BAD_CONFIG);
  });
});

describe('MetaWriter: blocks', () => {
  it('checkpoint and rollback forget what was committed since', () => {
    const writer = new MetaWriter();
    writer.noop();
    writer.checkpoint();
    writer.get('a', 1, false, 0, true);
    writer.store(StoreMode.Set, 'b', new Uint8Array(OUT_OF_LINE_VALUE), 0, 0, 0, 0, 2);
    writer.rollback();
    writer.version();
    assert.equal(take(writer), 'mn\r\nversion\r\n');
  });

  it('drained bytes are never written over: a full block is left and a new one begun', () => {
    const writer = new MetaWriter();
    const first = writer.drain();
    assert.equal(first.length, 0);
    writer.get('k', 1, false, 0, false);
    const out = writer.drain()[0]!;
    const copy = out.slice();
    writer.drained();
    for (let i = 0; i < 5000; i++) writer.store(StoreMode.Set, `key:${i}`, 'v'.repeat(50), 0, 0, 0, 0, i);
    assert.deepEqual(out, copy);
    const all = take(writer);
    assert.equal(all.split('\r\n').length - 1, 10_000);
  });

  it('requeue puts drained chunks after what is committed; discard drops what was not drained', () => {
    const writer = new MetaWriter();
    writer.get('old', 1, false, 0, false);
    const old = writer.drain().slice();
    writer.drained();
    writer.noop();
    writer.requeue(old);
    assert.equal(take(writer), 'mn\r\nmg old v f c O1\r\n');
    writer.version();
    writer.discard();
    assert.equal(writer.pending, false);
    assert.deepEqual(utf8(take(writer)), new Uint8Array(0));
  });
});
