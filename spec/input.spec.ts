// Bad input gets a clear, typed error and nothing is sent: the server never
// sees a frame it would choke on, and the connection stays healthy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Group, MemcacheError } from '../lib/index.js';
import type { Protocol } from '../lib/group-options.js';
import { MemcachedServer } from './support/memcached.js';
import { requestFrames, responseFrame, startFakeServer, type FakeServer } from './support/fake-server.js';
import { PROTOCOLS } from './support/protocols.js';

let server: MemcachedServer;
/** A Group on the real server, one per protocol. */
const groups = {} as Record<Protocol, Group>;
let fake: FakeServer;
let recorded: Group;

before(async () => {
  server = await MemcachedServer.start();
  for (const protocol of PROTOCOLS) groups[protocol] = new Group([server.address], { protocol });
  // Answers every request with an empty OK, and records the bytes it got.
  fake = await startFakeServer((socket, chunk) => {
    for (const frame of requestFrames(chunk)) socket.write(responseFrame({ opcode: frame.opcode, opaque: frame.opaque }));
  });
  recorded = new Group([fake.address], { protocol: 'binary' });
});
after(async () => {
  await Promise.all(PROTOCOLS.map((protocol) => groups[protocol].close()));
  await recorded.close();
  await fake.close();
  await server.stop();
});

function rejectsWith(code: string, pattern?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof MemcacheError, `expected a MemcacheError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

/** Runs `bad` against the recording fake and checks no frame reached it. */
async function sendsNothing(bad: (g: Group) => Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await recorded.noop();
  const before = requestFrames(fake.received[0]!).length;
  await assert.rejects(bad(recorded), rejectsWith(code, pattern));
  await recorded.noop();
  const frames = requestFrames(fake.received[0]!);
  assert.equal(frames.length, before + 1, 'only the noop after the bad call was sent');
  assert.equal(frames.at(-1)!.opcode, 0x0a);
}

describe('keys', () => {
  const cases: [string, unknown, RegExp][] = [
    ['empty', '', /empty/],
    ['251 bytes', 'k'.repeat(251), /251 bytes/],
    ['over 250 UTF-8 bytes', 'é'.repeat(126), /252 bytes/],
    ['with a space', 'a key', /space/],
    ['with a tab', 'a\tkey', /control character U\+0009/],
    ['with a newline', 'key\n', /U\+000a/],
    ['with a carriage return', 'key\r', /U\+000d/],
    ['with a NUL', 'k\0', /U\+0000/],
    ['with DEL', 'k\x7f', /U\+007f/],
    ['with a C1 control', 'café\u0085', /U\+0085/],
    ['with a lone surrogate', 'k\ud800', /surrogate/],
    ['a number', 42, /must be a string/],
    ['undefined', undefined, /must be a string/],
    ['a Uint8Array', new Uint8Array([1]), /must be a string/],
  ];
  for (const [name, key, pattern] of cases) {
    it(`refuses a key ${name} with MC_ERR_BAD_KEY, sending nothing`, async () => {
      await sendsNothing((g) => g.get(key as string), 'MC_ERR_BAD_KEY', pattern);
      await sendsNothing((g) => g.set(key as string, 'v'), 'MC_ERR_BAD_KEY', pattern);
    });
  }

  it('refuses a whole getMulti when one key is bad, sending none of it', async () => {
    await sendsNothing((g) => g.getMulti(['good', 'also-good', 'bad key']), 'MC_ERR_BAD_KEY', /space/);
  });

  for (const protocol of PROTOCOLS) {
    it(`leaves the real connection healthy after each refusal (${protocol})`, async () => {
      const group = groups[protocol];
      for (const [, key] of cases) await assert.rejects(group.set(key as string, 'v'), { code: 'MC_ERR_BAD_KEY' });
      await group.set('healthy', 'yes');
      assert.equal((await group.get('healthy'))?.text, 'yes');
    });
  }
});

describe('values', () => {
  for (const [name, value] of [
    ['a number', 12],
    ['null', null],
    ['an object', { a: 1 }],
    ['an ArrayBuffer', new ArrayBuffer(4)],
  ] as [string, unknown][]) {
    it(`refuses ${name} with MC_ERR_BAD_VALUE`, async () => {
      await sendsNothing((g) => g.set('k', value as string), 'MC_ERR_BAD_VALUE', /string or Uint8Array/);
    });
  }

  it('refuses a value over maxValueSize with MC_ERR_VALUE_TOO_LARGE, bytes or string', async () => {
    const small = new Group([fake.address], { protocol: 'binary', maxValueSize: 1000 });
    try {
      await small.noop();
      const count = requestFrames(fake.received.at(-1)!).length;
      await assert.rejects(small.set('k', new Uint8Array(1001)), rejectsWith('MC_ERR_VALUE_TOO_LARGE', /1001 bytes/));
      await assert.rejects(small.set('k', 'é'.repeat(501)), rejectsWith('MC_ERR_VALUE_TOO_LARGE', /1002 bytes/));
      await assert.rejects(small.append('k', 'x'.repeat(20_000)), rejectsWith('MC_ERR_VALUE_TOO_LARGE'));
      assert.equal(await small.set('k', new Uint8Array(1000)), true);
      assert.equal(requestFrames(fake.received.at(-1)!).length, count + 1);
    } finally {
      await small.close();
    }
  });
});

describe('arguments', () => {
  it('refuses bad expirations, flags, deltas and CAS tokens with MC_ERR_BAD_ARGUMENT', async () => {
    await sendsNothing((g) => g.set('k', 'v', { expires: -1 }), 'MC_ERR_BAD_ARGUMENT', /expires/);
    await sendsNothing((g) => g.set('k', 'v', { expires: 1.5 }), 'MC_ERR_BAD_ARGUMENT', /expires/);
    await sendsNothing((g) => g.set('k', 'v', { flags: 2 ** 32 }), 'MC_ERR_BAD_ARGUMENT', /flags/);
    await sendsNothing((g) => g.set('k', 'v', { cas: 0n }), 'MC_ERR_BAD_ARGUMENT', /cas/);
    await sendsNothing((g) => g.cas('k', 'v', 'abc' as unknown as bigint), 'MC_ERR_BAD_ARGUMENT', /cas/);
    await sendsNothing((g) => g.incr('k', -1), 'MC_ERR_BAD_ARGUMENT', /delta/);
    await sendsNothing((g) => g.incr('k', 2n ** 64n), 'MC_ERR_BAD_ARGUMENT', /delta/);
    await sendsNothing((g) => g.incr('k', 1, { initial: 1.5 }), 'MC_ERR_BAD_ARGUMENT', /initial/);
    await sendsNothing((g) => g.decr('k', Number.MAX_SAFE_INTEGER + 2), 'MC_ERR_BAD_ARGUMENT', /delta/);
    await sendsNothing((g) => g.touch('k', 'soon' as unknown as number), 'MC_ERR_BAD_ARGUMENT', /expires/);
    await sendsNothing((g) => g.flush(-5), 'MC_ERR_BAD_ARGUMENT', /delay/);
    await sendsNothing((g) => g.get('k', { signal: 'stop' as unknown as AbortSignal }), 'MC_ERR_BAD_ARGUMENT', /signal/);
    await sendsNothing((g) => g.set('k', 'v', 5 as never), 'MC_ERR_BAD_ARGUMENT', /options/);
    await sendsNothing((g) => g.getMulti(5 as unknown as string[]), 'MC_ERR_BAD_ARGUMENT', /iterable/);
    await sendsNothing((g) => g.stats(5 as unknown as string), 'MC_ERR_BAD_ARGUMENT', /stats group/);
  });

  for (const protocol of PROTOCOLS) {
    it(`bad options never throw synchronously: every method returns a rejected promise (${protocol})`, () => {
      const result = groups[protocol].set('k', 'v', { expires: -1 });
      assert.ok(result instanceof Promise);
      return assert.rejects(result);
    });
  }
});

describe('servers', () => {
  const bad: [unknown, RegExp][] = [
    ['', /bad host in server ""/],
    ['host:', /bad port in server "host:"/],
    ['host:port', /bad port in server "host:port"/],
    ['host:0', /port out of range \(1-65535\) in server "host:0"/],
    ['host:70000', /port out of range \(1-65535\) in server "host:70000"/],
    ['host:1:2:3', /too many ":"/],
    ['::1:11211', /IPv6 address in brackets/],
    ['[::1', /unclosed "\["/],
    ['[::1]x', /expected ":port" after "\]"/],
    ['ho st:11211', /bad host in server "ho st:11211"/],
    ['a,b', /bad host/],
    [42, /must be a "host:port" string/],
    [{ host: 'h', port: 'x' }, /port out of range/],
  ];
  for (const [input, pattern] of bad) {
    it(`refuses ${JSON.stringify(input)} with MC_ERR_BAD_SERVER`, () => {
      assert.throws(() => new Group([input as string]), rejectsWith('MC_ERR_BAD_SERVER', pattern));
    });
  }

  it('accepts the forms libmemcached accepts', () => {
    for (const input of ['localhost', 'localhost:9999', '127.0.0.1', '[::1]:11211', '[::1]', 'h:11211:3', { host: 'h' }]) {
      const g = new Group([input]);
      assert.equal(g.serverNames.length, 1);
    }
    assert.deepEqual(new Group(['[::1]:5000']).serverNames, ['[::1]:5000']);
    assert.deepEqual(new Group(['cache.local']).serverNames, ['cache.local:11211']);
  });

  it('refuses an empty list, a duplicate and bad options with MC_ERR_BAD_CONFIG / MC_ERR_BAD_ARGUMENT', () => {
    assert.throws(() => new Group([]), rejectsWith('MC_ERR_BAD_CONFIG', /at least one server/));
    assert.throws(() => new Group(['a:1', 'a:1']), rejectsWith('MC_ERR_BAD_CONFIG', /listed twice/));
    assert.throws(() => new Group(['h:11211:0']), rejectsWith('MC_ERR_BAD_CONFIG', /weight/));
    assert.throws(() => new Group(['a:1'], { distribution: 'random' as never }), rejectsWith('MC_ERR_BAD_CONFIG', /unknown distribution/));
    assert.throws(() => new Group(['a:1'], { failover: 'retry' as never }), rejectsWith('MC_ERR_BAD_CONFIG', /unknown failover/));
    assert.throws(() => new Group(['a:1'], { connections: 0 }), rejectsWith('MC_ERR_BAD_ARGUMENT', /connections/));
    assert.throws(() => new Group(['a:1'], { timeout: 0 }), rejectsWith('MC_ERR_BAD_ARGUMENT', /timeout/));
    assert.throws(() => new Group(['a:1'], { maxValueSize: -1 }), rejectsWith('MC_ERR_BAD_ARGUMENT', /maxValueSize/));
  });
});

describe('stat names from the server', () => {
  it('keeps "__proto__", "constructor" and "hasOwnProperty" as plain stats in a prototype-free object', async () => {
    const text = (s: string): Uint8Array => new TextEncoder().encode(s);
    // Answers a Stat with three hostile names, then the empty frame that ends the list.
    const hostile = await startFakeServer((socket, chunk) => {
      for (const frame of requestFrames(chunk)) {
        if (frame.opcode !== 0x10) {
          socket.write(responseFrame({ opcode: frame.opcode, opaque: frame.opaque }));
          continue;
        }
        for (const [name, value] of [['__proto__', 'polluted'], ['constructor', 'c'], ['hasOwnProperty', 'h'], ['pid', '42']]) {
          socket.write(responseFrame({ opcode: 0x10, opaque: frame.opaque, key: text(name!), value: text(value!) }));
        }
        socket.write(responseFrame({ opcode: 0x10, opaque: frame.opaque }));
      }
    });
    const g = new Group([hostile.address], { protocol: 'binary' });
    try {
      const stats = (await g.stats()).get(hostile.address)!;
      assert.equal(Object.getPrototypeOf(stats), null);
      assert.deepEqual(Object.keys(stats).sort(), ['__proto__', 'constructor', 'hasOwnProperty', 'pid']);
      assert.equal(stats['__proto__'], 'polluted');
      assert.equal(stats['constructor'], 'c');
      assert.equal(stats['pid'], '42');
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    } finally {
      await g.close();
      await hostile.close();
    }
  });

  for (const protocol of PROTOCOLS) {
    it(`returns real stats the same way (${protocol})`, async () => {
      const real = (await groups[protocol].stats()).get(server.address)!;
      assert.equal(Object.getPrototypeOf(real), null);
      assert.match(real['pid']!, /^[0-9]+$/);
    });
  }
});
