// Choosing the wire protocol: meta by default, binary on request, the same
// items either way, and the wrong protocol named at once instead of a timeout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CacheAPI, Group, MemcacheError } from '../lib/index.js';
import { startFakeServer } from './support/fake-server.js';
import { MemcachedServer, freePort } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';
import { throwsCode } from './support/throws.js';

/** Runs `call` and gives its error with how long it took to come. */
async function failure(call: () => Promise<unknown>): Promise<{ error: MemcacheError; ms: number }> {
  const start = Date.now();
  try {
    await call();
  } catch (error) {
    return { error: error as MemcacheError, ms: Date.now() - start };
  }
  throw new Error('expected a rejection');
}

describe('the protocol option', () => {
  it('takes meta, binary or text, and refuses anything else at construction with MC_ERR_BAD_CONFIG', () => {
    for (const protocol of ['ascii', 'META', 'TEXT', '', 5, null]) {
      const error = throwsCode(() => new Group(['127.0.0.1:11211'], { protocol: protocol as never }), 'MC_ERR_BAD_CONFIG');
      assert.match(error.message, /use 'meta', 'binary' or 'text'/);
    }
  });
});

describe('meta and binary share one server and its items', () => {
  let server: MemcachedServer;
  let meta: Group;
  let binary: Group;
  before(async () => {
    server = await MemcachedServer.start();
    meta = new Group([server.address]);
    binary = new Group([server.address], { protocol: 'binary' });
  });
  after(async () => {
    await Promise.all([meta.close(), binary.close()]);
    await server.stop();
  });

  it('an item stored over one protocol reads the same over the other: value, flags and CAS', async () => {
    await meta.set('shared:a', 'from meta', { flags: 0xabcdef01 });
    await binary.set('shared:b', new Uint8Array([0, 255, 13, 10]), { flags: 7 });
    const [a1, a2] = [await meta.get('shared:a'), await binary.get('shared:a')];
    assert.equal(a2?.text, 'from meta');
    assert.equal(a2?.flags, 0xabcdef01);
    assert.equal(a2?.cas, a1?.cas);
    const b = await meta.get('shared:b');
    assert.deepEqual([...b!.value], [0, 255, 13, 10]);
    assert.equal(b!.flags, 7);
    // A CAS token read over meta conditions a store over binary, and the reverse.
    assert.equal(await binary.cas('shared:a', 'via binary', a1!.cas), true);
    assert.equal(await meta.cas('shared:a', 'stale', a1!.cas), false);
    assert.equal(await meta.incr('shared:n', 1, { initial: 41 }), 41n);
    assert.equal(await binary.incr('shared:n', 1), 42n);
  });
});

describe('the wrong protocol is named at once', () => {
  it('a binary group against memcached -B ascii (text only) says the server speaks the text protocol, within a round trip', async () => {
    const ascii = await MemcachedServer.start({ args: ['-B', 'ascii'] });
    // With and without credentials: the SASL frame holds no newline, the handshake's Noop does.
    const plain = new Group([ascii.address], { protocol: 'binary', timeout: 5000 });
    const sasl = new Group([ascii.address], { protocol: 'binary', timeout: 5000, sasl: { username: 'u', password: 'p' } });
    try {
      for (const group of [plain, sasl]) {
        const { error, ms } = await failure(() => group.get('some-key'));
        assert.equal(error.code, 'MC_ERR_PROTOCOL', error.message);
        assert.match(error.message, /speaks the text protocol/);
        assert.match(error.message, /protocol: 'meta'/);
        assert.ok(ms < 1000, `named after ${ms} ms, not after the 5000 ms timeout`);
      }
    } finally {
      await Promise.all([plain.close(), sasl.close()]);
      await ascii.stop();
    }
  });

  it('a meta group against a server without meta (answers ERROR, as memcached before 1.6 does) says so and what to choose', async () => {
    // memcached 1.4/1.5 and twemproxy answer a command they do not know with ERROR.
    const old = await startFakeServer((socket, chunk) => {
      const lines = chunk.toString('latin1').split('\r\n').length - 1;
      socket.write('ERROR\r\n'.repeat(lines));
    });
    const group = new Group([old.address], { timeout: 5000 });
    try {
      const { error, ms } = await failure(() => group.get('k'));
      assert.equal(error.code, 'MC_ERR_PROTOCOL');
      assert.match(error.message, /does not speak memcached's meta protocol/);
      assert.match(error.message, /protocol: 'binary'/);
      assert.ok(ms < 1000, `named after ${ms} ms, not after the 5000 ms timeout`);
    } finally {
      await group.close();
      await old.close();
    }
  });

  it('a meta group against memcached -S (binary SASL only) says to use protocol: binary', async () => {
    const server = await MemcachedServer.start({ sasl: { username: 'app', password: 'secret-pw' } });
    // -S closes the connection once 24 bytes that are not a binary frame have come.
    const group = new Group([server.address], { timeout: 3000, sasl: { username: 'app', password: 'secret-pw' } });
    try {
      const { error } = await failure(() => group.get('a-key-long-enough-to-pass-24-bytes'));
      assert.equal(error.code, 'MC_ERR_PROTOCOL', error.message);
      assert.match(error.message, /-S/);
      assert.match(error.message, /protocol: 'binary'/);
      assert.ok(!error.message.includes('secret-pw'));
    } finally {
      await group.close();
      await server.stop();
    }
  });
});

describe('a meta group without credentials against memcached -S', () => {
  let server: MemcachedServer;
  before(async () => {
    server = await MemcachedServer.start({ sasl: { username: 'app', password: 'secret-pw' } });
  });
  after(() => server.stop());

  // Without an authentication left unanswered it could be any server closing connections: the
  // code says what happened (the connection was lost, or nothing came back in time), the message what it likely means.
  it('a request of 24 bytes or more: MC_ERR_CONN_CLOSED at once, whose message names protocol: binary', async () => {
    const group = new Group([server.address], { timeout: 3000 });
    try {
      const { error } = await failure(() => group.get('a-key-long-enough-to-pass-24-bytes'));
      assert.equal(error.code, 'MC_ERR_CONN_CLOSED', error.message);
      assert.match(error.message, /without answering anything.*-S.*protocol: 'binary'/);
    } finally {
      await group.close();
    }
  });

  it('a shorter one (memcached waits for a whole binary header): MC_ERR_TIMEOUT, whose message names protocol: binary', async () => {
    const group = new Group([server.address], { timeout: 300 });
    try {
      const { error } = await failure(() => group.get('k'));
      assert.equal(error.code, 'MC_ERR_TIMEOUT', error.message);
      assert.match(error.message, /nothing at all came back on it.*-S.*protocol: 'binary'/);
    } finally {
      await group.close();
    }
  });
});

describe('meta with authentication (memcached -Y)', () => {
  let server: MemcachedServer;
  before(async () => {
    server = await MemcachedServer.start({ authFile: { username: 'app', password: 'right-pw' } });
  });
  after(() => server.stop());

  it('authenticates every connection with the sasl credentials, and a wrong password is MC_ERR_AUTH without the password', async () => {
    const good = new Group([server.address], { sasl: { username: 'app', password: 'right-pw' } });
    const bad = new Group([server.address], { sasl: { username: 'app', password: 'wrong-pw' } });
    const none = new Group([server.address]);
    try {
      assert.equal(await good.set('auth:k', 'v'), true);
      assert.equal((await good.get('auth:k'))?.text, 'v');
      const { error } = await failure(() => bad.get('auth:k'));
      assert.equal(error.code, 'MC_ERR_AUTH');
      assert.match(error.message, /"app"/);
      assert.ok(!error.message.includes('wrong-pw') && !error.message.includes('right-pw'));
      const { error: refused } = await failure(() => none.get('auth:k'));
      assert.equal(refused.code, 'MC_ERR_AUTH');
    } finally {
      await Promise.all([good.close(), bad.close(), none.close()]);
    }
  });
});

describe('CacheAPI: the protocol per group, in its URL', () => {
  it('reads ?protocol=binary, and refuses an unknown one naming the group', async () => {
    const ascii = await MemcachedServer.start({ args: ['-B', 'ascii'] });
    const normal = await MemcachedServer.start();
    const cache = new CacheAPI([`memcached:meta://${ascii.address}/`, `memcached:bin://${normal.address}/?protocol=binary`]);
    try {
      // -B ascii refuses binary: the meta group works there.
      await cache.store('memcached:meta', 'k', 'over meta');
      assert.equal(await cache.fetch('memcached:meta', 'k'), 'over meta');
      await cache.store('memcached:bin', 'k', 'over binary');
      assert.equal(await cache.fetch('memcached:bin', 'k'), 'over binary');
      const error = throwsCode(() => new CacheAPI([`memcached:g://${normal.address}/?protocol=gopher`]), 'MC_ERR_BAD_CONFIG');
      assert.match(error.message, /memcached:g/);
      assert.match(error.message, /use 'meta', 'binary' or 'text'/);
    } finally {
      await cache.close();
      await Promise.all([ascii.stop(), normal.stop()]);
    }
  });
});

describe('expirations past 2^31 - 1', () => {
  it('are refused over meta with MC_ERR_BAD_ARGUMENT (the server would expire the item at once), kept over binary', async () => {
    const server = await MemcachedServer.start();
    const meta = new Group([server.address]);
    const binary = new Group([server.address], { protocol: 'binary' });
    try {
      assert.equal(await meta.set('ttl:max', 'v', { expires: 2 ** 31 - 1 }), true);
      assert.equal((await meta.get('ttl:max'))?.text, 'v');
      for (const expires of [2 ** 31, 0xffffffff]) {
        const { error } = await failure(() => meta.set('ttl:far', 'v', { expires }));
        assert.equal(error.code, 'MC_ERR_BAD_ARGUMENT');
        assert.match(error.message, /protocol 'binary'/);
        assert.equal(await binary.set('ttl:far', 'v', { expires }), true);
        assert.equal((await binary.get('ttl:far'))?.text, 'v');
      }
      // The connection is untouched by the refusal.
      assert.equal((await meta.get('ttl:max'))?.text, 'v');
    } finally {
      await Promise.all([meta.close(), binary.close()]);
      await server.stop();
    }
  });

  it('a counter created with expires 0xFFFFFFFF is refused on every protocol, even with its server down', async () => {
    const server = await MemcachedServer.start();
    // 127.0.0.1 on a closed port: the second group has no server to take the call.
    const closed = `127.0.0.1:${await freePort()}`;
    const groups = PROTOCOLS.flatMap((protocol) => [new Group([server.address], { protocol }), new Group([closed], { protocol })]);
    try {
      for (const group of groups) {
        const { error } = await failure(() => group.incr('ttl:counter', 1, { initial: 5, expires: 0xffffffff }));
        assert.equal(error.code, 'MC_ERR_BAD_ARGUMENT', error.message);
        assert.match(error.message, /0xFFFFFFFF/);
      }
      assert.equal(await groups[0]!.get('ttl:counter'), null, 'nothing created');
    } finally {
      await Promise.all(groups.map((group) => group.close()));
      await server.stop();
    }
  });
});

describe('flush_all refused by the server (memcached -F)', () => {
  it('rejects with MC_ERR_AUTH (status 0x20) on every protocol, and the connection carries on', async () => {
    const server = await MemcachedServer.start({ args: ['-F'] });
    try {
      for (const protocol of PROTOCOLS) {
        const group = new Group([server.address], { protocol });
        try {
          assert.equal(await group.set('flush:kept', protocol), true);
          const { error } = await failure(() => group.flush());
          assert.equal(error.code, 'MC_ERR_AUTH', `${protocol}: ${error.message}`);
          assert.equal(error.status, 0x20);
          assert.equal((await group.get('flush:kept'))?.text, protocol, `${protocol}: nothing was flushed`);
        } finally {
          await group.close();
        }
      }
    } finally {
      await server.stop();
    }
  });
});
