import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ErrorCode, MemcacheError } from '../../../lib/errors.js';
import { Item } from '../../../lib/item.js';
import { ResponseDecoder } from '../../../lib/protocol/binary/decoder.js';
import { Opcode, opcodeName } from '../../../lib/protocol/binary/opcodes.js';
import { Command, Verb, promiseOf } from '../../../lib/command.js';
import { applyReply, encodeCommand as encodeOperation } from '../../../lib/protocol/binary/codec.js';
import { Status, describeStatus } from '../../../lib/protocol/status.js';
import { RequestWriter } from '../../../lib/protocol/binary/writer.js';
import { concat, flagsOf, reply, u64, utf8, type FrameFields } from '../../support/frames.js';

// ---- helpers -----------------------------------------------------------------

// The cases below are written per binary opcode; each is the command a Group sends as that opcode.
const VERB_OF_OPCODE: Record<number, Verb> = {
  [Opcode.Get]: Verb.Get,
  [Opcode.GetK]: Verb.Get,
  [Opcode.GAT]: Verb.GetAndTouch,
  [Opcode.Touch]: Verb.Touch,
  [Opcode.GetKQ]: Verb.GetMulti,
  [Opcode.Set]: Verb.Set,
  [Opcode.Add]: Verb.Add,
  [Opcode.Replace]: Verb.Replace,
  [Opcode.Append]: Verb.Append,
  [Opcode.Prepend]: Verb.Prepend,
  [Opcode.Delete]: Verb.Delete,
  [Opcode.Increment]: Verb.Increment,
  [Opcode.Decrement]: Verb.Decrement,
  [Opcode.Flush]: Verb.Flush,
  [Opcode.Version]: Verb.Version,
  [Opcode.Stat]: Verb.Stats,
  [Opcode.Noop]: Verb.Noop,
};
/** Labels of the reply shapes the cases group opcodes by. */
const Kind = { Get: 'Get', GetAndTouch: 'GetAndTouch', Store: 'Store', Concat: 'Concat', Delete: 'Delete', Touch: 'Touch', Counter: 'Counter', GetMulti: 'GetMulti', Stats: 'Stats', Version: 'Version', Noop: 'Noop', Flush: 'Flush' } as const;
type Kind = (typeof Kind)[keyof typeof Kind];
type Operation = Command;

function command(opcode: number): Command {
  return new Command(VERB_OF_OPCODE[opcode]!);
}

const SERVER = 'cache-1.example:11211';

type Settlement = { value: unknown } | { error: unknown } | 'pending';

/** Watches an operation's promise; `state()` tells how it has settled so far. */
function observe(op: Operation): { state: () => Promise<Settlement> } {
  let settlement: Settlement = 'pending';
  promiseOf(op).then(
    (value) => (settlement = { value }),
    (error: unknown) => (settlement = { error }),
  );
  return {
    // Let the promise's reactions run before reading.
    state: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return settlement;
    },
  };
}

/**
 * Feeds `frames` through a ResponseDecoder whose handler applies each reply to
 * `op`, as the connection does; returns applyReply's answer per frame.
 */
function deliver(op: Operation, frames: readonly Uint8Array[], chunk: 'whole' | 'bytes' = 'whole'): boolean[] {
  const done: boolean[] = [];
  const decoder = new ResponseDecoder({
    onFrame(frame) {
      done.push(applyReply(op, frame, SERVER));
    },
  });
  const stream = concat(frames);
  if (chunk === 'whole') decoder.push(stream);
  else for (let i = 0; i < stream.length; i++) decoder.push(stream.subarray(i, i + 1));
  return done;
}

async function outcome(op: Operation, frames: readonly Uint8Array[]): Promise<{ done: boolean[]; settled: Settlement }> {
  const watcher = observe(op);
  const done = deliver(op, frames);
  return { done, settled: await watcher.state() };
}

function assertError(settled: Settlement, code: ErrorCode, status: number, opcode: number): MemcacheError {
  assert.ok(settled !== 'pending' && 'error' in settled, `expected a rejection, got ${JSON.stringify(settled, replacer)}`);
  const error = settled.error;
  assert.ok(error instanceof MemcacheError, String(error));
  assert.equal(error.code, code, error.message);
  assert.equal(error.status, status, 'status kept');
  assert.equal(error.server, SERVER);
  assert.ok(error.message.includes(SERVER), error.message);
  assert.ok(error.message.includes(opcodeName(opcode)), error.message);
  assert.ok(error.message.includes(describeStatus(status)), error.message);
  return error;
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}

function resolved(settled: Settlement): unknown {
  assert.ok(settled !== 'pending' && 'value' in settled, `expected a resolution, got ${settled === 'pending' ? 'pending' : String((settled as { error: unknown }).error)}`);
  return settled.value;
}

/** The error code a status that is neither success nor a plain "no" must become. */
function expectedCode(status: number): ErrorCode {
  switch (status) {
    case Status.ValueTooLarge:
      return ErrorCode.VALUE_TOO_LARGE;
    case Status.NonNumeric:
      return ErrorCode.NOT_NUMERIC;
    case Status.AuthError:
      return ErrorCode.AUTH;
    default:
      return ErrorCode.SERVER;
  }
}

const allStatuses = Object.entries(Status) as [string, number][];

// ---- per Kind ----------------------------------------------------------------

interface KindCase {
  kind: Kind;
  opcode: number;
  /** The reply frame for a status (success bodies as memcached sends them). */
  frame: (status: number) => Uint8Array;
  /** What the operation resolves with, per status; statuses not listed reject. */
  resolves: Map<number, (value: unknown) => void>;
}

const hitValue = utf8('stored value');
const okReply = (opcode: number, body: Omit<FrameFields, 'opcode'> = {}) => (status: number) =>
  status === Status.Ok ? reply({ opcode, opaque: 1, ...body }) : reply({ opcode, status, opaque: 1, value: utf8(describeStatus(status)) });

const isItem = (value: unknown): void => {
  assert.ok(value instanceof Item);
  assert.deepEqual(value.value, hitValue);
  assert.equal(value.flags, 0xcafe);
  assert.equal(value.cas, 0x1_0000_0002n);
};
const is = (expected: unknown) => (value: unknown) => assert.deepEqual(value, expected);

const kinds: [string, KindCase][] = [
  ['Get', {
    kind: Kind.Get,
    opcode: Opcode.Get,
    frame: okReply(Opcode.Get, { extras: flagsOf(0xcafe), value: hitValue, casHi: 1, casLo: 2 }),
    resolves: new Map([[Status.Ok, isItem], [Status.KeyNotFound, is(null)]]),
  }],
  ['GetAndTouch', {
    kind: Kind.GetAndTouch,
    opcode: Opcode.GAT,
    frame: okReply(Opcode.GAT, { extras: flagsOf(0xcafe), value: hitValue, casHi: 1, casLo: 2 }),
    resolves: new Map([[Status.Ok, isItem], [Status.KeyNotFound, is(null)]]),
  }],
  ...([
    ['Store', Kind.Store, Opcode.Set],
    ['Concat', Kind.Concat, Opcode.Append],
    ['Delete', Kind.Delete, Opcode.Delete],
    ['Touch', Kind.Touch, Opcode.Touch],
  ] as const).map(([name, kind, opcode]): [string, KindCase] => [name, {
    kind,
    opcode,
    frame: okReply(opcode, { casLo: 9 }),
    resolves: new Map([
      [Status.Ok, is(true)],
      [Status.KeyNotFound, is(false)],
      [Status.KeyExists, is(false)],
      [Status.ItemNotStored, is(false)],
    ]),
  }]),
  ['Counter', {
    kind: Kind.Counter,
    opcode: Opcode.Increment,
    frame: okReply(Opcode.Increment, { value: u64(2n ** 64n - 1n) }),
    resolves: new Map([[Status.Ok, is(2n ** 64n - 1n)], [Status.KeyNotFound, is(null)]]),
  }],
  ['Version', {
    kind: Kind.Version,
    opcode: Opcode.Version,
    frame: okReply(Opcode.Version, { value: utf8('1.6.18') }),
    resolves: new Map([[Status.Ok, is('1.6.18')]]),
  }],
  ['Noop', {
    kind: Kind.Noop,
    opcode: Opcode.Noop,
    frame: okReply(Opcode.Noop),
    resolves: new Map([[Status.Ok, is(undefined)]]),
  }],
  ['Flush', {
    kind: Kind.Flush,
    opcode: Opcode.Flush,
    frame: okReply(Opcode.Flush),
    resolves: new Map([[Status.Ok, is(undefined)]]),
  }],
];

for (const [name, c] of kinds) {
  describe(`applyReply: ${name} replies, every status`, () => {
    for (const [statusName, status] of allStatuses) {
      const expectation = c.resolves.get(status);
      const title =
        expectation === undefined
          ? `${statusName} (0x${status.toString(16)}) rejects with ${expectedCode(status)}, status and server kept`
          : `${statusName} (0x${status.toString(16)}) resolves`;
      it(title, async () => {
        const op = command(c.opcode);
        op.tag = op.lastTag = 1;
        const { done, settled } = await outcome(op, [c.frame(status)]);
        assert.deepEqual(done, [true], 'one reply ends the operation');
        if (expectation === undefined) assertError(settled, expectedCode(status), status, c.opcode);
        else expectation(resolved(settled));
      });
    }
  });
}

describe('applyReply: Get hits', () => {
  it('makes an Item that keeps its bytes when the socket chunk is reused', async () => {
    const op = command(Opcode.Get);
    const watcher = observe(op);
    const chunk = Buffer.from(concat([
      reply({ opcode: Opcode.Get, opaque: 1, extras: flagsOf(1), value: utf8('abc'), casHi: 0x12345678, casLo: 0x9abcdef0 }),
      reply({ opcode: Opcode.Noop, opaque: 2 }),
    ]));
    let first = true;
    new ResponseDecoder({
      onFrame(frame) {
        if (first) applyReply(op, frame, SERVER);
        first = false;
      },
    }).push(chunk);
    chunk.fill(0);
    const item = resolved(await watcher.state()) as Item;
    assert.equal(item.text, 'abc');
    assert.equal(item.flags, 1);
    assert.equal(item.cas, 0x123456789abcdef0n);
  });

  it('reads a GetK-shaped reply: the echoed key is not part of the value', async () => {
    const op = command(Opcode.GetK);
    const { settled } = await outcome(op, [reply({ opcode: Opcode.GetK, extras: flagsOf(5), key: utf8('the-key'), value: utf8('v') })]);
    const item = resolved(settled) as Item;
    assert.equal(item.text, 'v');
    assert.equal(item.flags, 5);
  });

  it('reads a hit split byte by byte the same as whole', async () => {
    const op = command(Opcode.Get);
    const watcher = observe(op);
    deliver(op, [reply({ opcode: Opcode.Get, extras: flagsOf(0xcafe), value: hitValue, casHi: 1, casLo: 2 })], 'bytes');
    isItem(resolved(await watcher.state()));
  });
});

describe('applyReply: Counter replies', () => {
  it('resolves the 8-byte count as a bigint, small and above 2^53', async () => {
    for (const n of [0n, 1n, 2n ** 32n, 2n ** 53n + 1n]) {
      const op = command(Opcode.Decrement);
      const { settled } = await outcome(op, [reply({ opcode: Opcode.Decrement, value: u64(n) })]);
      assert.equal(resolved(settled), n);
    }
  });
});

describe('applyReply: multi-get (GetKQ per key, then Noop)', () => {
  function multi(keys: string[]): Operation {
    const op = command(Opcode.GetKQ);
    op.keys = keys;
    op.tag = 100;
    op.lastTag = 100 + keys.length;
    op.result = new Map<string, Item>();
    return op;
  }

  it('collects hits by opaque, skips misses, and resolves on the Noop', async () => {
    const op = multi(['a', 'b', 'c']);
    const watcher = observe(op);
    const hits = [
      reply({ opcode: Opcode.GetKQ, opaque: 100, extras: flagsOf(1), key: utf8('a'), value: utf8('A') }),
      reply({ opcode: Opcode.GetKQ, opaque: 102, extras: flagsOf(3), key: utf8('c'), value: utf8('C') }),
    ];
    assert.deepEqual(deliver(op, hits), [false, false]);
    assert.equal(await watcher.state(), 'pending');
    assert.deepEqual(deliver(op, [reply({ opcode: Opcode.Noop, opaque: 103 })]), [true]);
    const map = resolved(await watcher.state()) as Map<string, Item>;
    assert.deepEqual([...map.keys()], ['a', 'c']);
    assert.equal(map.get('a')!.text, 'A');
    assert.equal(map.get('c')!.flags, 3);
  });

  it('ignores a KeyNotFound reply for one key', async () => {
    const op = multi(['a']);
    const { done, settled } = await outcome(op, [
      reply({ opcode: Opcode.GetKQ, opaque: 100, status: Status.KeyNotFound, value: utf8('Not found') }),
      reply({ opcode: Opcode.Noop, opaque: 101 }),
    ]);
    assert.deepEqual(done, [false, true]);
    assert.equal((resolved(settled) as Map<string, Item>).size, 0);
  });

  it('rejects on the Noop with the first error status any key met', async () => {
    const op = multi(['a', 'b', 'c']);
    const { done, settled } = await outcome(op, [
      reply({ opcode: Opcode.GetKQ, opaque: 100, extras: flagsOf(0), key: utf8('a'), value: utf8('A') }),
      reply({ opcode: Opcode.GetKQ, opaque: 101, status: Status.OutOfMemory, value: utf8('Out of memory') }),
      reply({ opcode: Opcode.GetKQ, opaque: 102, status: Status.Busy, value: utf8('Busy') }),
      reply({ opcode: Opcode.Noop, opaque: 103 }),
    ]);
    assert.deepEqual(done, [false, false, false, true]);
    assertError(settled, ErrorCode.SERVER, Status.OutOfMemory, Opcode.GetKQ);
  });
});

describe('applyReply: stats (one frame per stat, then an empty key)', () => {
  it('collects name/value pairs and resolves on the empty key', async () => {
    const op = command(Opcode.Stat);
    op.result = {};
    const { done, settled } = await outcome(op, [
      reply({ opcode: Opcode.Stat, key: utf8('pid'), value: utf8('1234') }),
      reply({ opcode: Opcode.Stat, key: utf8('version'), value: utf8('1.6.18') }),
      reply({ opcode: Opcode.Stat }),
    ]);
    assert.deepEqual(done, [false, false, true]);
    assert.deepEqual(resolved(settled), { pid: '1234', version: '1.6.18' });
  });

  it('rejects on an error status, ending the operation', async () => {
    const op = command(Opcode.Stat);
    op.result = {};
    const { done, settled } = await outcome(op, [
      reply({ opcode: Opcode.Stat, key: utf8('pid'), value: utf8('1') }),
      reply({ opcode: Opcode.Stat, status: Status.UnknownCommand, value: utf8('Unknown command') }),
    ]);
    assert.deepEqual(done, [false, true]);
    assertError(settled, ErrorCode.SERVER, Status.UnknownCommand, Opcode.Stat);
  });
});

describe('applyReply: an operation settles once', () => {
  it('keeps its first outcome when another reply is applied', async () => {
    const op = command(Opcode.Set);
    const { settled } = await outcome(op, [
      reply({ opcode: Opcode.Set }),
      reply({ opcode: Opcode.Set, status: Status.OutOfMemory }),
    ]);
    assert.equal(resolved(settled), true);
    assert.equal(op.settled, true);
  });
});

describe('applyReply: error messages never hold the value', () => {
  it('leaves out the request value and the reply body', async () => {
    const secret = 'password=hunter2';
    for (const [kind, opcode] of [
      [Kind.Store, Opcode.Set],
      [Kind.Get, Opcode.Get],
      [Kind.Counter, Opcode.Increment],
    ] as const) {
      const op = command(opcode);
      op.key = 'k';
      op.value = secret;
      const { settled } = await outcome(op, [
        // A misbehaving server echoing the value in an error body.
        reply({ opcode, status: Status.InternalError, extras: flagsOf(0), value: utf8(secret) }),
      ]);
      const error = assertError(settled, ErrorCode.SERVER, Status.InternalError, opcode);
      assert.ok(!error.message.includes('hunter2'), error.message);
      assert.ok(!String(error.stack).includes('hunter2'));
    }
  });
});

// ---- encodeOperation ---------------------------------------------------------

describe('encodeCommand: frames per verb', () => {
  function frames(op: Operation): Uint8Array {
    const writer = new RequestWriter();
    encodeOperation(writer, op);
    const out = concat(writer.drain());
    writer.drained();
    return out;
  }
  function direct(write: (w: RequestWriter) => void): Uint8Array {
    const writer = new RequestWriter();
    write(writer);
    return concat(writer.drain());
  }
  function op(_kind: Kind, opcode: number, fields: Partial<Pick<Operation, 'key' | 'value' | 'flags' | 'expires' | 'casHi' | 'casLo' | 'delta' | 'initial'>>): Operation {
    const o = command(opcode);
    Object.assign(o, fields);
    o.tag = 42;
    return o;
  }

  it('writes each Kind as the matching writer call', () => {
    const cases: [Operation, (w: RequestWriter) => void][] = [
      [op(Kind.Get, Opcode.Get, { key: 'k' }), (w) => w.keyOnly(Opcode.Get, 'k', 42)],
      [op(Kind.Delete, Opcode.Delete, { key: 'k', casHi: 1, casLo: 2 }), (w) => w.keyOnly(Opcode.Delete, 'k', 42, 1, 2)],
      [op(Kind.Store, Opcode.Add, { key: 'k', value: 'v', flags: 3, expires: 4, casLo: 5 }), (w) => w.store(Opcode.Add, 'k', 'v', 3, 4, 42, 0, 5)],
      [op(Kind.Concat, Opcode.Prepend, { key: 'k', value: 'v' }), (w) => w.concat(Opcode.Prepend, 'k', 'v', 42)],
      [op(Kind.Counter, Opcode.Decrement, { key: 'k', delta: 2n ** 64n - 1n, initial: 7, expires: 0xffffffff }), (w) => w.counter(Opcode.Decrement, 'k', 2n ** 64n - 1n, 7, 0xffffffff, 42)],
      [op(Kind.Touch, Opcode.Touch, { key: 'k', expires: 9 }), (w) => w.touch(Opcode.Touch, 'k', 9, 42)],
      [op(Kind.GetAndTouch, Opcode.GAT, { key: 'k', expires: 9 }), (w) => w.touch(Opcode.GAT, 'k', 9, 42)],
      [op(Kind.Stats, Opcode.Stat, {}), (w) => w.stat(null, 42)],
      [op(Kind.Stats, Opcode.Stat, { key: 'items' }), (w) => w.stat('items', 42)],
      [op(Kind.Flush, Opcode.Flush, { expires: 30 }), (w) => w.flush(Opcode.Flush, 30, 42)],
      [op(Kind.Version, Opcode.Version, {}), (w) => w.empty(Opcode.Version, 42)],
      [op(Kind.Noop, Opcode.Noop, {}), (w) => w.empty(Opcode.Noop, 42)],
    ];
    for (const [operation, write] of cases) {
      assert.deepEqual(frames(operation), direct(write), `verb ${operation.verb}`);
    }
  });

  it('writes a multi-get as one GetKQ per key (opaque = first + index) and a Noop', () => {
    const o = command(Opcode.GetKQ);
    o.keys = ['a', 'b', 'c'];
    o.tag = 10;
    o.lastTag = 13;
    assert.deepEqual(
      frames(o),
      direct((w) => {
        w.keyOnly(Opcode.GetKQ, 'a', 10);
        w.keyOnly(Opcode.GetKQ, 'b', 11);
        w.keyOnly(Opcode.GetKQ, 'c', 12);
        w.empty(Opcode.Noop, 13);
      }),
    );
  });

  it('writes nothing of a multi-get with a bad key anywhere in it', () => {
    const writer = new RequestWriter();
    writer.empty(Opcode.Noop, 1);
    const o = command(Opcode.GetKQ);
    o.keys = ['a', 'b', 'bad key', 'd'];
    o.tag = 10;
    o.lastTag = 14;
    assert.throws(() => encodeOperation(writer, o), (e: unknown) => e instanceof MemcacheError && e.code === ErrorCode.BAD_KEY);
    assert.deepEqual(concat(writer.drain()), direct((w) => w.empty(Opcode.Noop, 1)));
  });
});
