import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ErrorCode, MemcacheError } from '../../../lib/errors.js';
import { Opcode } from '../../../lib/protocol/binary/opcodes.js';
import { OUT_OF_LINE_VALUE, RequestWriter } from '../../../lib/protocol/binary/writer.js';
import { concat, hex, request, utf8, type FrameFields } from '../../support/frames.js';
import { throwsCode } from '../../support/throws.js';

// ---- helpers -----------------------------------------------------------------

/** Bytes from hex text; spaces and line breaks are for reading only. */
function take(writer: RequestWriter): Uint8Array {
  const out = concat(writer.drain());
  writer.drained();
  return out;
}


function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v));
  return out;
}

function counterExtras(delta: bigint, initial: bigint, expires: number): Uint8Array {
  const out = new Uint8Array(20);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, delta);
  view.setBigUint64(8, initial);
  view.setUint32(16, expires);
  return out;
}

function allBytes(): Uint8Array {
  const out = new Uint8Array(256);
  for (let i = 0; i < 256; i++) out[i] = i;
  return out;
}


// ---- exact bytes -------------------------------------------------------------

describe('RequestWriter: header fields', () => {
  it('writes magic, opcode, key length, extras length, body length, opaque and CAS big-endian', () => {
    const writer = new RequestWriter();
    writer.keyOnly(Opcode.Get, 'foo', 0x01020304);
    assert.deepEqual(
      take(writer),
      hex(`
        80 00 0003 00 00 0000
        00000003
        01020304
        00000000 00000000
        666f6f`),
    );
  });

  it('writes the full 32-bit range of the opaque and of both CAS halves', () => {
    const writer = new RequestWriter();
    writer.keyOnly(Opcode.Delete, 'k', 0xffffffff, 0xfedcba98, 0x76543210);
    assert.deepEqual(
      take(writer),
      hex(`
        80 04 0001 00 00 0000
        00000001
        ffffffff
        fedcba98 76543210
        6b`),
    );
  });

  it('writes a key of 250 bytes with its length in both bytes of the key-length field', () => {
    const writer = new RequestWriter();
    const key = 'k'.repeat(250);
    writer.keyOnly(Opcode.Get, key, 1);
    const bytes = take(writer);
    assert.equal(bytes[2], 0x00);
    assert.equal(bytes[3], 0xfa);
    assert.deepEqual(bytes, request({ opcode: Opcode.Get, key: utf8(key), opaque: 1 }));
  });
});

describe('RequestWriter: store frames (Set, Add, Replace and quiet forms)', () => {
  it('puts flags then expiration in 8 bytes of extras, then the key, then the value', () => {
    const writer = new RequestWriter();
    writer.store(Opcode.Set, 'key', 'value', 0xdeadbeef, 3600, 7, 1, 2);
    assert.deepEqual(
      take(writer),
      hex(`
        80 01 0003 08 00 0000
        00000010
        00000007
        00000001 00000002
        deadbeef 00000e10
        6b6579
        76616c7565`),
    );
  });

  it('writes an empty value as a body of extras and key only', () => {
    const writer = new RequestWriter();
    writer.store(Opcode.Add, 'k', new Uint8Array(0), 0, 0, 0);
    assert.deepEqual(take(writer), hex('80 02 0001 08 00 0000 00000009 00000000 0000000000000000 00000000 00000000 6b'));
  });

  it('writes expiration 0xFFFFFFFF and flags 0xFFFFFFFF unchanged', () => {
    const writer = new RequestWriter();
    writer.store(Opcode.Replace, 'k', 'v', 0xffffffff, 0xffffffff, 3);
    assert.deepEqual(
      take(writer),
      request({ opcode: Opcode.Replace, extras: u32s(0xffffffff, 0xffffffff), key: utf8('k'), value: utf8('v'), opaque: 3 }),
    );
  });
});

describe('RequestWriter: counter frames (Increment, Decrement and quiet forms)', () => {
  it('writes delta u64, initial u64, expiration u32 as 20 bytes of extras', () => {
    const writer = new RequestWriter();
    writer.counter(Opcode.Increment, 'n', 1, 0, 0, 9);
    assert.deepEqual(
      take(writer),
      hex(`
        80 05 0001 14 00 0000
        00000015
        00000009
        00000000 00000000
        00000000 00000001
        00000000 00000000
        00000000
        6e`),
    );
  });

  it('writes number operands across the 32-bit boundary exactly', () => {
    const writer = new RequestWriter();
    writer.counter(Opcode.Decrement, 'n', 2 ** 32, 2 ** 32 - 1, 60, 1);
    writer.counter(Opcode.Increment, 'n', Number.MAX_SAFE_INTEGER, 2 ** 32 + 5, 0xffffffff, 2);
    assert.deepEqual(
      take(writer),
      concat([
        hex('80 06 0001 14 00 0000 00000015 00000001 0000000000000000 0000000100000000 00000000ffffffff 0000003c 6e'),
        hex('80 05 0001 14 00 0000 00000015 00000002 0000000000000000 001fffffffffffff 0000000100000005 ffffffff 6e'),
      ]),
    );
  });

  it('writes bigint operands up to 2^64-1 exactly', () => {
    const writer = new RequestWriter();
    const max = 2n ** 64n - 1n;
    writer.counter(Opcode.IncrementQ, 'n', max, 2n ** 63n + 7n, 0, 4);
    writer.counter(Opcode.DecrementQ, 'n', 0n, 0x0123456789abcdefn, 0, 5);
    assert.deepEqual(
      take(writer),
      concat([
        hex('80 15 0001 14 00 0000 00000015 00000004 0000000000000000 ffffffffffffffff 8000000000000007 00000000 6e'),
        hex('80 16 0001 14 00 0000 00000015 00000005 0000000000000000 0000000000000000 0123456789abcdef 00000000 6e'),
      ]),
    );
  });

  it('writes the same bytes for a number and the equal bigint', () => {
    for (const n of [0, 1, 255, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
      const a = new RequestWriter();
      const b = new RequestWriter();
      a.counter(Opcode.Increment, 'n', n, n, 0, 1);
      b.counter(Opcode.Increment, 'n', BigInt(n), BigInt(n), 0, 1);
      const expected = request({
        opcode: Opcode.Increment,
        extras: counterExtras(BigInt(n), BigInt(n), 0),
        key: utf8('n'),
        opaque: 1,
      });
      assert.deepEqual(take(a), expected, String(n));
      assert.deepEqual(take(b), expected, String(n));
    }
  });
});

describe('RequestWriter: touch and get-and-touch frames', () => {
  it('writes the expiration as 4 bytes of extras before the key', () => {
    const writer = new RequestWriter();
    writer.touch(Opcode.Touch, 'k', 0x12345678, 2);
    assert.deepEqual(take(writer), hex('80 1c 0001 04 00 0000 00000005 00000002 0000000000000000 12345678 6b'));
  });

  it('writes GAT, GATQ, GATK and GATKQ with their own opcodes and the same layout', () => {
    const writer = new RequestWriter();
    const opcodes = [Opcode.GAT, Opcode.GATQ, Opcode.GATK, Opcode.GATKQ];
    for (const op of opcodes) writer.touch(op, 'abc', 100, op);
    assert.deepEqual(
      take(writer),
      concat(opcodes.map((op) => hex(`80 ${op.toString(16).padStart(2, '0')} 0003 04 00 0000 00000007 000000${op.toString(16).padStart(2, '0')} 0000000000000000 00000064 616263`))),
    );
  });
});

describe('RequestWriter: keyless frames', () => {
  it('writes Flush with a delay as 4 bytes of extras and no key', () => {
    const writer = new RequestWriter();
    writer.flush(Opcode.Flush, 30, 5);
    writer.flush(Opcode.FlushQ, 0xffffffff, 6);
    assert.deepEqual(
      take(writer),
      hex(`
        80 08 0000 04 00 0000 00000004 00000005 0000000000000000 0000001e
        80 18 0000 04 00 0000 00000004 00000006 0000000000000000 ffffffff`),
    );
  });

  it('writes Flush with delay 0 as a bare header', () => {
    const writer = new RequestWriter();
    writer.flush(Opcode.Flush, 0, 5);
    assert.deepEqual(take(writer), hex('80 08 0000 00 00 0000 00000000 00000005 0000000000000000'));
  });

  it('writes Noop, Version, Quit and QuitQ as a bare 24-byte header', () => {
    const writer = new RequestWriter();
    writer.empty(Opcode.Noop, 1);
    writer.empty(Opcode.Version, 2);
    writer.empty(Opcode.Quit, 3);
    writer.empty(Opcode.QuitQ, 4);
    assert.deepEqual(
      take(writer),
      hex(`
        80 0a 0000 00 00 0000 00000000 00000001 0000000000000000
        80 0b 0000 00 00 0000 00000000 00000002 0000000000000000
        80 07 0000 00 00 0000 00000000 00000003 0000000000000000
        80 17 0000 00 00 0000 00000000 00000004 0000000000000000`),
    );
  });

  it('writes Stat without a group as a bare header, and with a group as the key', () => {
    const writer = new RequestWriter();
    writer.stat(null, 1);
    writer.stat('items', 2);
    assert.deepEqual(
      take(writer),
      hex(`
        80 10 0000 00 00 0000 00000000 00000001 0000000000000000
        80 10 0005 00 00 0000 00000005 00000002 0000000000000000 6974656d73`),
    );
  });
});

describe('RequestWriter: SASL frames', () => {
  it('writes SASL auth with the mechanism as the key and the payload as the value', () => {
    const writer = new RequestWriter();
    writer.sasl(Opcode.SaslAuth, 'PLAIN', utf8('\0user\0pass'), 1);
    assert.deepEqual(
      take(writer),
      hex('80 21 0005 00 00 0000 0000000f 00000001 0000000000000000 504c41494e 00 75736572 00 70617373'),
    );
  });

  it('writes SASL step like auth, and list-mechanisms as a bare header', () => {
    const writer = new RequestWriter();
    writer.sasl(Opcode.SaslStep, 'PLAIN', new Uint8Array([1, 2]), 2);
    writer.empty(Opcode.SaslListMechs, 3);
    assert.deepEqual(
      take(writer),
      hex(`
        80 22 0005 00 00 0000 00000007 00000002 0000000000000000 504c41494e 0102
        80 20 0000 00 00 0000 00000000 00000003 0000000000000000`),
    );
  });
});

describe('RequestWriter: every opcode memcached 1.6 answers', () => {
  const key = utf8('key');
  const value = utf8('val');
  // One writer call per opcode, and the bytes protocol.md says it must produce.
  const cases: [number, (w: RequestWriter, opaque: number) => void, FrameFields][] = [
    [Opcode.Get, (w, o) => w.keyOnly(Opcode.Get, 'key', o), { opcode: Opcode.Get, key }],
    [Opcode.GetQ, (w, o) => w.keyOnly(Opcode.GetQ, 'key', o), { opcode: Opcode.GetQ, key }],
    [Opcode.GetK, (w, o) => w.keyOnly(Opcode.GetK, 'key', o), { opcode: Opcode.GetK, key }],
    [Opcode.GetKQ, (w, o) => w.keyOnly(Opcode.GetKQ, 'key', o), { opcode: Opcode.GetKQ, key }],
    [Opcode.Delete, (w, o) => w.keyOnly(Opcode.Delete, 'key', o, 0, 9), { opcode: Opcode.Delete, key, casLo: 9 }],
    [Opcode.DeleteQ, (w, o) => w.keyOnly(Opcode.DeleteQ, 'key', o), { opcode: Opcode.DeleteQ, key }],
    ...[Opcode.Set, Opcode.Add, Opcode.Replace, Opcode.SetQ, Opcode.AddQ, Opcode.ReplaceQ].map(
      (op): [number, (w: RequestWriter, opaque: number) => void, FrameFields] => [
        op,
        (w, o) => w.store(op, 'key', 'val', 5, 6, o, 0, 1),
        { opcode: op, extras: u32s(5, 6), key, value, casLo: 1 },
      ],
    ),
    ...[Opcode.Append, Opcode.Prepend, Opcode.AppendQ, Opcode.PrependQ].map(
      (op): [number, (w: RequestWriter, opaque: number) => void, FrameFields] => [
        op,
        (w, o) => w.concat(op, 'key', value, o),
        { opcode: op, key, value },
      ],
    ),
    ...[Opcode.Increment, Opcode.Decrement, Opcode.IncrementQ, Opcode.DecrementQ].map(
      (op): [number, (w: RequestWriter, opaque: number) => void, FrameFields] => [
        op,
        (w, o) => w.counter(op, 'key', 3, 4, 5, o),
        { opcode: op, extras: counterExtras(3n, 4n, 5), key },
      ],
    ),
    ...[Opcode.Touch, Opcode.GAT, Opcode.GATQ, Opcode.GATK, Opcode.GATKQ].map(
      (op): [number, (w: RequestWriter, opaque: number) => void, FrameFields] => [
        op,
        (w, o) => w.touch(op, 'key', 77, o),
        { opcode: op, extras: u32s(77), key },
      ],
    ),
    [Opcode.Flush, (w, o) => w.flush(Opcode.Flush, 10, o), { opcode: Opcode.Flush, extras: u32s(10) }],
    [Opcode.FlushQ, (w, o) => w.flush(Opcode.FlushQ, 0, o), { opcode: Opcode.FlushQ }],
    [Opcode.Stat, (w, o) => w.stat('slabs', o), { opcode: Opcode.Stat, key: utf8('slabs') }],
    ...[Opcode.Quit, Opcode.QuitQ, Opcode.Noop, Opcode.Version, Opcode.SaslListMechs].map(
      (op): [number, (w: RequestWriter, opaque: number) => void, FrameFields] => [
        op,
        (w, o) => w.empty(op, o),
        { opcode: op },
      ],
    ),
    [Opcode.SaslAuth, (w, o) => w.sasl(Opcode.SaslAuth, 'PLAIN', value, o), { opcode: Opcode.SaslAuth, key: utf8('PLAIN'), value }],
    [Opcode.SaslStep, (w, o) => w.sasl(Opcode.SaslStep, 'PLAIN', value, o), { opcode: Opcode.SaslStep, key: utf8('PLAIN'), value }],
  ];

  it('covers every opcode of the protocol table', () => {
    const covered = new Set(cases.map(([op]) => op));
    assert.deepEqual([...covered].sort((a, b) => a - b), Object.values(Opcode).sort((a, b) => a - b));
    assert.equal(covered.size, 35);
  });

  it('writes each one as protocol.md lays it out, alone and all in one pipeline', () => {
    const pipeline = new RequestWriter();
    const expected: Uint8Array[] = [];
    cases.forEach(([op, write, shape], i) => {
      const alone = new RequestWriter();
      write(alone, 1000 + i);
      const frame = request({ ...shape, opaque: 1000 + i });
      assert.deepEqual(take(alone), frame, `opcode 0x${op.toString(16)}`);
      write(pipeline, 1000 + i);
      expected.push(frame);
    });
    assert.deepEqual(take(pipeline), concat(expected));
  });

  it('sends Prepend as 0x0f and Append as 0x0e (not 0x0e for both)', () => {
    const writer = new RequestWriter();
    writer.concat(Opcode.Prepend, 'k', 'a', 1);
    writer.concat(Opcode.Append, 'k', 'b', 2);
    const bytes = take(writer);
    assert.equal(bytes[1], 0x0f);
    assert.equal(bytes[26 + 1], 0x0e);
  });
});

// ---- keys and values ---------------------------------------------------------

describe('RequestWriter: UTF-8 keys', () => {
  const keys: [string, string][] = [
    ['café', '636166 c3a9'],
    ['ключ', 'd0ba d0bb d18e d187'],
    ['鍵', 'e98db5'],
    ['🔑', 'f09f9491'],
    ['a🔑é鍵z', '61 f09f9491 c3a9 e98db5 7a'],
  ];
  for (const [key, utf8Hex] of keys) {
    it(`writes ${JSON.stringify(key)} as its UTF-8 bytes with the byte length in the header`, () => {
      const writer = new RequestWriter();
      writer.keyOnly(Opcode.Get, key, 1);
      const keyBytes = hex(utf8Hex);
      assert.deepEqual(take(writer), request({ opcode: Opcode.Get, key: keyBytes, opaque: 1 }));
    });
  }

  it('puts a UTF-8 key between the extras and the value of a store', () => {
    const writer = new RequestWriter();
    writer.store(Opcode.Set, 'ключ', 'v', 1, 2, 3);
    assert.deepEqual(
      take(writer),
      request({ opcode: Opcode.Set, extras: u32s(1, 2), key: hex('d0bad0bbd18ed187'), value: utf8('v'), opaque: 3 }),
    );
  });

  it('accepts a key of exactly 250 UTF-8 bytes made of multi-byte characters', () => {
    const writer = new RequestWriter();
    const key = '鍵'.repeat(83) + 'k'; // 83 x 3 + 1 = 250 bytes
    writer.keyOnly(Opcode.Get, key, 1);
    assert.deepEqual(take(writer), request({ opcode: Opcode.Get, key: utf8(key), opaque: 1 }));
  });
});

describe('RequestWriter: values', () => {
  it('writes a string value as UTF-8', () => {
    const writer = new RequestWriter();
    writer.store(Opcode.Set, 'k', 'héllo 🔑', 0, 0, 1);
    assert.deepEqual(
      take(writer),
      request({ opcode: Opcode.Set, extras: u32s(0, 0), key: utf8('k'), value: hex('68c3a96c6c6f20f09f9491'), opaque: 1 }),
    );
  });

  it('writes a Uint8Array value byte for byte, all 256 byte values', () => {
    const writer = new RequestWriter();
    const value = allBytes();
    writer.store(Opcode.Set, 'k', value, 0, 0, 1);
    writer.concat(Opcode.Append, 'k', value, 2);
    assert.deepEqual(
      take(writer),
      concat([
        request({ opcode: Opcode.Set, extras: u32s(0, 0), key: utf8('k'), value, opaque: 1 }),
        request({ opcode: Opcode.Append, key: utf8('k'), value, opaque: 2 }),
      ]),
    );
  });

  it('writes a Buffer value like the Uint8Array it is', () => {
    const writer = new RequestWriter();
    writer.store(Opcode.Set, 'k', Buffer.from([0, 0xff, 0x80]), 0, 0, 1);
    assert.deepEqual(
      take(writer),
      request({ opcode: Opcode.Set, extras: u32s(0, 0), key: utf8('k'), value: hex('00ff80'), opaque: 1 }),
    );
  });
});

describe('RequestWriter: values of OUT_OF_LINE_VALUE bytes or more', () => {
  it('hands out a big Uint8Array as its own chunk: a copy taken at the call, not the caller array', () => {
    const writer = new RequestWriter();
    const big = new Uint8Array(OUT_OF_LINE_VALUE).fill(0xab);
    writer.keyOnly(Opcode.Get, 'before', 1);
    writer.store(Opcode.Set, 'big', big, 7, 0, 2);
    writer.keyOnly(Opcode.Get, 'after', 3);
    const chunks = writer.drain();
    assert.equal(chunks.length, 3);
    assert.notEqual(chunks[1], big, 'the value chunk is a copy');
    assert.notEqual(chunks[1]!.buffer, big.buffer, 'the copy shares no memory with the caller array');
    assert.deepEqual(chunks[1], big);
    assert.deepEqual(
      chunks[0],
      concat([
        request({ opcode: Opcode.Get, key: utf8('before'), opaque: 1 }),
        request({ opcode: Opcode.Set, extras: u32s(7, 0), key: utf8('big'), value: big, opaque: 2 }).subarray(0, 24 + 8 + 3),
      ]),
    );
    // The header announces the value's length even though the value is a separate chunk.
    assert.equal(new DataView(chunks[0]!.buffer, chunks[0]!.byteOffset).getUint32(30 + 8), 8 + 3 + OUT_OF_LINE_VALUE);
    assert.deepEqual(chunks[2], request({ opcode: Opcode.Get, key: utf8('after'), opaque: 3 }));
    writer.drained();
    assert.equal(writer.pending, false);
  });

  it('hands out the bytes as they were at store(), at every size, for Uint8Array and Buffer values', () => {
    for (const size of [1, OUT_OF_LINE_VALUE - 1, OUT_OF_LINE_VALUE, 4 * OUT_OF_LINE_VALUE]) {
      for (const value of [new Uint8Array(size), Buffer.alloc(size)]) {
        const writer = new RequestWriter();
        value.fill(0x41);
        writer.store(Opcode.Set, 'k', value, 0, 0, 1);
        const expected = request({ opcode: Opcode.Set, extras: u32s(0, 0), key: utf8('k'), value: new Uint8Array(value), opaque: 1 });
        value.fill(0x42);
        assert.deepEqual(take(writer), expected, `${size} bytes, ${value.constructor.name}`);
      }
    }
  });

  it('copies a value one byte under the threshold into the frame', () => {
    const writer = new RequestWriter();
    const value = new Uint8Array(OUT_OF_LINE_VALUE - 1).fill(1);
    writer.store(Opcode.Set, 'k', value, 0, 0, 1);
    const chunks = writer.drain();
    assert.equal(chunks.length, 1);
    assert.notEqual(chunks[0], value);
    assert.deepEqual(chunks[0], request({ opcode: Opcode.Set, extras: u32s(0, 0), key: utf8('k'), value, opaque: 1 }));
  });

  it('sends big Append/Prepend and SASL payloads out of line too', () => {
    const writer = new RequestWriter();
    const big = new Uint8Array(OUT_OF_LINE_VALUE * 2).fill(7);
    writer.concat(Opcode.Prepend, 'k', big, 1);
    writer.sasl(Opcode.SaslAuth, 'PLAIN', big, 2);
    const chunks = writer.drain();
    assert.equal(chunks.length, 4);
    assert.equal(chunks.filter((c) => c === big).length, 0, 'each value chunk is a copy');
    assert.deepEqual(chunks[1], big);
    assert.deepEqual(chunks[3], big);
    assert.deepEqual(
      concat(chunks),
      concat([
        request({ opcode: Opcode.Prepend, key: utf8('k'), value: big, opaque: 1 }),
        request({ opcode: Opcode.SaslAuth, key: utf8('PLAIN'), value: big, opaque: 2 }),
      ]),
    );
  });

  it('encodes a big string value to UTF-8 and hands it out as its own chunk', () => {
    const writer = new RequestWriter();
    const text = 'é鍵🔑'.repeat(3000); // 9 bytes per repeat
    writer.store(Opcode.Set, 'k', text, 0, 0, 1);
    const chunks = writer.drain();
    assert.equal(chunks.length, 2);
    assert.deepEqual(chunks[1], utf8(text));
    assert.deepEqual(
      concat(chunks),
      request({ opcode: Opcode.Set, extras: u32s(0, 0), key: utf8('k'), value: utf8(text), opaque: 1 }),
    );
  });
});

describe('RequestWriter: frames past one block', () => {
  it('hands out more than 64 KiB of frames in order and intact, drained as it goes', () => {
    const writer = new RequestWriter();
    const chunks: Uint8Array[] = [];
    const expected: Uint8Array[] = [];
    for (let i = 0; i < 6000; i++) {
      const key = `key:${i}`;
      const value = new Uint8Array(i % 300).fill(i & 0xff);
      if (i % 3 === 0) {
        writer.keyOnly(Opcode.GetKQ, key, i);
        expected.push(request({ opcode: Opcode.GetKQ, key: utf8(key), opaque: i }));
      } else {
        writer.store(Opcode.SetQ, key, value, i, 0, i);
        expected.push(request({ opcode: Opcode.SetQ, extras: u32s(i, 0), key: utf8(key), value, opaque: i }));
      }
      // Drain now and then, keeping the chunks (not copies): bytes handed out must never be written over.
      if (i % 97 === 0) {
        chunks.push(...writer.drain());
        writer.drained();
      }
    }
    chunks.push(...writer.drain());
    writer.drained();
    const total = concat(chunks);
    assert.ok(total.length > 4 * 64 * 1024, `only ${total.length} bytes`);
    assert.deepEqual(total, concat(expected));
  });

  it('hands out more than 64 KiB written without a drain in order and intact', () => {
    const writer = new RequestWriter();
    const expected: Uint8Array[] = [];
    const value = allBytes();
    for (let i = 0; i < 1000; i++) {
      writer.store(Opcode.Set, `k${i}`, value, 0, 0, i);
      expected.push(request({ opcode: Opcode.Set, extras: u32s(0, 0), key: utf8(`k${i}`), value, opaque: i }));
    }
    const chunks = writer.drain();
    assert.ok(chunks.length >= 4, `${chunks.length} chunks`);
    assert.deepEqual(concat(chunks), concat(expected));
  });
});

// ---- bad input ---------------------------------------------------------------

/**
 * Writes `before` frames, runs the bad call, and checks that it threw `code`
 * while leaving `pending` and the drained bytes exactly as they were.
 */
function rejectsCleanly(code: ErrorCode, bad: (w: RequestWriter) => void, writer = new RequestWriter(), before = 2): MemcacheError {
  const expected: Uint8Array[] = [];
  for (let i = 0; i < before; i++) {
    writer.keyOnly(Opcode.Get, `ok:${i}`, i);
    expected.push(request({ opcode: Opcode.Get, key: utf8(`ok:${i}`), opaque: i }));
  }
  const pendingBefore = writer.pending;
  const error = throwsCode(() => bad(writer), code);
  assert.equal(writer.pending, pendingBefore, 'pending changed');
  assert.deepEqual(take(writer), concat(expected), 'a half-written frame came out of drain()');
  // The writer stays usable.
  writer.empty(Opcode.Noop, 99);
  assert.deepEqual(take(writer), request({ opcode: Opcode.Noop, opaque: 99 }));
  return error;
}

describe('RequestWriter: bad keys throw MC_ERR_BAD_KEY and write nothing', () => {
  const badKeys: [string, unknown][] = [
    ['empty', ''],
    ['251 ASCII bytes', 'k'.repeat(251)],
    ['84 three-byte characters (252 bytes)', '鍵'.repeat(84)],
    ['83 three-byte characters and 2 ASCII (251 bytes)', '鍵'.repeat(83) + 'ab'],
    ['63 emoji (252 bytes)', '🔑'.repeat(63)],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a newline', 'a\nb'],
    ['a carriage return', 'a\rb'],
    ['a NUL', 'a\0b'],
    ['DEL 0x7f', 'a\x7fb'],
    ['a C1 control U+0085', 'a\u0085b'],
    ['a C1 control after a multi-byte character', 'é\u009f'],
    ['a space after a multi-byte character', 'é b'],
    ['a lone high surrogate', 'a\ud83db'],
    ['a lone low surrogate', 'a\udd11b'],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
  ];
  const shapes: [string, (w: RequestWriter, key: string) => void][] = [
    ['keyOnly', (w, k) => w.keyOnly(Opcode.Get, k, 1)],
    ['store', (w, k) => w.store(Opcode.Set, k, 'value', 0, 0, 1)],
    ['concat', (w, k) => w.concat(Opcode.Append, k, new Uint8Array(3), 1)],
    ['counter', (w, k) => w.counter(Opcode.Increment, k, 1, 0, 0, 1)],
    ['touch', (w, k) => w.touch(Opcode.Touch, k, 10, 1)],
    // stat(null) is Stat without a group, so a null key is not bad there.
    ['stat', (w, k) => w.stat(k === null ? 'a b' : k, 1)],
  ];
  for (const [what, key] of badKeys) {
    it(`rejects a key with ${what}`, () => {
      for (const [shape, write] of shapes) {
        for (const before of [0, 2]) {
          try {
            rejectsCleanly(ErrorCode.BAD_KEY, (w) => write(w, key as string), new RequestWriter(), before);
          } catch (error) {
            assert.fail(`${shape}, ${before} frames before: ${(error as Error).message}`);
          }
        }
      }
    });
  }

  it('accepts 250 ASCII bytes, printable punctuation and non-breaking Unicode', () => {
    const writer = new RequestWriter();
    for (const key of ['k'.repeat(250), '!~{}|:;"\'', 'naïve_日本_🔑', '\u00a0x']) {
      writer.keyOnly(Opcode.Get, key, 1);
      assert.deepEqual(take(writer), request({ opcode: Opcode.Get, key: utf8(key), opaque: 1 }), key);
    }
  });

  it('writes nothing when the bad key would have started a new block', () => {
    const writer = new RequestWriter();
    // Fill the first block to within a few bytes of its end.
    const expected: Uint8Array[] = [];
    for (let i = 0; i < 1927; i++) {
      writer.keyOnly(Opcode.Get, 'k'.repeat(10), i);
      expected.push(request({ opcode: Opcode.Get, key: utf8('k'.repeat(10)), opaque: i }));
    }
    throwsCode(() => writer.store(Opcode.Set, 'bad key', 'v', 0, 0, 1), ErrorCode.BAD_KEY);
    throwsCode(() => writer.keyOnly(Opcode.Get, '鍵'.repeat(84), 1), ErrorCode.BAD_KEY);
    assert.equal(writer.pending, true);
    writer.keyOnly(Opcode.Get, 'next', 5);
    expected.push(request({ opcode: Opcode.Get, key: utf8('next'), opaque: 5 }));
    assert.deepEqual(take(writer), concat(expected));
  });

  it('never puts the key in the message of a character error', () => {
    const error = throwsCode(() => new RequestWriter().keyOnly(Opcode.Get, 'secret-token value', 1), ErrorCode.BAD_KEY);
    assert.ok(!error.message.includes('secret-token'), error.message);
  });
});

describe('RequestWriter: bad values throw MC_ERR_BAD_VALUE and write nothing', () => {
  const badValues: [string, unknown][] = [
    ['a number', 42],
    ['a plain object', { a: 1 }],
    ['null', null],
    ['undefined', undefined],
    ['an array of numbers', [1, 2, 3]],
    ['an ArrayBuffer', new ArrayBuffer(4)],
    ['a DataView', new DataView(new ArrayBuffer(4))],
  ];
  for (const [what, value] of badValues) {
    it(`rejects ${what} as a store or concat value`, () => {
      const error = rejectsCleanly(ErrorCode.BAD_VALUE, (w) => w.store(Opcode.Set, 'k', value as string, 0, 0, 1));
      assert.match(error.message, /string or Uint8Array/);
      rejectsCleanly(ErrorCode.BAD_VALUE, (w) => w.concat(Opcode.Append, 'k', value as string, 1));
    });
  }
});

describe('RequestWriter: values over maxValueLength throw MC_ERR_VALUE_TOO_LARGE and write nothing', () => {
  it('takes bytes up to the limit and rejects one more (inline sizes)', () => {
    const writer = new RequestWriter(1000);
    writer.store(Opcode.Set, 'k', new Uint8Array(1000), 0, 0, 1);
    assert.equal(take(writer).length, 24 + 8 + 1 + 1000);
    rejectsCleanly(ErrorCode.VALUE_TOO_LARGE, (w) => w.store(Opcode.Set, 'k', new Uint8Array(1001), 0, 0, 1), writer);
    rejectsCleanly(ErrorCode.VALUE_TOO_LARGE, (w) => w.concat(Opcode.Append, 'k', new Uint8Array(1001), 1), writer);
  });

  it('measures a string by its UTF-8 bytes, not its length', () => {
    const writer = new RequestWriter(1000);
    writer.store(Opcode.Set, 'k', 'é'.repeat(500), 0, 0, 1); // 1000 bytes
    assert.equal(take(writer).length, 24 + 8 + 1 + 1000);
    const error = rejectsCleanly(ErrorCode.VALUE_TOO_LARGE, (w) => w.store(Opcode.Set, 'k', 'é'.repeat(501), 0, 0, 1), writer);
    assert.match(error.message, /1002 bytes/);
  });

  it('rejects big byte and string values (out-of-line sizes)', () => {
    const writer = new RequestWriter(20_000);
    writer.store(Opcode.Set, 'k', new Uint8Array(20_000), 0, 0, 1);
    writer.store(Opcode.Set, 'k', 'x'.repeat(20_000), 0, 0, 2);
    assert.equal(take(writer).length, 2 * (24 + 8 + 1 + 20_000));
    rejectsCleanly(ErrorCode.VALUE_TOO_LARGE, (w) => w.store(Opcode.Set, 'k', new Uint8Array(20_001), 0, 0, 1), writer);
    rejectsCleanly(ErrorCode.VALUE_TOO_LARGE, (w) => w.store(Opcode.Set, 'k', 'x'.repeat(20_001), 0, 0, 1), writer);
    rejectsCleanly(ErrorCode.VALUE_TOO_LARGE, (w) => w.sasl(Opcode.SaslAuth, 'PLAIN', new Uint8Array(20_001), 1), writer);
  });

  it('holds values to 1 MiB by default', () => {
    const writer = new RequestWriter();
    assert.equal(writer.maxValueLength, 1024 * 1024);
    writer.store(Opcode.Set, 'k', new Uint8Array(1024 * 1024), 0, 0, 1);
    take(writer);
    rejectsCleanly(ErrorCode.VALUE_TOO_LARGE, (w) => w.store(Opcode.Set, 'k', new Uint8Array(1024 * 1024 + 1), 0, 0, 1), writer);
  });

  it('never puts the value in the message', () => {
    const writer = new RequestWriter(10);
    const error = throwsCode(() => writer.store(Opcode.Set, 'k', 'password=hunter2', 0, 0, 1), ErrorCode.VALUE_TOO_LARGE);
    assert.ok(!error.message.includes('hunter2'), error.message);
  });
});

// ---- draining and rollback ---------------------------------------------------

describe('RequestWriter: pending, drain, drained and discard', () => {
  it('is not pending when new, pending after a frame, and not pending once drained', () => {
    const writer = new RequestWriter();
    assert.equal(writer.pending, false);
    assert.deepEqual(writer.drain(), []);
    writer.empty(Opcode.Noop, 1);
    assert.equal(writer.pending, true);
    assert.equal(writer.drain().length, 1);
    writer.drained();
    assert.equal(writer.pending, false);
    assert.deepEqual(writer.drain(), []);
  });

  it('does not write over bytes handed out by an earlier drain', () => {
    const writer = new RequestWriter();
    writer.keyOnly(Opcode.Get, 'first', 1);
    const first = writer.drain()[0]!;
    writer.drained();
    const copy = first.slice();
    for (let i = 0; i < 100; i++) writer.store(Opcode.Set, 'other', 'x'.repeat(100), 0, 0, 2);
    assert.deepEqual(first, copy);
  });

  it('drops everything not yet drained on discard()', () => {
    const writer = new RequestWriter();
    writer.keyOnly(Opcode.Get, 'a', 1);
    writer.store(Opcode.Set, 'big', new Uint8Array(OUT_OF_LINE_VALUE), 0, 0, 2);
    writer.discard();
    assert.equal(writer.pending, false);
    writer.empty(Opcode.Noop, 3);
    assert.deepEqual(take(writer), request({ opcode: Opcode.Noop, opaque: 3 }));
  });
});

describe('RequestWriter: checkpoint and rollback', () => {
  it('forgets every frame written since the checkpoint and keeps those before', () => {
    const writer = new RequestWriter();
    writer.keyOnly(Opcode.Get, 'a', 1);
    writer.checkpoint();
    writer.keyOnly(Opcode.Get, 'b', 2);
    writer.store(Opcode.Set, 'c', 'v', 0, 0, 3);
    writer.rollback();
    writer.keyOnly(Opcode.Get, 'd', 4);
    assert.deepEqual(
      take(writer),
      concat([request({ opcode: Opcode.Get, key: utf8('a'), opaque: 1 }), request({ opcode: Opcode.Get, key: utf8('d'), opaque: 4 })]),
    );
  });

  it('rolls back frames that spilled into new blocks', () => {
    const writer = new RequestWriter();
    writer.keyOnly(Opcode.Get, 'a', 1);
    writer.checkpoint();
    for (let i = 0; i < 2000; i++) writer.store(Opcode.SetQ, `k${i}`, 'x'.repeat(100), 0, 0, i);
    writer.rollback();
    assert.equal(writer.pending, true);
    writer.keyOnly(Opcode.Get, 'z', 2);
    assert.deepEqual(
      take(writer),
      concat([request({ opcode: Opcode.Get, key: utf8('a'), opaque: 1 }), request({ opcode: Opcode.Get, key: utf8('z'), opaque: 2 })]),
    );
  });

  it('rolls back an out-of-line value', () => {
    const writer = new RequestWriter();
    writer.keyOnly(Opcode.Get, 'a', 1);
    writer.checkpoint();
    writer.store(Opcode.Set, 'big', new Uint8Array(OUT_OF_LINE_VALUE), 0, 0, 2);
    writer.rollback();
    const chunks = writer.drain();
    assert.equal(chunks.length, 1);
    assert.deepEqual(chunks[0], request({ opcode: Opcode.Get, key: utf8('a'), opaque: 1 }));
  });

  it('leaves nothing pending when the checkpoint was taken on an empty writer', () => {
    const writer = new RequestWriter();
    writer.keyOnly(Opcode.Get, 'sent', 1);
    take(writer);
    writer.checkpoint();
    writer.keyOnly(Opcode.GetKQ, 'a', 2);
    writer.keyOnly(Opcode.GetKQ, 'b', 3);
    writer.rollback();
    assert.equal(writer.pending, false);
    assert.deepEqual(writer.drain(), []);
  });
});
