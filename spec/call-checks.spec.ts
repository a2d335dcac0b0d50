// Every public Group method checks its whole call the same way before any
// server is asked: bad options, bad values and bad keys reject (never throw)
// with their own code, send nothing, and are never disguised as an outage.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CacheAPI, Group, MemcacheError } from '../lib/index.js';
import type { GroupOptions } from '../lib/group.js';
import { freePort, MemcachedServer } from './support/memcached.js';
import { requestFrames, responseFrame, startFakeServer, type FakeServer } from './support/fake-server.js';
import { PROTOCOLS } from './support/protocols.js';

let fake: FakeServer;
let recorded: Group;

before(async () => {
  // Answers every request with an OK (empty, or a counter's 8 bytes; a Stat's end-of-list frame), and records the bytes it got.
  fake = await startFakeServer((socket, chunk) => {
    for (const frame of requestFrames(chunk)) {
      const counter = frame.opcode === 0x05 || frame.opcode === 0x06;
      socket.write(responseFrame({ opcode: frame.opcode, opaque: frame.opaque, ...(counter ? { value: new Uint8Array(8) } : {}) }));
    }
  });
  recorded = new Group([fake.address], { protocol: 'binary' });
});
after(async () => {
  await recorded.close();
  await fake.close();
});

/** Calls `call`, which must return (not throw) a promise rejecting with a MemcacheError of `code`. */
async function rejectsWith(call: () => Promise<unknown>, code: string, pattern?: RegExp): Promise<MemcacheError> {
  let promise: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    promise = call();
  }, 'a bad call throws synchronously instead of returning a rejected promise');
  assert.ok(promise instanceof Promise);
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => ((caught = error), true));
  assert.ok(caught instanceof MemcacheError, `expected a MemcacheError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

/** Runs `bad` against the recording fake and checks no frame reached it. */
async function sendsNothing(bad: (g: Group) => Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await recorded.noop();
  const before = requestFrames(fake.received.at(-1)!).length;
  await rejectsWith(() => bad(recorded), code, pattern);
  await recorded.noop();
  const frames = requestFrames(fake.received.at(-1)!);
  assert.equal(frames.length, before + 1, 'only the noop after the bad call was sent');
  assert.equal(frames.at(-1)!.opcode, 0x0a);
}

/** Every public method, called with `options` in its options position. */
const methods: [string, (g: Group, options: unknown) => Promise<unknown>][] = [
  ['get', (g, o) => g.get('k', o as never)],
  ['getMulti', (g, o) => g.getMulti(['k', 'l'], o as never)],
  ['gat', (g, o) => g.gat('k', 0, o as never)],
  ['set', (g, o) => g.set('k', 'v', o as never)],
  ['add', (g, o) => g.add('k', 'v', o as never)],
  ['replace', (g, o) => g.replace('k', 'v', o as never)],
  ['cas', (g, o) => g.cas('k', 'v', 1n, o as never)],
  ['append', (g, o) => g.append('k', 'v', o as never)],
  ['prepend', (g, o) => g.prepend('k', 'v', o as never)],
  ['delete', (g, o) => g.delete('k', o as never)],
  ['touch', (g, o) => g.touch('k', 0, o as never)],
  ['incr', (g, o) => g.incr('k', 1, o as never)],
  ['decr', (g, o) => g.decr('k', 1, o as never)],
  ['flush', (g, o) => g.flush(0, o as never)],
  ['version', (g, o) => g.version(o as never)],
  ['stats', (g, o) => g.stats(undefined, o as never)],
  ['noop', (g, o) => g.noop(o as never)],
];

describe('options: undefined or an object, checked alike by every method', () => {
  const bad: [string, unknown][] = [
    ['null', null],
    ['5', 5],
    ["'x'", 'x'],
    ['true', true],
    ['Symbol()', Symbol('options')],
  ];
  for (const [name, call] of methods) {
    it(`${name} refuses options null, 5, 'x', true and Symbol() with MC_ERR_BAD_ARGUMENT, sending nothing`, async () => {
      for (const [shown, options] of bad) {
        await sendsNothing((g) => call(g, options), 'MC_ERR_BAD_ARGUMENT', /options must be an object/).catch((error: Error) => {
          throw new Error(`${name} with options ${shown}: ${error.message}`, { cause: error });
        });
      }
    });

    it(`${name} refuses a signal that is not an AbortSignal, and one already fired with MC_ERR_ABORTED, sending nothing`, async () => {
      await sendsNothing((g) => call(g, { signal: 'stop' }), 'MC_ERR_BAD_ARGUMENT', /signal/);
      await sendsNothing((g) => call(g, { signal: AbortSignal.abort() }), 'MC_ERR_ABORTED');
    });

    it(`${name} takes undefined and an empty object`, async () => {
      await call(recorded, undefined);
      await call(recorded, {});
    });
  }

  it('a getMulti iterable whose iterator throws rejects instead of throwing', async () => {
    const broken: Iterable<string> = {
      [Symbol.iterator]() {
        throw new Error('no keys today');
      },
    };
    const failing: Iterable<string> = {
      *[Symbol.iterator]() {
        yield 'k';
        throw new Error('ran out');
      },
    };
    let promise: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      promise = recorded.getMulti(broken);
    });
    await assert.rejects(promise!, /no keys today/);
    assert.doesNotThrow(() => {
      promise = recorded.getMulti(failing);
    });
    await assert.rejects(promise!, /ran out/);
  });

  for (const protocol of PROTOCOLS) {
    it(`the signal works on flush, version, stats and noop: aborting mid-flight rejects with MC_ERR_ABORTED (${protocol})`, async () => {
      // Never answers, in any protocol: only the signal can settle the calls.
      const silent = await startFakeServer(() => {});
      const group = new Group([silent.address], { protocol, timeout: 5000 });
      try {
        const controller = new AbortController();
        const { signal } = controller;
        const calls = [group.flush(0, { signal }), group.version({ signal }), group.stats('items', { signal }), group.noop({ signal })];
        setTimeout(() => controller.abort(), 30);
        for (const call of calls) await assert.rejects(call, { code: 'MC_ERR_ABORTED' });
      } finally {
        // The server first: close() would wait out the 5 s timeout of the requests still on the wire.
        await silent.close();
        await group.close();
      }
    });
  }

  it('flush(delay) and stats(group) still take their first argument alone', async () => {
    await recorded.flush(5);
    await recorded.stats('items');
    await sendsNothing((g) => g.flush(-1), 'MC_ERR_BAD_ARGUMENT', /delay/);
    await sendsNothing((g) => g.stats(5 as never), 'MC_ERR_BAD_ARGUMENT', /stats group/);
  });
});

describe('CacheAPI methods take a trailing { signal }', () => {
  it('passes it to the group call: a fired signal rejects with MC_ERR_ABORTED, sending nothing', async () => {
    const api = new CacheAPI([`g = ${fake.address}`], { protocol: 'binary' });
    const signal = AbortSignal.abort();
    try {
      await api.fetch('memcached_g', 'warm');
      const before = requestFrames(fake.received.at(-1)!).length;
      const id = 'memcached_g';
      const calls: [string, () => Promise<unknown>][] = [
        ['store', () => api.store(id, 'k', 'v', 0, { signal })],
        ['fetch', () => api.fetch(id, 'k', { signal })],
        ['remove', () => api.remove(id, 'k', { signal })],
        ['add', () => api.add(id, 'k', 1, 0, { signal })],
        ['sub', () => api.sub(id, 'k', 1, 0, { signal })],
        ['counterFetch', () => api.counterFetch(id, 'k', { signal })],
      ];
      for (const [name, call] of calls) {
        await assert.rejects(call(), { code: 'MC_ERR_ABORTED' }, name);
      }
      assert.equal(requestFrames(fake.received.at(-1)!).length, before);
    } finally {
      await api.close();
    }
  });
});

describe('GroupOptions: transport and tls are checked at construction', () => {
  const refuses = (options: unknown, pattern: RegExp, secret?: string): void => {
    assert.throws(
      () => new Group(['127.0.0.1:1'], options as GroupOptions),
      (error: unknown) => {
        assert.ok(error instanceof MemcacheError, String(error));
        assert.equal(error.code, 'MC_ERR_BAD_CONFIG', error.message);
        assert.match(error.message, pattern);
        if (secret !== undefined) assert.ok(!error.message.includes(secret), `"${error.message}" shows the key`);
        return true;
      },
    );
  };

  it('refuses a transport that is not a function', () => {
    refuses({ transport: 'nope' }, /transport must be a function/);
    refuses({ transport: {} }, /transport must be a function/);
  });

  it('refuses tls fields of the wrong type, field by field, never showing their content', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nS3CRETKEYMATERIAL\n-----END PRIVATE KEY-----';
    refuses({ tls: 5 }, /tls must be true or an object/);
    refuses({ tls: { ca: 5 } }, /tls\.ca/);
    refuses({ tls: { ca: ['ok', 5] } }, /tls\.ca/);
    refuses({ tls: { cert: 5 } }, /tls\.cert/);
    refuses({ tls: { key: [pem] } }, /tls\.key/, 'S3CRET');
    refuses({ tls: { key: { pem } } }, /tls\.key/, 'S3CRET');
    refuses({ tls: { servername: 1 } }, /tls\.servername/);
    refuses({ tls: { rejectUnauthorized: 'no' } }, /tls\.rejectUnauthorized/);
    refuses({ tls: { passphrase: pem } }, /unknown tls option "passphrase"/, 'S3CRET');
  });

  it('accepts the documented tls settings', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const accepted: NonNullable<GroupOptions['tls']>[] = [
      true,
      {},
      { ca: 'pem' },
      { ca: bytes },
      { ca: ['pem', bytes] },
      { cert: 'pem', key: bytes, servername: 'cache.local', rejectUnauthorized: true },
      { ca: undefined, rejectUnauthorized: false },
    ];
    for (const tls of accepted) {
      await new Group(['127.0.0.1:1'], { tls }).close();
    }
  });
});

// The bad calls of a program bug: each must get its own code, whatever the state of the server.
const badCalls: [string, (g: Group) => Promise<unknown>, string][] = [
  ["set('k', {})", (g) => g.set('k', {} as never), 'MC_ERR_BAD_VALUE'],
  ["set('k', 5)", (g) => g.set('k', 5 as never), 'MC_ERR_BAD_VALUE'],
  ["append('k', null)", (g) => g.append('k', null as never), 'MC_ERR_BAD_VALUE'],
  ["prepend('k', undefined)", (g) => g.prepend('k', undefined as never), 'MC_ERR_BAD_VALUE'],
  ['set of 2 MiB of bytes', (g) => g.set('k', new Uint8Array(2 * 1024 * 1024)), 'MC_ERR_VALUE_TOO_LARGE'],
  ['set of a 2 MiB string', (g) => g.set('k', 'x'.repeat(2 * 1024 * 1024)), 'MC_ERR_VALUE_TOO_LARGE'],
  ['add of 400 Ki "é" (800 KiB of UTF-8) over 512 KiB', (g) => g.add('k', 'é'.repeat(400 * 1024)), 'MC_ERR_VALUE_TOO_LARGE'],
  ["get('bad key')", (g) => g.get('bad key'), 'MC_ERR_BAD_KEY'],
  ["set('', 'v')", (g) => g.set('', 'v'), 'MC_ERR_BAD_KEY'],
  ["touch(42, 0)", (g) => g.touch(42 as never, 0), 'MC_ERR_BAD_KEY'],
  ["incr('k', -1)", (g) => g.incr('k', -1), 'MC_ERR_BAD_ARGUMENT'],
  ["set('k', 'v', 5)", (g) => g.set('k', 'v', 5 as never), 'MC_ERR_BAD_ARGUMENT'],
  ["getMulti(['ok', 'bad key'])", (g) => g.getMulti(['ok', 'bad key']), 'MC_ERR_BAD_KEY'],
];

for (const protocol of PROTOCOLS) {
  describe(`a bad call is a bad call, not an outage (${protocol})`, () => {
    it('against a server that is down: BAD_VALUE, VALUE_TOO_LARGE, BAD_KEY, BAD_ARGUMENT, not SERVER_DOWN', async () => {
      const group = new Group([`127.0.0.1:${await freePort()}`], { protocol, maxValueSize: 512 * 1024, retryDelay: 60_000, maxRetryDelay: 60_000 });
      try {
        // The first failure marks the server down; from then on good calls fail fast.
        await assert.rejects(group.get('k'), { code: 'MC_ERR_CONNECT' });
        await assert.rejects(group.get('k'), { code: 'MC_ERR_SERVER_DOWN' });
        for (const [name, call, code] of badCalls) {
          await rejectsWith(() => call(group), code).catch((error: Error) => {
            throw new Error(`${name}: ${error.message}`, { cause: error });
          });
        }
      } finally {
        await group.close();
      }
    });

    it('against a full queue: the same codes, not QUEUE_FULL', async () => {
      const server = await MemcachedServer.start();
      const group = new Group([server.address], { protocol, maxQueueSize: 1, maxValueSize: 512 * 1024, timeout: 5000 });
      try {
        await group.noop();
        await server.pause();
        const waiting = group.get('k');
        await assert.rejects(group.get('k'), { code: 'MC_ERR_QUEUE_FULL' });
        for (const [name, call, code] of badCalls) {
          await rejectsWith(() => call(group), code).catch((error: Error) => {
            throw new Error(`${name}: ${error.message}`, { cause: error });
          });
        }
        server.signal('SIGCONT');
        assert.equal(await waiting, null);
      } finally {
        server.signal('SIGCONT');
        await group.close();
        await server.stop();
      }
    });

    it('a string whose UTF-8 form fits is stored even when 3 bytes per character would not fit', async () => {
      const server = await MemcachedServer.start();
      const group = new Group([server.address], { protocol, maxValueSize: 600 * 1024 });
      try {
        // 300 Ki characters: up to 900 KiB as UTF-8, 400 KiB in fact.
        const value = 'é'.repeat(100 * 1024) + 'x'.repeat(200 * 1024);
        assert.equal(await group.set('fits', value), true);
        assert.equal((await group.get('fits'))?.text, value);
        await assert.rejects(group.set('fits', value + 'é'.repeat(110 * 1024)), { code: 'MC_ERR_VALUE_TOO_LARGE', message: /614400-byte/ });
      } finally {
        await group.close();
        await server.stop();
      }
    });
  });
}
