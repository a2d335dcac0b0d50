import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ErrorCode } from '../../../lib/errors.js';
import { LINE_MAX, MetaReader, Reply, type ReplyHandler } from '../../../lib/protocol/meta/reader.js';
import { concat, utf8 } from '../../support/frames.js';
import { throwsCode } from '../../support/throws.js';

interface Seen {
  kind: number;
  flags: number;
  casHi: number;
  casLo: number;
  opaque: number;
  value: number[] | null;
  text: string | null;
  stat: [string, string] | null;
  counter: bigint | null;
}

/** Records every reply, keeping the values handed out to check they outlive their chunks. */
class Recorder implements ReplyHandler {
  readonly seen: Seen[] = [];
  readonly values: Uint8Array[] = [];
  readonly snapshots: number[][] = [];
  onReply(r: MetaReader): void {
    let value: number[] | null = null;
    let counter: bigint | null = null;
    if (r.kind === Reply.VA) {
      const bytes = r.value();
      this.values.push(bytes);
      this.snapshots.push(Array.from(bytes));
      value = Array.from(bytes);
      counter = /^\d{1,20}$/.test(Buffer.from(bytes).toString('latin1')) ? r.counter() : null;
    }
    const texty = r.kind === Reply.VERSION || r.kind === Reply.CLIENT_ERROR || r.kind === Reply.SERVER_ERROR;
    this.seen.push({
      kind: r.kind,
      flags: r.flags,
      casHi: r.casHi,
      casLo: r.casLo,
      opaque: r.opaque,
      value,
      text: texty ? r.text() : null,
      stat: r.kind === Reply.STAT ? [r.statName(), r.statValue()] : null,
      counter,
    });
  }
}

const MAX = 2 * 1024 * 1024;

/**
 * Reads `pieces` through one reused chunk buffer (as a socket reuses its
 * read buffer), overwriting it after each read; checks values kept survive.
 */
function read(pieces: readonly Uint8Array[]): Seen[] {
  const recorder = new Recorder();
  const reader = new MetaReader(recorder, MAX);
  const shared = new Uint8Array(Math.max(1, ...pieces.map((p) => p.length)));
  for (const piece of pieces) {
    shared.set(piece, 0);
    reader.push(shared.subarray(0, piece.length));
    shared.fill(0xee);
  }
  recorder.values.forEach((v, i) => assert.deepEqual(Array.from(v), recorder.snapshots[i], `value ${i} changed with the chunk buffer`));
  return recorder.seen;
}

function bytes(...parts: (string | Uint8Array)[]): Uint8Array {
  return concat(parts.map((p) => (typeof p === 'string' ? utf8(p) : p)));
}

function bytewise(stream: Uint8Array): Uint8Array[] {
  return Array.from(stream, (b) => Uint8Array.of(b));
}

const base: Omit<Seen, 'kind'> = { flags: 0, casHi: 0, casLo: 0, opaque: -1, value: null, text: null, stat: null, counter: null };
const BINARY = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
BINARY[10] = 0x0d;
BINARY[11] = 0x0a; // a \r\n inside the data is data

/** Every reply kind, each with what it reads as. */
const replies: [string, Uint8Array, Seen][] = [
  ['a hit with flags, cas and tag', bytes('VA 5 f42 c12345 O7\r\nhello\r\n'), { ...base, kind: Reply.VA, flags: 42, casLo: 12345, opaque: 7, value: Array.from(utf8('hello')) }],
  ['a hit of binary bytes holding \\r\\n', bytes('VA 300 f4294967295 c18446744073709551615 O4294967295\r\n', BINARY, '\r\n'), { ...base, kind: Reply.VA, flags: 0xffffffff, casHi: 0xffffffff, casLo: 0xffffffff, opaque: 0xffffffff, value: Array.from(BINARY) }],
  ['an empty value', bytes('VA 0 f0 c1 O1\r\n\r\n'), { ...base, kind: Reply.VA, casLo: 1, opaque: 1, value: [] }],
  ['a counter', bytes('VA 20 O2\r\n18446744073709551615\r\n'), { ...base, kind: Reply.VA, opaque: 2, value: Array.from(utf8('18446744073709551615')), counter: 2n ** 64n - 1n }],
  ['flags it did not ask for are skipped', bytes('VA 1 t-1 kfoo W X Z f3 O9 s1\r\nx\r\n'), { ...base, kind: Reply.VA, flags: 3, opaque: 9, value: [0x78] }],
  ['HD', bytes('HD O3\r\n'), { ...base, kind: Reply.HD, opaque: 3 }],
  ['HD bare', bytes('HD\r\n'), { ...base, kind: Reply.HD }],
  ['EN', bytes('EN O4\r\n'), { ...base, kind: Reply.EN, opaque: 4 }],
  ['NF', bytes('NF O5\r\n'), { ...base, kind: Reply.NF, opaque: 5 }],
  ['NS', bytes('NS O6\r\n'), { ...base, kind: Reply.NS, opaque: 6 }],
  ['EX', bytes('EX O0\r\n'), { ...base, kind: Reply.EX, opaque: 0 }],
  ['MN', bytes('MN\r\n'), { ...base, kind: Reply.MN }],
  ['OK', bytes('OK\r\n'), { ...base, kind: Reply.OK }],
  ['STAT', bytes('STAT pid 1234\r\n'), { ...base, kind: Reply.STAT, stat: ['pid', '1234'] }],
  ['STAT with spaces in its value', bytes('STAT libevent 2.1 stable x\r\n'), { ...base, kind: Reply.STAT, stat: ['libevent', '2.1 stable x'] }],
  ['END', bytes('END\r\n'), { ...base, kind: Reply.END }],
  ['VERSION', bytes('VERSION 1.6.18\r\n'), { ...base, kind: Reply.VERSION, text: '1.6.18' }],
  ['STORED', bytes('STORED\r\n'), { ...base, kind: Reply.STORED }],
  ['ERROR', bytes('ERROR\r\n'), { ...base, kind: Reply.ERROR }],
  ['CLIENT_ERROR', bytes('CLIENT_ERROR bad data chunk\r\n'), { ...base, kind: Reply.CLIENT_ERROR, text: 'bad data chunk' }],
  ['SERVER_ERROR', bytes('SERVER_ERROR object too large for cache\r\n'), { ...base, kind: Reply.SERVER_ERROR, text: 'object too large for cache' }],
];

describe('MetaReader: every reply kind, however the reads cut it', () => {
  for (const [name, stream, expected] of replies) {
    it(`${name}: whole, byte by byte, and split in two at every offset`, () => {
      assert.deepEqual(read([stream]), [expected]);
      assert.deepEqual(read(bytewise(stream)), [expected]);
      for (let cut = 1; cut < stream.length; cut++) {
        assert.deepEqual(read([stream.subarray(0, cut), stream.subarray(cut)]), [expected], `cut at ${cut}`);
      }
    });
  }

  it('all of them in one stream, whole and byte by byte', () => {
    const stream = concat(replies.map((r) => r[1]));
    const expected = replies.map((r) => r[2]);
    assert.deepEqual(read([stream]), expected);
    assert.deepEqual(read(bytewise(stream)), expected);
    for (let cut = 1; cut < stream.length; cut += 7) {
      assert.deepEqual(read([stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at ${cut}`);
    }
  });
});

describe('MetaReader: a value far larger than a read', () => {
  it('1 MB in 64 KiB reads arrives intact, between two small replies', () => {
    const value = new Uint8Array(1024 * 1024).map((_, i) => (i * 131) & 0xff);
    const stream = bytes('HD O1\r\nVA 1048576 f1 O2\r\n', value, '\r\nEN O3\r\n');
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += 65536) pieces.push(stream.subarray(at, at + 65536));
    const seen = read(pieces);
    assert.equal(seen.length, 3);
    assert.equal(seen[1]!.value!.length, value.length);
    assert.deepEqual(Uint8Array.from(seen[1]!.value!), value);
    assert.equal(seen[2]!.kind, Reply.EN);
  });

  it('values read from the same chunk are copies: many small values survive the buffer being reused', () => {
    const stream = concat(Array.from({ length: 500 }, (_, i) => bytes(`VA 40 O${i}\r\n`, new Uint8Array(40).fill(i & 0xff), '\r\n')));
    const seen = read([stream.subarray(0, 10_001), stream.subarray(10_001)]);
    assert.equal(seen.length, 500);
    seen.forEach((s, i) => assert.ok(s.value!.every((b) => b === (i & 0xff)), `value ${i}`));
  });
});

describe('MetaReader: lines and lengths past the limits are corrupt, never allocated', () => {
  it(`a line of more than ${LINE_MAX} bytes without \\r\\n, in one read or many`, () => {
    const long = bytes('HD ', 'x'.repeat(LINE_MAX + 10));
    throwsCode(() => read([long]), ErrorCode.PROTOCOL);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < long.length; at += 1000) pieces.push(long.subarray(at, at + 1000));
    throwsCode(() => read(pieces), ErrorCode.PROTOCOL);
  });

  it(`a line of exactly ${LINE_MAX} bytes is read, whole and split at every 97th offset`, () => {
    const line = bytes('STAT n ', 'v'.repeat(LINE_MAX - 7), '\r\n');
    const expected = [{ ...base, kind: Reply.STAT, stat: ['n', 'v'.repeat(LINE_MAX - 7)] as [string, string] }];
    assert.deepEqual(read([line]), expected);
    for (let cut = 1; cut < line.length; cut += 97) assert.deepEqual(read([line.subarray(0, cut), line.subarray(cut)]), expected);
    assert.deepEqual(read([line.subarray(0, line.length - 1), line.subarray(line.length - 1)]), expected);
  });

  it('a VA longer than the reader allows', () => {
    const recorder = new Recorder();
    const reader = new MetaReader(recorder, 1000);
    throwsCode(() => reader.push(utf8('VA 1001 O1\r\n')), ErrorCode.PROTOCOL);
    new MetaReader(recorder, 1000).push(utf8('VA 1000 O1\r\n'));
    throwsCode(() => new MetaReader(recorder, MAX).push(utf8('VA 99999999999999999999 O1\r\n')), ErrorCode.PROTOCOL);
  });

  it('reset() forgets a partial reply', () => {
    const recorder = new Recorder();
    const reader = new MetaReader(recorder, MAX);
    reader.push(utf8('VA 10 O1\r\nabc'));
    reader.reset();
    reader.push(utf8('HD O2\r\n'));
    assert.deepEqual(recorder.seen.map((s) => s.kind), [Reply.HD]);
  });
});
