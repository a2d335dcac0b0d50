// The meta codec's lease commands, byte for byte and reply by reply: getOrSet's
// mg with N/R (W, X and Z read back), its ms with C and c, invalidate's md I.
// What the server does with them is spec/get-or-set.spec.ts's and
// spec/invalidate.spec.ts's (real memcached); here, what is written and read.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Command, Verb } from '../../../lib/command.js';
import { Item } from '../../../lib/item.js';
import { binaryCodec } from '../../../lib/protocol/binary/codec.js';
import { MetaCodec } from '../../../lib/protocol/meta/codec.js';
import { LeaseReply } from '../../../lib/protocol/meta/lease-reply.js';
import { LeaseFlag } from '../../../lib/protocol/meta/reader.js';
import { MetaWriter, StoreMode } from '../../../lib/protocol/meta/writer.js';
import { concat, utf8 } from '../../support/frames.js';
import { codecHarness, Fifo } from '../../support/codec-fifo.js';
import { throwsCode } from '../../support/throws.js';

function setup() {
  return codecHarness((fifo) => new MetaCodec({ server: '127.0.0.1:1', maxValueSize: 1024 * 1024 }, fifo));
}

function written(write: (w: MetaWriter) => void): string {
  const writer = new MetaWriter();
  write(writer);
  const out = Buffer.from(concat(writer.drain())).toString('latin1');
  writer.drained();
  return out;
}

describe('MetaWriter: the lease requests, byte for byte', () => {
  const cases: [string, (w: MetaWriter) => void, string][] = [
    ['lease without R', (w) => w.lease('k', 3, 10, 0), 'mg k v f c N10 O3\r\n'],
    ['lease with R', (w) => w.lease('k', 4, 30, 60), 'mg k v f c N30 R60 O4\r\n'],
    ['first lease of a call (no N: a miss creates nothing)', (w) => w.lease('k', 5, 0, 0), 'mg k v f c O5\r\n'],
    ['first lease of a call with R', (w) => w.lease('k', 6, 0, 60), 'mg k v f c R60 O6\r\n'],
    ['store asking for the new CAS', (w) => w.store(StoreMode.Set, 'k', 'hi', 6, 70, 0, 42, 5, true), 'ms k 2 F6 T70 C42 MS O5 c\r\nhi\r\n'],
    ['add asking for the new CAS', (w) => w.store(StoreMode.Add, 'k', 'hi', 0, 0, 0, 0, 6, true), 'ms k 2 F0 T0 ME O6 c\r\nhi\r\n'],
    ['a plain set after one: no c', (w) => (w.store(StoreMode.Set, 'a', 'x', 0, 0, 0, 0, 1, true), w.store(StoreMode.Set, 'b', 'y', 0, 0, 0, 0, 2)), 'ms a 1 F0 T0 MS O1 c\r\nx\r\nms b 1 F0 T0 MS O2\r\ny\r\n'],
    ['a UTF-8 value written twice keeps its c', (w) => w.store(StoreMode.Set, 'k', 'é', 0, 0, 0, 1, 7, true), 'ms k 2 F0 T0 C1 MS O7 c\r\n\xc3\xa9\r\n'],
    ['invalidate', (w) => w.invalidate('k', 30, 0, 0, 8), 'md k I T30 O8\r\n'],
    ['invalidate keeping the TTL, with a CAS', (w) => w.invalidate('k', 0, 1, 2, 9), 'md k I C4294967298 O9\r\n'],
  ];
  for (const [name, write, expected] of cases) {
    it(name, () => assert.equal(written(write), expected));
  }

  it('a bad key commits nothing', () => {
    const writer = new MetaWriter();
    throwsCode(() => writer.lease('a b', 1, 10, 0), 'MC_ERR_BAD_KEY');
    throwsCode(() => writer.invalidate('', 30, 0, 0, 1), 'MC_ERR_BAD_KEY');
    assert.equal(writer.pending, false);
  });
});

describe('MetaCodec: lease replies', () => {
  it('a plain hit resolves to the Item, as a get does', () => {
    const { fifo, codec, send, wire } = setup();
    const op = send(Verb.Lease, (c) => ((c.key = 'k'), (c.expires = 10)));
    assert.equal(wire(), 'mg k v f c N10 O0\r\n');
    codec.read(utf8('VA 2 f5 c77 O0\r\nhi\r\n'));
    const item = fifo.outcomes.get(op)!.value as Item;
    assert.ok(item instanceof Item);
    assert.deepEqual([item.text, item.flags, item.cas], ['hi', 5, 77n]);
  });

  const flagged: [string, number, boolean, boolean][] = [
    ['VA 0 f0 c1 O0 W', LeaseFlag.Won, true, false],
    ['VA 0 f0 c1 O0 Z', LeaseFlag.Taken, false, false],
    ['VA 3 f0 c9 O0 X W', LeaseFlag.Stale | LeaseFlag.Won, true, true],
    ['VA 3 f0 c9 O0 Z X', LeaseFlag.Stale | LeaseFlag.Taken, false, true],
  ];
  for (const [line, flags, won, stale] of flagged) {
    it(`${JSON.stringify(line)}: a LeaseReply with its item and what the server said`, () => {
      const { fifo, codec, send } = setup();
      const op = send(Verb.Lease, (c) => (c.key = 'k'));
      const size = Number(line.split(' ')[1]);
      codec.read(utf8(`${line}\r\n${'v'.repeat(size)}\r\n`));
      const reply = fifo.outcomes.get(op)!.value as LeaseReply;
      assert.ok(reply instanceof LeaseReply);
      assert.deepEqual([reply.flags, reply.won, reply.stale, reply.item.value.length], [flags, won, stale, size]);
    });
  }

  it('EN (the stub could not be made) resolves null', () => {
    const { fifo, codec, send } = setup();
    const op = send(Verb.Lease, (c) => (c.key = 'k'));
    codec.read(utf8('EN O0\r\n'));
    assert.equal(fifo.outcomes.get(op)!.value, null);
  });

  it("a lease's result is left alone (getOrSet keeps its flight there)", () => {
    const { codec, send } = setup();
    const marker = {};
    const op = send(Verb.Lease, (c) => ((c.key = 'k'), (c.result = marker)));
    codec.read(utf8('VA 1 O0\r\nx\r\n'));
    assert.equal(op.result, marker);
  });

  it('the lease store: HD writes the new CAS into the command; EX, NS and NF resolve false', () => {
    const { fifo, codec, send, wire } = setup();
    const stored = send(Verb.LeaseStore, (c) => ((c.key = 'k'), (c.value = 'v'), (c.expires = 60), (c.casLo = 5)));
    const outdated = send(Verb.LeaseStore, (c) => ((c.key = 'k'), (c.value = 'v'), (c.casLo = 5)));
    const taken = send(Verb.LeaseStore, (c) => ((c.key = 'k'), (c.value = 'v')));
    const gone = send(Verb.LeaseStore, (c) => ((c.key = 'k'), (c.value = 'v'), (c.casLo = 5)));
    assert.equal(wire(), 'ms k 1 F0 T60 C5 MS O0 c\r\nv\r\nms k 1 F0 T0 C5 MS O1 c\r\nv\r\nms k 1 F0 T0 ME O2 c\r\nv\r\nms k 1 F0 T0 C5 MS O3 c\r\nv\r\n');
    codec.read(utf8('HD O0 c12345678901\r\nEX O1 c0\r\nNS O2 c0\r\nNF O3 c0\r\n'));
    assert.equal(fifo.outcomes.get(stored)!.value, true);
    assert.equal(new Item(new Uint8Array(0), 0, stored.casHi, stored.casLo).cas, 12345678901n);
    for (const op of [outdated, taken, gone]) assert.equal(fifo.outcomes.get(op)!.value, false);
  });

  it('invalidate: HD true, NF and EX false', () => {
    const { fifo, codec, send, wire } = setup();
    const ops = [0, 1, 2].map(() => send(Verb.Invalidate, (c) => ((c.key = 'k'), (c.expires = 30))));
    assert.equal(wire(), 'md k I T30 O0\r\nmd k I T30 O1\r\nmd k I T30 O2\r\n');
    codec.read(utf8('HD O0\r\nNF O1\r\nEX O2\r\n'));
    assert.deepEqual(ops.map((op) => fifo.outcomes.get(op)!.value), [true, false, false]);
  });

  it('a reply of the wrong kind to a lease is a protocol error', () => {
    const { codec, send } = setup();
    send(Verb.Lease, (c) => (c.key = 'k'));
    throwsCode(() => codec.read(utf8('HD O0\r\n')), 'MC_ERR_PROTOCOL');
  });
});

describe('the binary codec refuses the lease verbs typed (Group never sends them there)', () => {
  for (const verb of [Verb.Lease, Verb.LeaseStore, Verb.Invalidate]) {
    it(`verb ${verb}: MC_ERR_UNSUPPORTED, nothing written`, () => {
      const codec = binaryCodec({ server: '127.0.0.1:1', maxValueSize: 1024 * 1024 }, new Fifo());
      codec.handshake();
      const op = new Command(verb);
      op.key = 'k';
      op.value = 'v';
      throwsCode(() => codec.encode(op), 'MC_ERR_UNSUPPORTED');
      assert.equal(codec.output.pending, false);
    });
  }
});
