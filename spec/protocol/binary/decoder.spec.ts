import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ErrorCode, MemcacheError } from '../../../lib/errors.js';
import { ResponseDecoder, type FrameHandler } from '../../../lib/protocol/binary/decoder.js';
import { Opcode } from '../../../lib/protocol/binary/opcodes.js';
import { Status } from '../../../lib/protocol/status.js';
import { concat, flagsOf, hex, reply, u64, utf8 } from '../../support/frames.js';
import { throwsCode } from '../../support/throws.js';

// ---- helpers -----------------------------------------------------------------

interface Seen {
  opcode: number;
  status: number;
  opaque: number;
  casHi: number;
  casLo: number;
  flags: number;
  key: number[];
  value: number[];
  valueText: string;
  counter: bigint | null;
}

/** A handler that records every frame, keeping value() results to check they stay intact. */
class Recorder implements FrameHandler {
  readonly seen: Seen[] = [];
  readonly values: Uint8Array[] = [];
  readonly snapshots: number[][] = [];
  onFrame(f: ResponseDecoder): void {
    const start = f.bodyOffset + f.extrasLength;
    const value = f.value();
    this.values.push(value);
    this.snapshots.push(Array.from(value));
    this.seen.push({
      opcode: f.opcode,
      status: f.status,
      opaque: f.opaque,
      casHi: f.casHi,
      casLo: f.casLo,
      flags: f.flags,
      key: Array.from(f.bytes.subarray(start, start + f.keyLength)),
      value: Array.from(value),
      valueText: f.valueText(),
      counter: f.opcode === Opcode.Increment && f.status === Status.Ok ? f.counter() : null,
    });
  }
}

/** Decodes copies of `chunks` in order and returns what was seen. */
function decode(input: readonly Uint8Array[], maxBodyLength?: number): Recorder {
  const chunks = input.map((c) => c.slice());
  const recorder = new Recorder();
  const decoder = new ResponseDecoder(recorder, maxBodyLength);
  for (const chunk of chunks) decoder.push(chunk);
  // Values handed out must not depend on the chunks staying as they were.
  for (const chunk of chunks) chunk.fill(0xee);
  recorder.values.forEach((v, i) => assert.deepEqual(Array.from(v), recorder.snapshots[i], `value ${i} changed with its chunk`));
  return recorder;
}

/** Deterministic PRNG (mulberry32), so a failing chunking can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Copies of `stream` cut into pieces of random length from 1 to `max`. */
function randomChunks(stream: Uint8Array, seed: number, max: number): Uint8Array[] {
  const next = random(seed);
  const out: Uint8Array[] = [];
  for (let at = 0; at < stream.length; ) {
    const n = 1 + Math.floor(next() * max);
    out.push(stream.slice(at, at + n));
    at += n;
  }
  return out;
}

function throwsProtocol(fn: () => unknown): MemcacheError {
  return throwsCode(fn, ErrorCode.PROTOCOL);
}

// ---- fixtures: reply shapes memcached 1.6 sends --------------------------------

const fixtures: Record<string, Uint8Array> = {
  // Get hit: 4 bytes of flags, no key, the value; CAS of the item.
  getHit: hex(`
    81 00 0000 04 00 0000
    00000009
    00000001
    0000000a 0000000b
    deadbeef
    68656c6c6f`),
  // Get miss: status 0x0001 and the text "Not found" as the body.
  getMiss: hex(`
    81 00 0000 00 00 0001
    00000009
    00000002
    00000000 00000000
    4e6f7420666f756e64`),
  // GetK hit: flags, the key echoed, the value.
  getkHit: reply({
    opcode: Opcode.GetK,
    opaque: 3,
    casLo: 77,
    extras: flagsOf(42),
    key: utf8('ключ'),
    value: new Uint8Array([0, 1, 2, 0xff, 0x80]),
  }),
  // Increment: 8-byte big-endian count, here above 2^53.
  counterBig: reply({ opcode: Opcode.Increment, opaque: 4, casLo: 5, value: u64(2n ** 53n + 1n) }),
  counterMax: reply({ opcode: Opcode.Increment, opaque: 5, casLo: 6, value: u64(2n ** 64n - 1n) }),
  // Stat: one frame per stat, then one with an empty key.
  stats: concat([
    reply({ opcode: Opcode.Stat, opaque: 6, key: utf8('pid'), value: utf8('1234') }),
    reply({ opcode: Opcode.Stat, opaque: 6, key: utf8('version'), value: utf8('1.6.18') }),
    reply({ opcode: Opcode.Stat, opaque: 6 }),
  ]),
  version: reply({ opcode: Opcode.Version, opaque: 7, value: utf8('1.6.18') }),
  noop: hex('81 0a 0000 00 00 0000 00000000 00000008 0000000000000000'),
  // Error status: the body is a short text message.
  unknownCommand: reply({ opcode: 0x1b, status: Status.UnknownCommand, opaque: 9, value: utf8('Unknown command') }),
  // A reply whose value is one byte of each value.
  allBytes: reply({ opcode: Opcode.Get, opaque: 10, extras: flagsOf(0), value: Uint8Array.from({ length: 256 }, (_, i) => i) }),
};

const stream = concat(Object.values(fixtures));

describe('ResponseDecoder: fixtures of real reply shapes', () => {
  it('reads a Get hit: opcode, status, opaque, CAS, flags and the value', () => {
    const [frame] = decode([fixtures.getHit!]).seen;
    assert.deepEqual(frame, {
      opcode: Opcode.Get,
      status: Status.Ok,
      opaque: 1,
      casHi: 10,
      casLo: 11,
      flags: 0xdeadbeef,
      key: [],
      value: Array.from(utf8('hello')),
      valueText: 'hello',
      counter: null,
    });
  });

  it('reads a miss: status 0x01 with "Not found" as the body, flags 0', () => {
    const [frame] = decode([fixtures.getMiss!]).seen;
    assert.equal(frame!.status, Status.KeyNotFound);
    assert.equal(frame!.opaque, 2);
    assert.equal(frame!.flags, 0);
    assert.equal(frame!.valueText, 'Not found');
  });

  it('reads a GetK hit: the key between flags and value', () => {
    const recorder = new Recorder();
    let keyText = '';
    const decoder = new ResponseDecoder({
      onFrame(f) {
        recorder.onFrame(f);
        keyText = f.keyText();
      },
    });
    decoder.push(fixtures.getkHit!);
    const frame = recorder.seen[0]!;
    assert.equal(keyText, 'ключ');
    assert.equal(frame.flags, 42);
    assert.equal(frame.casLo, 77);
    assert.deepEqual(frame.value, [0, 1, 2, 0xff, 0x80]);
  });

  it('reads an 8-byte counter exactly, above 2^53 and at 2^64-1', () => {
    const seen = decode([fixtures.counterBig!, fixtures.counterMax!]).seen;
    assert.equal(seen[0]!.counter, 2n ** 53n + 1n);
    assert.equal(seen[1]!.counter, 2n ** 64n - 1n);
  });

  it('reads small counters exactly', () => {
    for (const n of [0n, 1n, 0xffffffffn, 0x100000000n, 2n ** 53n - 1n, 2n ** 53n]) {
      const seen = decode([reply({ opcode: Opcode.Increment, value: u64(n) })]).seen;
      assert.equal(seen[0]!.counter, n);
    }
  });

  it('reads a stat sequence ending with an empty key', () => {
    const names: string[] = [];
    const values: string[] = [];
    const decoder = new ResponseDecoder({
      onFrame(f) {
        names.push(f.keyText());
        values.push(f.valueText());
      },
    });
    decoder.push(fixtures.stats!);
    assert.deepEqual(names, ['pid', 'version', '']);
    assert.deepEqual(values, ['1234', '1.6.18', '']);
  });

  it('reads Version, Noop and an error status with a text body', () => {
    const seen = decode([fixtures.version!, fixtures.noop!, fixtures.unknownCommand!]).seen;
    assert.equal(seen[0]!.valueText, '1.6.18');
    assert.deepEqual(
      { opcode: seen[1]!.opcode, opaque: seen[1]!.opaque, value: seen[1]!.value },
      { opcode: Opcode.Noop, opaque: 8, value: [] },
    );
    assert.equal(seen[2]!.status, Status.UnknownCommand);
    assert.equal(seen[2]!.valueText, 'Unknown command');
  });

  it('reports opcode, status and opaque over their whole width (and ignores the data type byte)', () => {
    const seen = decode([reply({ opcode: 0xff, status: 0xabcd, dataType: 0x7f, opaque: 0xffffffff, casHi: 0xffffffff, casLo: 0xfffffffe })]).seen;
    assert.deepEqual(
      [seen[0]!.opcode, seen[0]!.status, seen[0]!.opaque, seen[0]!.casHi, seen[0]!.casLo],
      [0xff, 0xabcd, 0xffffffff, 0xffffffff, 0xfffffffe],
    );
  });
});

describe('ResponseDecoder: the same frames however the stream is cut', () => {
  const whole = decode([stream.slice()]).seen;

  it('decodes the whole fixture stream pushed at once', () => {
    assert.equal(whole.length, 12);
    assert.deepEqual(
      whole.map((f) => f.opaque),
      [1, 2, 3, 4, 5, 6, 6, 6, 7, 8, 9, 10],
    );
  });

  it('decodes it pushed byte by byte', () => {
    const chunks = Array.from({ length: stream.length }, (_, i) => stream.slice(i, i + 1));
    assert.deepEqual(decode(chunks).seen, whole);
  });

  it('decodes it split in two at every offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const seen = decode([stream.slice(0, cut), stream.slice(cut)]).seen;
      assert.deepEqual(seen, whole, `split at ${cut}`);
    }
  });

  it('decodes it split in three at many pairs of offsets', () => {
    for (let a = 0; a <= stream.length; a += 7) {
      for (let b = a; b <= stream.length; b += 5) {
        const seen = decode([stream.slice(0, a), stream.slice(a, b), stream.slice(b)]).seen;
        assert.deepEqual(seen, whole, `split at ${a} and ${b}`);
      }
    }
  });

  it('decodes it in random chunk sizes', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const max = [2, 10, 30, 100, 700][seed % 5]!;
      assert.deepEqual(decode(randomChunks(stream, seed, max)).seen, whole, `seed ${seed}`);
    }
  });

  it('decodes it from subarrays of one buffer at an offset, like socket reads out of a pool', () => {
    const pool = new Uint8Array(stream.length + 100);
    pool.set(stream, 37);
    const view = pool.subarray(37, 37 + stream.length);
    const chunks = [view.subarray(0, 50), view.subarray(50, 51), view.subarray(51, 300), view.subarray(300)];
    const recorder = new Recorder();
    const decoder = new ResponseDecoder(recorder);
    for (const c of chunks) decoder.push(c);
    assert.deepEqual(recorder.seen, whole);
  });

  it('decodes many frames in one chunk', () => {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      frames.push(
        i % 2 === 0
          ? reply({ opcode: Opcode.GetKQ, opaque: i, extras: flagsOf(i), key: utf8(`k${i}`), value: utf8(`v${i}`) })
          : reply({ opcode: Opcode.Noop, opaque: i }),
      );
    }
    const seen = decode([concat(frames)]).seen;
    assert.equal(seen.length, 2000);
    seen.forEach((f, i) => {
      assert.equal(f.opaque, i);
      if (i % 2 === 0) {
        assert.equal(f.flags, i);
        assert.equal(f.valueText, `v${i}`);
      }
    });
  });
});

describe('ResponseDecoder: big values', () => {
  it('assembles a 1 MB value from 1000-byte chunks into one buffer it owns', () => {
    const value = new Uint8Array(1_000_000);
    for (let i = 0; i < value.length; i++) value[i] = (i * 31 + 7) & 0xff;
    const frame = reply({ opcode: Opcode.Get, opaque: 1, extras: flagsOf(3), value });
    let got: Uint8Array | null = null;
    let owned = false;
    let sameBuffer = false;
    let frames = 0;
    const decoder = new ResponseDecoder({
      onFrame(f) {
        frames++;
        owned = f.owned;
        got = f.value();
        // No second copy: the value is a view of the buffer the frame was assembled in.
        sameBuffer = got.buffer === f.bytes.buffer;
        assert.equal(f.flags, 3);
      },
    });
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < frame.length; at += 1000) chunks.push(frame.slice(at, at + 1000));
    for (const c of chunks) decoder.push(c);
    assert.equal(frames, 1);
    assert.equal(owned, true);
    assert.equal(sameBuffer, true);
    assert.deepEqual(got, value);
    for (const c of chunks) c.fill(0);
    assert.deepEqual(got, value);
  });

  it('decodes frames after a big one in the chunk that completes it', () => {
    const big = reply({ opcode: Opcode.Get, opaque: 1, value: new Uint8Array(100_000).fill(9) });
    const after = reply({ opcode: Opcode.Noop, opaque: 2 });
    const both = concat([big, after]);
    const seen = decode([both.slice(0, 50_000), both.slice(50_000)]).seen;
    assert.deepEqual(
      seen.map((f) => [f.opaque, f.value.length]),
      [
        [1, 100_000],
        [2, 0],
      ],
    );
  });
});

describe('ResponseDecoder: value() of a frame inside a shared chunk', () => {
  it('is a copy: changing the chunk afterwards does not change it', () => {
    const chunk = concat([fixtures.getHit!, fixtures.noop!]);
    let value: Uint8Array | null = null;
    let owned = true;
    const decoder = new ResponseDecoder({
      onFrame(f) {
        if (f.opcode === Opcode.Get) {
          owned = f.owned;
          value = f.value();
        }
      },
    });
    decoder.push(chunk);
    assert.equal(owned, false);
    chunk.fill(0);
    assert.deepEqual(value, utf8('hello'));
  });

  it('is a copy when the chunk is a Node Buffer, as socket reads are', () => {
    // Buffer#slice is a view, not a copy: value() must not rely on it.
    const chunk = Buffer.from(concat([fixtures.getHit!, fixtures.noop!]));
    let value: Uint8Array | null = null;
    const decoder = new ResponseDecoder({
      onFrame(f) {
        if (f.opcode === Opcode.Get) value = f.value();
      },
    });
    decoder.push(chunk);
    assert.ok(value !== null);
    assert.notEqual((value as Uint8Array).buffer, chunk.buffer, 'value() shares the socket chunk memory');
    chunk.fill(0);
    assert.deepEqual(Array.from(value as Uint8Array), Array.from(utf8('hello')));
  });

  it('gives each value its own bytes: kept values never overlap or change as more are decoded', () => {
    // Sizes around any pooling threshold, enough of them to fill several pools.
    const sizes = [0, 1, 7, 8, 9, 100, 1023, 1024, 1025, 4095, 4096, 5000, 8191, 8192, 8193];
    const frames: Uint8Array[] = [];
    const expected: Uint8Array[] = [];
    for (let round = 0; round < 20; round++) {
      for (const size of sizes) {
        const value = new Uint8Array(size).fill((round * 31 + size) & 0xff);
        expected.push(value);
        frames.push(reply({ opcode: Opcode.Get, opaque: expected.length, extras: flagsOf(size), value }));
      }
    }
    const kept: Uint8Array[] = [];
    const decoder = new ResponseDecoder({ onFrame: (f) => void kept.push(f.value()) });
    const stream = Buffer.from(concat(frames));
    for (let at = 0; at < stream.length; at += 65536) decoder.push(stream.subarray(at, at + 65536));
    stream.fill(0);
    assert.equal(kept.length, expected.length);
    kept.forEach((v, i) => assert.deepEqual(Array.from(v), Array.from(expected[i]!), `value ${i} (${expected[i]!.length} bytes)`));
    // Writing into one kept value touches no other.
    for (const v of kept) v.fill(0xaa);
    kept.forEach((v, i) => assert.ok(v.every((b) => b === 0xaa), `value ${i} was overwritten by another`));
  });
});

describe('ResponseDecoder: bad magic is a protocol error', () => {
  const good = fixtures.noop!;

  it('throws MC_ERR_PROTOCOL when the first byte is not 0x81', () => {
    for (const magic of [0x80, 0x00, 0x82, 0xff]) {
      const bad = good.slice();
      bad[0] = magic;
      const error = throwsProtocol(() => new ResponseDecoder({ onFrame() {} }).push(bad));
      assert.match(error.message, new RegExp(`0x${magic.toString(16).padStart(2, '0')}`));
    }
  });

  it('throws at once on a one-byte chunk that is not 0x81', () => {
    throwsProtocol(() => new ResponseDecoder({ onFrame() {} }).push(new Uint8Array([0x80])));
  });

  it('throws on a bad magic byte at the start of the chunk after a valid frame', () => {
    for (const length of [1, 10, 24, 40]) {
      let frames = 0;
      const decoder = new ResponseDecoder({ onFrame: () => void frames++ });
      decoder.push(good);
      const bad = new Uint8Array(length).fill(0x42);
      throwsProtocol(() => decoder.push(bad));
      assert.equal(frames, 1, `${length}-byte bad chunk`);
    }
  });

  it('throws on a bad magic byte after a valid frame in the same chunk, whole or partial header', () => {
    for (const tail of [1, 10, 23, 24, 30]) {
      let frames = 0;
      const decoder = new ResponseDecoder({ onFrame: () => void frames++ });
      throwsProtocol(() => decoder.push(concat([good, new Uint8Array(tail).fill(0x00)])));
      assert.equal(frames, 1, `${tail} bad bytes`);
    }
  });

  it('throws on a bad magic byte right after a frame completed across chunks', () => {
    const frame = fixtures.getHit!;
    let frames = 0;
    const decoder = new ResponseDecoder({ onFrame: () => void frames++ });
    decoder.push(frame.subarray(0, 10));
    throwsProtocol(() => decoder.push(concat([frame.subarray(10), hex('00 11 22')])));
    assert.equal(frames, 1);
  });

  it('throws on a bad magic byte after a partial header completed across chunks', () => {
    let frames = 0;
    const decoder = new ResponseDecoder({ onFrame: () => void frames++ });
    decoder.push(good.subarray(0, 5));
    decoder.push(good.subarray(5, 24 - 1));
    throwsProtocol(() => decoder.push(concat([good.subarray(23), new Uint8Array([0x80])])));
    assert.equal(frames, 1);
  });

  it('never fails any other way on random bytes, however they are cut', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const next = random(seed);
      const garbage = new Uint8Array(1 + Math.floor(next() * 200));
      for (let i = 0; i < garbage.length; i++) {
        // Mostly plausible bytes, so headers get past the magic check and lengths get tested.
        const r = next();
        garbage[i] = r < 0.3 ? 0x81 : r < 0.6 ? 0 : Math.floor(next() * 256);
      }
      const decoder = new ResponseDecoder({ onFrame: (f) => void f.value() }, 64);
      try {
        for (const c of randomChunks(garbage, seed, 40)) decoder.push(c);
      } catch (error) {
        assert.ok(error instanceof MemcacheError, `seed ${seed}: ${String(error)}`);
        assert.equal(error.code, ErrorCode.PROTOCOL, `seed ${seed}`);
      }
    }
  });
});

describe('ResponseDecoder: impossible lengths are protocol errors', () => {
  // Key 5 + extras 4 = 9 bytes, but the body is 8.
  const overlapping = hex('81 00 0005 04 00 0000 00000008 00000001 0000000000000000 0000000000000000');

  it('throws when key and extras exceed the body, frame whole in the chunk', () => {
    throwsProtocol(() => new ResponseDecoder({ onFrame() {} }).push(overlapping));
  });

  it('throws when key and extras exceed the body, frame cut at every offset', () => {
    for (let cut = 1; cut < overlapping.length; cut++) {
      let frames = 0;
      const decoder = new ResponseDecoder({ onFrame: () => void frames++ });
      throwsProtocol(() => {
        decoder.push(overlapping.slice(0, cut));
        decoder.push(overlapping.slice(cut));
      });
      assert.equal(frames, 0, `cut at ${cut}`);
    }
  });

  it('accepts a body of exactly maxBodyLength and rejects one byte more', () => {
    const ok = reply({ opcode: Opcode.Get, value: new Uint8Array(100) });
    assert.equal(decode([ok], 100).seen.length, 1);
    const tooLong = reply({ opcode: Opcode.Get, value: new Uint8Array(101) });
    throwsProtocol(() => new ResponseDecoder({ onFrame() {} }, 100).push(tooLong));
  });

  it('rejects an oversized body as soon as its header arrives, before allocating it', () => {
    // The header announces 0xFFFFFFF0 bytes; only the header is ever sent.
    const header = hex('81 00 0000 00 00 0000 fffffff0 00000001 0000000000000000');
    throwsProtocol(() => new ResponseDecoder({ onFrame() {} }, 1024 * 1024).push(header));
    for (let cut = 1; cut < 24; cut++) {
      const decoder = new ResponseDecoder({ onFrame() {} }, 1024 * 1024);
      throwsProtocol(() => {
        decoder.push(header.slice(0, cut));
        decoder.push(header.slice(cut));
      });
    }
  });

  it('rejects a body over the default limit of 1 GiB', () => {
    const header = hex('81 00 0000 00 00 0000 40000001 00000001 0000000000000000');
    throwsProtocol(() => new ResponseDecoder({ onFrame() {} }).push(header));
  });
});

describe('ResponseDecoder: reset()', () => {
  it('drops a partial frame so the next chunk starts afresh', () => {
    for (const partial of [5, 24, 30]) {
      const recorder = new Recorder();
      const decoder = new ResponseDecoder(recorder);
      decoder.push(fixtures.getHit!.subarray(0, partial));
      decoder.reset();
      decoder.push(fixtures.version!);
      assert.deepEqual(
        recorder.seen.map((f) => [f.opcode, f.valueText]),
        [[Opcode.Version, '1.6.18']],
        `${partial} bytes pending at reset`,
      );
    }
  });

  it('called from onFrame, stops the rest of the chunk from being parsed', () => {
    const opaques: number[] = [];
    let resetOnFirst = true;
    const decoder = new ResponseDecoder({
      onFrame(f) {
        opaques.push(f.opaque);
        if (resetOnFirst) {
          resetOnFirst = false;
          decoder.reset();
        }
      },
    });
    decoder.push(concat([fixtures.getHit!, fixtures.version!, fixtures.noop!.subarray(0, 10)]));
    assert.deepEqual(opaques, [1]);
    decoder.push(fixtures.noop!);
    assert.deepEqual(opaques, [1, 8]);
  });

  it('called from onFrame of a frame completed across chunks, stops that chunk too', () => {
    const opaques: number[] = [];
    const decoder = new ResponseDecoder({
      onFrame(f) {
        opaques.push(f.opaque);
        if (f.opaque === 1) decoder.reset();
      },
    });
    decoder.push(fixtures.getHit!.subarray(0, 30));
    decoder.push(concat([fixtures.getHit!.subarray(30), fixtures.version!]));
    assert.deepEqual(opaques, [1]);
  });
});
