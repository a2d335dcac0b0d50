// The meta codec fed scripted bytes: what a real server will not send
// (garbage, half replies, foreign tags), and the bookkeeping around replies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Command, Verb } from '../../../lib/command.js';
import { ErrorCode, MemcacheError } from '../../../lib/errors.js';
import type { Item } from '../../../lib/item.js';
import { MetaCodec } from '../../../lib/protocol/meta/codec.js';
import { LINE_MAX } from '../../../lib/protocol/meta/reader.js';
import { Status } from '../../../lib/protocol/status.js';
import { concat, utf8 } from '../../support/frames.js';
import { codecHarness } from '../../support/codec-fifo.js';
import { throwsCode } from '../../support/throws.js';

function setup(sasl?: { username: string; password: string }) {
  return codecHarness((fifo) => new MetaCodec({ server: '127.0.0.1:1', maxValueSize: 1024 * 1024, ...(sasl ? { sasl } : {}) }, fifo));
}

const get = (key: string) => (c: Command) => void (c.key = key);

describe('MetaCodec: tags', () => {
  it('assigns one tag per request from a 32-bit counter that wraps; a getMulti takes one per key plus its mn', () => {
    const { codec, send, wire } = setup();
    (codec as unknown as { nextTag: number }).nextTag = 0xfffffffe;
    const a = send(Verb.Get, get('a'));
    const m = send(Verb.GetMulti, (c) => ((c.keys = ['x', 'y']), (c.result = new Map())));
    const b = send(Verb.Get, get('b'));
    assert.deepEqual([a.tag, a.lastTag, m.tag, m.lastTag, b.tag], [0xfffffffe, 0xfffffffe, 0xffffffff, 1, 2]);
    assert.equal(wire(), 'mg a v f c O4294967294\r\nmg x v f c O4294967295 q\r\nmg y v f c O0 q\r\nmn\r\nmg b v f c O2\r\n');
  });

  it('a getMulti with a bad key commits nothing and takes no tag', () => {
    const { codec, send, wire } = setup();
    send(Verb.Noop);
    const command = new Command(Verb.GetMulti);
    command.keys = ['good', 'bad key'];
    command.result = new Map();
    throwsCode(() => codec.encode(command), ErrorCode.BAD_KEY);
    const next = send(Verb.Get, get('k'));
    assert.equal(next.tag, 1);
    assert.equal(wire(), 'mn\r\nmg k v f c O1\r\n');
  });
});

describe('MetaCodec: replies settle the oldest command', () => {
  it('a getMulti names its hits by O index, keeps the first error, and fails with it at MN (hits still recorded)', () => {
    const { fifo, codec, send } = setup();
    const result = new Map<string, Item>();
    const m = send(Verb.GetMulti, (c) => ((c.keys = ['k0', 'k1', 'k2', 'k3']), (c.result = result)));
    const after = send(Verb.Noop);
    codec.read(utf8('VA 2 f1 c5 O1\r\nv1\r\nSERVER_ERROR out of memory writing get response\r\nCLIENT_ERROR x\r\nVA 2 O3\r\nv3\r\nMN\r\nMN\r\n'));
    assert.deepEqual([...result.keys()], ['k1', 'k3']);
    assert.equal(result.get('k1')!.text, 'v1');
    assert.equal(result.get('k1')!.cas, 5n);
    const error = fifo.outcomes.get(m)!.error as MemcacheError;
    assert.equal(error.code, ErrorCode.SERVER);
    assert.equal(error.status, Status.OutOfMemory);
    assert.deepEqual(fifo.outcomes.get(after), { value: undefined });
  });

  it('a getMulti hit out of order or outside its keys is a protocol error', () => {
    for (const stream of ['VA 1 O2\r\na\r\nVA 1 O1\r\nb\r\n', 'VA 1 O4\r\na\r\n', 'VA 1\r\na\r\n', 'HD O1\r\n']) {
      const { codec, send } = setup();
      send(Verb.GetMulti, (c) => ((c.keys = ['a', 'b', 'c']), (c.result = new Map())));
      throwsCode(() => codec.read(utf8(stream)), ErrorCode.PROTOCOL);
    }
  });

  it('a command already settled by its signal still has its reply read, and complete() called', () => {
    const { fifo, codec, send } = setup();
    const aborted = send(Verb.Get, get('a'));
    const next = send(Verb.Get, get('b'));
    aborted.fail(new Error('aborted'));
    codec.read(utf8('VA 3 O0\r\nabc\r\nEN O1\r\n'));
    assert.equal(fifo.at, 2);
    assert.deepEqual(fifo.outcomes.get(next), { value: null });
  });

  it('an error line fails its command and the connection goes on', () => {
    const { fifo, codec, send } = setup();
    const a = send(Verb.Set, (c) => ((c.key = 'k'), (c.value = 'v')));
    const b = send(Verb.Increment, (c) => ((c.key = 'k'), (c.delta = 1)));
    const c = send(Verb.Set, (c) => ((c.key = 'k'), (c.value = 'v')));
    const d = send(Verb.Stats, get('bogus'));
    const e = send(Verb.Get, get('k'));
    codec.read(utf8('SERVER_ERROR object too large for cache\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\nEN O4\r\n'));
    const codes = [a, b, c, d].map((x) => {
      const error = fifo.outcomes.get(x)!.error as MemcacheError;
      return [error.code, error.status];
    });
    assert.deepEqual(codes, [
      [ErrorCode.VALUE_TOO_LARGE, Status.ValueTooLarge],
      [ErrorCode.NOT_NUMERIC, Status.NonNumeric],
      [ErrorCode.SERVER, Status.InvalidArguments],
      [ErrorCode.SERVER, Status.UnknownCommand],
    ]);
    assert.deepEqual(fifo.outcomes.get(e), { value: null });
  });

  it('stats: a prototype-free record of strings', () => {
    const { fifo, codec, send } = setup();
    const s = send(Verb.Stats);
    codec.read(utf8('STAT pid 12\r\nSTAT version 1.6.18\r\nSTAT __proto__ x\r\nEND\r\n'));
    const record = fifo.outcomes.get(s)!.value as Record<string, string>;
    assert.equal(Object.getPrototypeOf(record), null);
    assert.deepEqual(Object.entries(record), [['pid', '12'], ['version', '1.6.18'], ['__proto__', 'x']]);
  });
});

describe('MetaCodec: ERROR to a meta command means the server speaks no meta', () => {
  for (const verb of [Verb.Get, Verb.Noop, Verb.Set]) {
    it(`closes with a message naming the protocols to choose (verb ${verb})`, () => {
      const { codec, send } = setup();
      send(verb, (c) => ((c.key = 'k'), (c.value = 'v')));
      const error = throwsCode(() => codec.read(utf8('ERROR\r\n')), ErrorCode.PROTOCOL);
      assert.match(error.message, /does not speak memcached's meta protocol/);
      assert.match(error.message, /protocol: 'binary'/);
      assert.match(error.message, /protocol: 'text' for twemproxy and mcrouter/);
    });
  }
});

describe('MetaCodec: text authentication', () => {
  it('without credentials there is no handshake', () => {
    const { codec } = setup();
    assert.deepEqual(codec.handshake(), []);
    assert.equal(codec.awaitingHandshake, false);
  });

  it('STORED answers the handshake: ready() once', () => {
    const { fifo, codec } = setup({ username: 'alice', password: 'pw' });
    const first = codec.handshake();
    assert.equal(Buffer.from(concat(first)).toString(), 'set memring-auth 0 -1 8\r\nalice pw\r\n');
    assert.equal(codec.awaitingHandshake, true);
    codec.read(utf8('STO'));
    codec.read(utf8('RED\r\n'));
    assert.equal(fifo.readied, 1);
    assert.equal(codec.awaitingHandshake, false);
  });

  for (const answer of ['CLIENT_ERROR authentication failure\r\n', 'CLIENT_ERROR bad authentication token format\r\n', 'ERROR\r\n', 'HD\r\n']) {
    it(`${JSON.stringify(answer)}: MC_ERR_AUTH naming the user, never the password`, () => {
      const { fifo, codec } = setup({ username: 'alice', password: 'hunter2-secret' });
      codec.handshake();
      const error = throwsCode(() => codec.read(utf8(answer)), ErrorCode.AUTH);
      assert.equal(error.status, Status.AuthError);
      assert.match(error.message, /"alice"/);
      assert.doesNotMatch(error.message, /hunter2/);
      assert.equal(fifo.readied, 0);
    });
  }
});

describe('MetaCodec: corrupt input closes the connection (MC_ERR_PROTOCOL), never a crash or a hang', () => {
  const table: [string, string | Uint8Array, Verb?][] = [
    ['a VA length that is not a number', 'VA x O0\r\nab\r\n'],
    ['a negative VA length', 'VA -5 O0\r\nab\r\n'],
    ['a huge VA length', 'VA 4294967296 O0\r\n'],
    ['a VA length over the item limit + 64 KiB', `VA ${1024 * 1024 + 65 * 1024} O0\r\n`],
    ['a VA without a length', 'VA\r\n'],
    ['data not followed by \\r\\n', 'VA 2 O0\r\nabXY'],
    ['data followed by \\n only', 'VA 2 O0\r\nab\nEN O1\r\n'],
    ['an unknown reply word', 'ZZ O0\r\n'],
    ['an unknown long word', 'VALUE foo 0 2\r\nab\r\nEND\r\n'],
    ['a tag that is not the head command\'s', 'EN O5\r\n'],
    ['a reply without a tag', 'EN\r\n'],
    ['a tag that is not a number', 'EN Oabc\r\n'],
    ['a reply with nothing in flight', 'EN O0\r\nEN O1\r\n'],
    ['a line of more than 8 KiB', `HD ${'k'.repeat(LINE_MAX)}\r\n`],
    ['a line of more than 8 KiB split over reads', `HD O0 ${'k'.repeat(LINE_MAX)}`],
    ['a line that never ends', 'E'.repeat(LINE_MAX + 2)],
    ['a line ending in \\n alone', 'EN O0\n'],
    ['an empty line', '\r\n'],
    ['flags that are not a number', 'VA 1 fx O0\r\na\r\n'],
    ['a CAS over 2^64', 'VA 1 c18446744073709551616 O0\r\na\r\n'],
    ['two spaces between flags', 'EN  O0\r\n'],
    ['a trailing space', 'EN O0 \r\n'],
    ['END with arguments', 'END now\r\n', Verb.Stats],
    ['a binary-protocol reply', Uint8Array.of(0x81, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0x0a)],
    ['NUL bytes and high bytes', Uint8Array.of(0, 0xff, 0xfe, 0x0d, 0x0a)],
    ['a reply of the wrong kind (HD to a get)', 'HD O0\r\n'],
    ['a value where none was asked (VA to a delete)', 'VA 1 O0\r\nx\r\n', Verb.Delete],
    ['STAT to a get', 'STAT pid 1\r\n'],
    ['OK to a set', 'OK\r\n', Verb.Set],
    ['a counter that is not a number', 'VA 3 O0\r\nabc\r\n', Verb.Increment],
    ['a counter over 2^64', 'VA 20 O0\r\n18446744073709551616\r\n', Verb.Increment],
  ];
  for (const [name, input, verb] of table) {
    const stream = typeof input === 'string' ? utf8(input) : input;
    it(`${name}: whole and byte by byte`, () => {
      for (const pieces of [[stream], Array.from(stream, (b) => Uint8Array.of(b))]) {
        const { codec, send } = setup();
        send(verb ?? Verb.Get, (c) => ((c.key = 'k'), (c.value = 'v')));
        let thrown: unknown = null;
        for (const piece of pieces) {
          try {
            codec.read(piece);
          } catch (error) {
            thrown = error;
            break;
          }
        }
        assert.ok(thrown instanceof MemcacheError, `no error for ${name}`);
        assert.equal(thrown.code, ErrorCode.PROTOCOL, thrown.message);
        codec.reset();
      }
    });
  }
});
