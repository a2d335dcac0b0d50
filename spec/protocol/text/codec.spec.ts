// The text codec fed scripted bytes: what a real server will not send
// (garbage, half replies, a key not asked for), the exact requests written,
// and the bookkeeping around replies matched by order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Command, Verb } from '../../../lib/command.js';
import { ErrorCode, MemcacheError } from '../../../lib/errors.js';
import type { Item } from '../../../lib/item.js';
import { TextCodec } from '../../../lib/protocol/text/codec.js';
import { LINE_MAX } from '../../../lib/protocol/text/reader.js';
import { Status } from '../../../lib/protocol/status.js';
import { utf8 } from '../../support/frames.js';
import { codecHarness } from '../../support/codec-fifo.js';
import { throwsCode } from '../../support/throws.js';

function setup(sasl?: { username: string; password: string }) {
  const harness = codecHarness((fifo) => new TextCodec({ server: '127.0.0.1:1', maxValueSize: 1024 * 1024, ...(sasl ? { sasl } : {}) }, fifo));
  const { fifo } = harness;
  const value = (c: Command): unknown => {
    const outcome = fifo.outcomes.get(c);
    assert.ok(outcome !== undefined, `${c.verb} did not settle`);
    if (outcome.error !== undefined) throw outcome.error;
    return outcome.value;
  };
  const error = (c: Command): MemcacheError => {
    const outcome = fifo.outcomes.get(c);
    assert.ok(outcome?.error instanceof MemcacheError, `expected an error, got ${JSON.stringify(outcome)}`);
    return outcome.error;
  };
  return { ...harness, value, error };
}

const key = (k: string) => (c: Command) => void (c.key = k);
const store = (k: string, v: string, fill: Partial<Command> = {}) => (c: Command) => {
  c.key = k;
  c.value = v;
  Object.assign(c, fill);
};

describe('TextCodec: requests', () => {
  it('writes each verb as its text command, with no noreply', () => {
    const { send, wire } = setup();
    send(Verb.Get, key('a'));
    send(Verb.GetAndTouch, (c) => ((c.key = 'a'), (c.expires = 30)));
    send(Verb.Touch, (c) => ((c.key = 'a'), (c.expires = 0)));
    send(Verb.GetMulti, (c) => (c.keys = ['x', 'y', 'z']));
    send(Verb.Set, store('a', 'hi', { flags: 7, expires: 60 }));
    send(Verb.Add, store('a', 'hi'));
    send(Verb.Replace, store('a', 'hi', { flags: 4294967295 }));
    send(Verb.Append, store('a', '+'));
    send(Verb.Prepend, store('a', '-'));
    send(Verb.Delete, key('a'));
    send(Verb.Increment, (c) => ((c.key = 'n'), (c.delta = 18446744073709551615n)));
    send(Verb.Decrement, (c) => ((c.key = 'n'), (c.delta = 5)));
    send(Verb.Flush, (c) => (c.expires = 10));
    send(Verb.Flush);
    send(Verb.Version);
    send(Verb.Stats);
    send(Verb.Stats, key('slabs'));
    send(Verb.Noop);
    assert.equal(
      wire(),
      'gets a\r\ngats 30 a\r\ntouch a 0\r\ngets x y z\r\nset a 7 60 2\r\nhi\r\nadd a 0 0 2\r\nhi\r\nreplace a 4294967295 0 2\r\nhi\r\n' +
        'append a 0 0 1\r\n+\r\nprepend a 0 0 1\r\n-\r\ndelete a\r\nincr n 18446744073709551615\r\ndecr n 5\r\n' +
        'flush_all 10\r\nflush_all\r\nversion\r\nstats\r\nstats slabs\r\nversion\r\n',
    );
  });

  it('a set or replace with a CAS token is a cas command (64-bit tokens included); UTF-8 values count bytes', () => {
    const { send, wire } = setup();
    send(Verb.Set, store('a', 'v', { casHi: 0, casLo: 42 }));
    send(Verb.Replace, store('a', 'v', { casHi: 0xffffffff, casLo: 0xffffffff, expires: 5 }));
    send(Verb.Set, store('a', 'v', { casHi: 1, casLo: 2 }));
    send(Verb.Set, store('é', 'ü€'));
    assert.equal(
      Buffer.from(wire(), 'latin1').toString('utf8'),
      'cas a 0 0 1 42\r\nv\r\ncas a 0 5 1 18446744073709551615\r\nv\r\ncas a 0 0 1 4294967298\r\nv\r\nset é 0 0 5\r\nü€\r\n',
    );
  });

  it('refuses, typed and without sending, what text cannot carry: CAS on add/append/prepend/delete, a verb it lacks, a TTL past 2^31-1', () => {
    const { codec, wire } = setup();
    const encode = (verb: Verb, fill: (c: Command) => void): void => {
      const c = new Command(verb);
      fill(c);
      codec.encode(c);
    };
    for (const verb of [Verb.Add, Verb.Append, Verb.Prepend]) {
      const error = throwsCode(() => encode(verb, store('a', 'v', { casLo: 1 })), ErrorCode.UNSUPPORTED);
      assert.match(error.message, /CAS token is not possible in the text protocol/);
    }
    throwsCode(() => encode(Verb.Delete, (c) => ((c.key = 'a'), (c.casLo = 9))), ErrorCode.UNSUPPORTED);
    throwsCode(() => encode(99 as Verb, key('a')), ErrorCode.UNSUPPORTED);
    throwsCode(() => encode(Verb.Increment, (c) => ((c.key = 'n'), (c.create = true))), ErrorCode.UNSUPPORTED);
    throwsCode(() => encode(Verb.Set, store('a', 'v', { expires: 0x80000000 })), ErrorCode.BAD_ARGUMENT);
    throwsCode(() => encode(Verb.GetMulti, (c) => (c.keys = ['ok', 'bad key'])), ErrorCode.BAD_KEY);
    throwsCode(() => encode(Verb.Get, key('x'.repeat(251))), ErrorCode.BAD_KEY);
    assert.equal(wire(), '');
  });
});

describe('TextCodec: replies, matched by order', () => {
  /** Commands of every kind, the replies a server sends them, and what each settles to. */
  function script() {
    const s = setup();
    const { send } = s;
    const commands = [
      send(Verb.Get, key('a')),
      send(Verb.Get, key('missing')),
      send(Verb.GetMulti, (c) => ((c.keys = ['k1', 'k2', 'k3']), (c.result = new Map()))),
      send(Verb.Set, store('a', 'v')),
      send(Verb.Add, store('a', 'v')),
      send(Verb.Set, store('a', 'v', { casLo: 3 })),
      send(Verb.Delete, key('a')),
      send(Verb.Touch, (c) => (c.key = 'a')),
      send(Verb.Increment, (c) => (c.key = 'n')),
      send(Verb.Decrement, (c) => (c.key = 'm')),
      send(Verb.Stats, (c) => (c.result = null)),
      send(Verb.Version),
      send(Verb.Flush),
      send(Verb.Noop),
      send(Verb.Set, store('big', 'x')),
    ];
    const replies =
      'VALUE a 5 3 77\r\nabc\r\nEND\r\n' +
      'END\r\n' +
      'VALUE k3 0 1 9\r\n3\r\nVALUE k1 1 1 8\r\n1\r\nEND\r\n' +
      'STORED\r\nNOT_STORED\r\nEXISTS\r\nDELETED\r\nNOT_FOUND\r\n' +
      '18446744073709551615\r\n0  \r\n' +
      'STAT pid 12\r\nSTAT version 1.6.18 extra\r\nEND\r\n' +
      'VERSION 1.6.18\r\nOK\r\nVERSION 1.6.18\r\n' +
      'SERVER_ERROR object too large for cache\r\n';
    const check = () => {
      const [get, miss, multi, set, add, cas, del, touch, incr, decr, stats, version, flush, noop, tooLarge] = commands;
      const item = s.value(get!) as Item;
      assert.equal(item.text, 'abc');
      assert.equal(item.flags, 5);
      assert.equal(item.cas, 77n);
      assert.equal(s.value(miss!), null);
      const hits = s.value(multi!) as Map<string, Item>;
      assert.deepEqual([...hits.keys()].sort(), ['k1', 'k3']);
      assert.equal(hits.get('k1')!.flags, 1);
      assert.equal(hits.get('k3')!.cas, 9n);
      assert.deepEqual([set, add, cas, del, touch].map((c) => s.value(c!)), [true, false, false, true, false]);
      assert.equal(s.value(incr!), 18446744073709551615n);
      assert.equal(s.value(decr!), 0n);
      assert.deepEqual({ ...(s.value(stats!) as object) }, { pid: '12', version: '1.6.18 extra' });
      assert.equal(s.value(version!), '1.6.18');
      assert.equal(s.value(flush!), undefined);
      assert.equal(s.value(noop!), undefined);
      const error = s.error(tooLarge!);
      assert.equal(error.code, ErrorCode.VALUE_TOO_LARGE);
      assert.equal(error.status, Status.ValueTooLarge);
      assert.equal(s.fifo.at, commands.length);
    };
    return { ...s, replies: utf8(replies), check };
  }

  it('settles every command from one chunk', () => {
    const { codec, replies, check } = script();
    codec.read(replies);
    check();
  });

  it('settles the same whatever offset the stream is split at (two chunks, every offset; and one byte at a time)', () => {
    const { replies } = script();
    for (let at = 0; at <= replies.length; at++) {
      const { codec, check } = script();
      codec.read(replies.subarray(0, at));
      codec.read(replies.subarray(at));
      check();
    }
    const { codec, check } = script();
    for (let i = 0; i < replies.length; i++) codec.read(replies.subarray(i, i + 1));
    check();
  });

  it('assembles a value that spans reads, whatever the cuts (line, data, trailer)', () => {
    const big = 'y'.repeat(20_000);
    const bytes = utf8(`VALUE a 0 ${big.length} 5\r\n${big}\r\nEND\r\n`);
    for (const [x, y] of [[3, 10], [17, 20_000], [20_018, 20_019], [20_019, 20_021], [20_020, 20_024]]) {
      const { codec, send, value } = setup();
      const get = send(Verb.Get, key('a'));
      codec.read(bytes.subarray(0, x));
      codec.read(bytes.subarray(x, y));
      codec.read(bytes.subarray(y));
      const item = value(get) as Item;
      assert.equal(item.text, big);
      assert.equal(item.cas, 5n);
    }
  });

  it('keeps no reference to the chunk it read: values are copies', () => {
    const { codec, send, value } = setup();
    const get = send(Verb.Get, key('a'));
    const chunk = utf8('VALUE a 0 3\r\nabc\r\nEND\r\n');
    codec.read(chunk);
    chunk.fill(0x21);
    assert.equal((value(get) as Item).text, 'abc');
  });

  it('an error line settles only the command it answers; the next reply goes to the next command', () => {
    const { codec, send, value, error } = setup();
    const incr = send(Verb.Increment, key('s'));
    const get = send(Verb.Get, key('a'));
    const stats = send(Verb.Stats, (c) => (c.key = 'nonsense'));
    const gat = send(Verb.GetAndTouch, key('a'));
    const set = send(Verb.Set, store('a', 'v'));
    const noop = send(Verb.Noop);
    codec.read(
      utf8(
        'CLIENT_ERROR cannot increment or decrement non-numeric value\r\nSERVER_ERROR out of memory\r\nERROR\r\nERROR\r\n' +
          'CLIENT_ERROR bad data chunk\r\nSERVER_ERROR Connection refused\r\n',
      ),
    );
    assert.equal(error(incr).code, ErrorCode.NOT_NUMERIC);
    assert.equal(error(incr).status, Status.NonNumeric);
    assert.equal(error(get).status, Status.OutOfMemory);
    assert.equal(error(stats).code, ErrorCode.SERVER);
    assert.equal(error(stats).status, Status.UnknownCommand);
    assert.equal(error(gat).code, ErrorCode.UNSUPPORTED);
    assert.equal(error(set).code, ErrorCode.SERVER);
    assert.equal(error(set).status, Status.InvalidArguments);
    // A round trip a proxy answered, if not its backend.
    assert.equal(value(noop), undefined);
  });

  it('a getMulti names hits by the key echoed, in any order, repeated keys included', () => {
    const { codec, send, value } = setup();
    const multi = send(Verb.GetMulti, (c) => ((c.keys = ['a', 'ü', 'b', 'a']), (c.result = new Map())));
    codec.read(utf8('VALUE b 0 1\r\nB\r\nVALUE ü 0 1\r\nU\r\nVALUE a 0 1\r\nA\r\nVALUE a 0 1\r\nA\r\nEND\r\n'));
    const hits = value(multi) as Map<string, Item>;
    assert.deepEqual([...hits.entries()].map(([k, v]) => `${k}=${v.text}`).sort(), ['a=A', 'b=B', 'ü=U']);
  });

  describe('out of step: read() throws MC_ERR_PROTOCOL (the connection closes)', () => {
    const cases: [string, (s: ReturnType<typeof setup>) => void, string][] = [
      ['garbage', (s) => s.send(Verb.Get, key('a')), 'HELLO\r\n'],
      ['a reply with nothing in flight', () => {}, 'STORED\r\n'],
      ['a VALUE for another key than the get asked for', (s) => s.send(Verb.Get, key('a')), 'VALUE b 0 1\r\nx\r\nEND\r\n'],
      ['a VALUE for a key the getMulti did not ask for', (s) => s.send(Verb.GetMulti, (c) => ((c.keys = ['a']), (c.result = new Map()))), 'VALUE z 0 1\r\nx\r\nEND\r\n'],
      ['two VALUEs for one get', (s) => s.send(Verb.Get, key('a')), 'VALUE a 0 1\r\nx\r\nVALUE a 0 1\r\nx\r\nEND\r\n'],
      ['a reply of the wrong kind', (s) => s.send(Verb.Set, store('a', 'v')), 'DELETED\r\n'],
      ['a value not followed by \\r\\n', (s) => s.send(Verb.Get, key('a')), 'VALUE a 0 1\r\nxy\r\nEND\r\n'],
      ['a VALUE over the item limit', (s) => s.send(Verb.Get, key('a')), `VALUE a 0 ${2 * 1024 * 1024}\r\n`],
      ['a VALUE with a bad flags field', (s) => s.send(Verb.Get, key('a')), 'VALUE a -1 1\r\nx\r\nEND\r\n'],
      ['a line ending in \\n alone', (s) => s.send(Verb.Delete, key('a')), 'DELETED\n'],
      ['a counter over 2^64', (s) => s.send(Verb.Increment, key('n')), '18446744073709551616\r\n'],
      ['a number with letters', (s) => s.send(Verb.Increment, key('n')), '12ab\r\n'],
      ['a bare word with arguments', (s) => s.send(Verb.Set, store('a', 'v')), 'STORED now\r\n'],
      ['a line longer than the limit', (s) => s.send(Verb.Get, key('a')), `SERVER_ERROR ${'x'.repeat(LINE_MAX + 10)}\r\n`],
    ];
    for (const [name, prepare, bytes] of cases) {
      it(name, () => {
        const s = setup();
        prepare(s);
        throwsCode(() => s.codec.read(utf8(bytes)), ErrorCode.PROTOCOL);
      });
    }
  });
});

describe('TextCodec: a server that closes the connection on stats, flush_all or gats (twemproxy)', () => {
  it('fails the command written and unanswered MC_ERR_UNSUPPORTED, then refuses the verb without sending', () => {
    const { codec, send, wire, error, fifo } = setup();
    const get = send(Verb.Get, key('a'));
    const stats = send(Verb.Stats, (c) => (c.result = null));
    wire();
    // The connection drops (reset) with both unanswered: only stats is the proxy's refusal.
    codec.reset();
    assert.equal(error(stats).code, ErrorCode.UNSUPPORTED);
    assert.match(error(stats).message, /closed the connection on `stats`.*twemproxy/);
    assert.equal(fifo.outcomes.has(get), false);
    codec.handshake();
    const again = new Command(Verb.Stats);
    const refused = throwsCode(() => codec.encode(again), ErrorCode.UNSUPPORTED);
    assert.match(refused.message, /refused without sending it/);
    assert.equal(wire(), '');
    // Other verbs still go out.
    const c = new Command(Verb.Flush);
    codec.encode(c);
    assert.equal(wire(), 'flush_all\r\n');
  });

  it('forgets the refusal once a connection attempt fails (a server that was down, not a proxy)', () => {
    const { codec, send, wire } = setup();
    send(Verb.Flush);
    wire();
    codec.reset();
    // A reconnect that fails: reset with no handshake in between.
    codec.reset();
    codec.encode(new Command(Verb.Flush));
    assert.equal(wire(), 'flush_all\r\n');
  });

  it('does not blame the command when the head had timed out, was not yet written, or had begun its reply', () => {
    {
      const { codec, send, fifo } = setup();
      const stats = send(Verb.Stats, (c) => (c.result = null));
      stats.deadline = Date.now() - 1;
      codec.output.drain();
      codec.reset();
      assert.equal(fifo.outcomes.has(stats), false);
    }
    {
      const { codec, send, fifo } = setup();
      const stats = send(Verb.Stats, (c) => (c.result = null));
      codec.reset();
      assert.equal(fifo.outcomes.has(stats), false);
    }
    {
      const { codec, send, fifo } = setup();
      const stats = send(Verb.Stats, (c) => (c.result = null));
      codec.output.drain();
      codec.read(utf8('STAT pid 1\r\n'));
      codec.reset();
      assert.equal(fifo.outcomes.has(stats), false);
    }
  });
});

describe('TextCodec: text authentication (memcached -Y)', () => {
  it('sends the credentials as a set first and lets commands go on STORED', () => {
    const { codec, fifo } = setup({ username: 'u', password: 'p' });
    const [auth] = codec.handshake();
    assert.equal(Buffer.from(auth!).toString(), 'set memring-auth 0 -1 3\r\nu p\r\n');
    assert.equal(codec.awaitingHandshake, true);
    codec.read(utf8('STORED\r\n'));
    assert.equal(fifo.readied, 1);
  });

  it('a refusal throws MC_ERR_AUTH naming the user, never the password', () => {
    const { codec } = setup({ username: 'u', password: 'secret-pw' });
    codec.handshake();
    const error = throwsCode(() => codec.read(utf8('CLIENT_ERROR authentication failure\r\n')), ErrorCode.AUTH);
    assert.match(error.message, /"u"/);
    assert.doesNotMatch(error.message, /secret-pw/);
  });
});
