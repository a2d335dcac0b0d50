// Authentication and TLS against real memcached, over each protocol: binary
// authenticates with SASL PLAIN (-S with a sasldb), meta with memcached's text
// authentication (-Y with an authfile); TLS (-Z with certificates made by
// openssl here) is the same for both.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { inspect } from 'node:util';
import { CacheAPI, Group, MemcacheError, parseGroupSpec } from '../lib/index.js';
import type { Protocol } from '../lib/group-options.js';
import { certificates } from './support/certificates.js';
import { MemcachedServer, type MemcachedOptions } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';

const USER = 'cacheuser';
const PASSWORD = 'pa55-Secret!word';

/**
 * How a server makes each protocol authenticate, the client's `sasl` option
 * being the same for both: SASL PLAIN is binary only (memcached -S refuses
 * text), and meta clients use the text protocol's authentication (-Y).
 */
const AUTH: Record<Protocol, { name: string; server: MemcachedOptions }> = {
  binary: { name: 'SASL PLAIN, memcached -S', server: { sasl: { username: USER, password: PASSWORD } } },
  meta: { name: 'text authentication, memcached -Y', server: { authFile: { username: USER, password: PASSWORD } } },
  text: { name: 'text authentication, memcached -Y', server: { authFile: { username: USER, password: PASSWORD } } },
};

/** Everything an error could leak through: message, stack, causes, util.inspect. */
function everythingSaid(error: unknown): string {
  let text = inspect(error, { depth: 10 });
  for (let e = error as Error | undefined; e !== undefined; e = e.cause as Error | undefined) text += `${e.message}\n${e.stack}`;
  return text;
}

for (const protocol of PROTOCOLS) {
  describe(`authentication (${protocol}: ${AUTH[protocol].name})`, () => {
    let server: MemcachedServer;
    before(async () => {
      server = await MemcachedServer.start(AUTH[protocol].server);
    });
    after(() => server.stop());

    it('authenticates every connection before anything else; requests made meanwhile wait and go out', async () => {
      const group = new Group([server.address], { protocol, sasl: { username: USER, password: PASSWORD }, connections: 2 });
      try {
        const stored = await Promise.all(Array.from({ length: 200 }, (_, i) => group.set(`sasl:${i}`, `v${i}`)));
        assert.ok(stored.every((ok) => ok));
        const items = await group.getMulti(Array.from({ length: 200 }, (_, i) => `sasl:${i}`));
        assert.equal(items.size, 200);
        assert.equal(items.get('sasl:199')?.text, 'v199');
      } finally {
        await group.close();
      }
    });

    it('without credentials the server refuses with MC_ERR_AUTH', async () => {
      const group = new Group([server.address], { protocol });
      try {
        await assert.rejects(group.get('k'), { code: 'MC_ERR_AUTH' });
      } finally {
        await group.close();
      }
    });

    it('a wrong password rejects pending and new operations with MC_ERR_AUTH, never says the password, and is not retried in a tight loop', async () => {
      const wrong = 'not-the-Secret-42';
      const group = new Group([server.address], { protocol, sasl: { username: USER, password: wrong } });
      const said: string[] = [];
      for (const type of ['server-down', 'server-up', 'server-ejected', 'server-restored'] as const) {
        group.addEventListener(type, (e) => said.push(everythingSaid(e.error) + inspect(e)));
      }
      const admin = new Group([server.address], { protocol, sasl: { username: USER, password: PASSWORD } });
      try {
        const connectionsBefore = Number((await admin.stats()).get(server.address)!['total_connections']);
        const pending = await Promise.allSettled([group.get('a'), group.set('b', 'v'), group.incr('c', 1)]);
        for (const result of pending) {
          assert.equal(result.status, 'rejected');
          const error = (result as PromiseRejectedResult).reason as MemcacheError;
          assert.equal(error.code, 'MC_ERR_AUTH');
          assert.equal(error.status, 0x20);
          // Each protocol names its own mechanism; both name the user, never the password.
          assert.match(error.message, protocol === 'binary' ? /SASL PLAIN authentication failed for user "cacheuser"/ : /text authentication as user "cacheuser" failed/);
          said.push(everythingSaid(error));
        }
        const later = await group.get('d').catch((e: MemcacheError) => e);
        assert.ok(later instanceof MemcacheError);
        assert.equal(later.code, 'MC_ERR_AUTH');
        said.push(everythingSaid(later));
        await new Promise((r) => setTimeout(r, 1500));
        const connectionsAfter = Number((await admin.stats()).get(server.address)!['total_connections']);
        // Backoff: 1 + a few probes in 1.5 s (100, 200, 400, 800 ms...), not hundreds.
        const attempts = connectionsAfter - connectionsBefore - 1;
        // 3 to 5 expected; at least 1 (it retries at all, even when timers run late on a loaded machine), at most 10
        // (a tight loop makes hundreds; a fixed 50-100 ms delay without doubling makes 15 or more).
        assert.ok(attempts >= 1 && attempts <= 10, `${attempts} connection attempts in 1.5 s`);
        for (const text of said) {
          assert.ok(!text.includes(wrong), 'the wrong password leaked');
          assert.ok(!text.includes(PASSWORD), 'the password leaked');
        }
        assert.ok(said.length >= 5);
      } finally {
        await group.close();
        await admin.close();
      }
    });

    it('re-authenticates after the server restarts', async () => {
      const own = await MemcachedServer.start(AUTH[protocol].server);
      const group = new Group([own.address], { protocol, sasl: { username: USER, password: PASSWORD } });
      try {
        await group.set('before', '1');
        const up = once(group, 'server-up', { signal: AbortSignal.timeout(8000) });
        await own.stop('SIGKILL');
        await assert.rejects(group.get('before'));
        await own.restart();
        await up;
        assert.equal(await group.set('after', '2'), true);
        assert.equal((await group.get('after'))?.text, '2');
      } finally {
        await group.close();
        await own.stop();
      }
    });

    it('refuses bad credentials in the options without echoing them', () => {
      for (const sasl of [{ username: '', password: 'x' }, { username: 'u' }, { username: 'u', password: 'p\0w' }, 'user:pass']) {
        assert.throws(() => new Group([server.address], { protocol, sasl: sasl as never }), (error: MemcacheError) => {
          assert.equal(error.code, 'MC_ERR_BAD_CONFIG');
          assert.ok(!error.message.includes('pass') || error.message.includes('password'));
          assert.ok(!error.message.includes('p\0w'));
          return true;
        });
      }
    });

    it(protocol === 'binary'
      ? 'takes white space and control characters in credentials (SASL PLAIN carries them) at construction'
      : 'refuses white space or a control character in credentials at construction (text authentication cannot carry them), without the password', () => {
      for (const sasl of [{ username: 'a\nb', password: 'secret-1' }, { username: 'ab', password: 'se cret-2' }, { username: 'ab', password: 'secret\t3' }]) {
        const make = (): Group => new Group([server.address], { protocol, sasl });
        if (protocol === 'binary') {
          void make().close();
          continue;
        }
        assert.throws(make, (error: MemcacheError) => {
          assert.equal(error.code, 'MC_ERR_BAD_CONFIG');
          assert.match(error.message, /white space or a control character/);
          assert.ok(!error.message.includes(sasl.password), error.message);
          return true;
        });
      }
    });
  });
}

describe('TLS', () => {
  let server: MemcachedServer;
  before(async () => {
    const certs = certificates();
    server = await MemcachedServer.start({ tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile } });
  });
  after(() => server.stop());

  // One TLS server for both protocols: memcached answers both on one port.
  for (const protocol of PROTOCOLS) {
    describe(protocol, () => {
      it('works with the CA that signed the server certificate, by address and by name', async () => {
        const { ca } = certificates();
        for (const address of [server.address, `localhost:${server.port}`]) {
          const group = new Group([address], { protocol, tls: { ca } });
          try {
            await group.set('tls:k', 'secret value');
            assert.equal((await group.get('tls:k'))?.text, 'secret value');
            assert.equal((await group.getMulti(['tls:k'])).size, 1);
          } finally {
            await group.close();
          }
        }
      });

      it('an unknown CA is MC_ERR_TLS, never a plaintext fallback', async () => {
        for (const tls of [true, { ca: certificates().otherCa }] as const) {
          const group = new Group([server.address], { protocol, tls });
          try {
            await assert.rejects(group.get('k'), (error: MemcacheError) => {
              assert.equal(error.code, 'MC_ERR_TLS');
              assert.match(error.message, /TLS handshake failed/);
              assert.match(error.message, new RegExp(server.address));
              return true;
            });
            await assert.rejects(group.get('k'), { code: 'MC_ERR_TLS' });
          } finally {
            await group.close();
          }
        }
      });

      it('a certificate for another name is MC_ERR_TLS', async () => {
        const group = new Group([server.address], { protocol, tls: { ca: certificates().ca, servername: 'cache.example.org' } });
        try {
          await assert.rejects(group.get('k'), (error: MemcacheError) => {
            assert.equal(error.code, 'MC_ERR_TLS');
            assert.match(error.message, /cache\.example\.org/);
            return true;
          });
        } finally {
          await group.close();
        }
      });

      it('rejectUnauthorized: false accepts any certificate (for tests only)', async () => {
        const group = new Group([server.address], { protocol, tls: { rejectUnauthorized: false } });
        try {
          assert.equal(await group.set('k', 'v'), true);
        } finally {
          await group.close();
        }
      });

      it('a TLS client to a plaintext server fails with MC_ERR_TLS; a plaintext client to a TLS server fails', async () => {
        const plain = await MemcachedServer.start();
        const group = new Group([plain.address], { protocol, tls: { ca: certificates().ca } });
        const noTls = new Group([server.address], { protocol, timeout: 500 });
        try {
          await assert.rejects(group.get('k'), { code: 'MC_ERR_TLS' });
          await assert.rejects(noTls.get('k'), (error: MemcacheError) =>
            ['MC_ERR_CONN_CLOSED', 'MC_ERR_PROTOCOL', 'MC_ERR_TIMEOUT'].includes(error.code),
          );
        } finally {
          await group.close();
          await noTls.close();
          await plain.stop();
        }
      });
    });
  }
});

for (const protocol of PROTOCOLS) {
  describe(`TLS and authentication together (${protocol})`, () => {
    it('authenticates over an encrypted connection, and refuses a wrong password there too', async () => {
      const certs = certificates();
      const server = await MemcachedServer.start({
        tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile },
        ...AUTH[protocol].server,
      });
      const group = new Group([server.address], { protocol, tls: { ca: certs.ca }, sasl: { username: USER, password: PASSWORD } });
      const wrong = new Group([server.address], { protocol, tls: { ca: certs.ca }, sasl: { username: USER, password: 'nope-nope' } });
      try {
        assert.equal(await group.set('both', 'yes'), true);
        assert.equal((await group.get('both'))?.text, 'yes');
        const error = await wrong.get('both').catch((e: MemcacheError) => e);
        assert.ok(error instanceof MemcacheError);
        assert.equal(error.code, 'MC_ERR_AUTH');
        assert.ok(!everythingSaid(error).includes('nope-nope'));
      } finally {
        await group.close();
        await wrong.close();
        await server.stop();
      }
    });
  });
}

describe('per group, in CacheAPI specs and cachedb URLs', () => {
  it('memcacheds: means TLS; user:password@ means SASL; the storage id stays memcached:<group>', () => {
    const spec = parseGroupSpec('memcacheds:public://app:s%2Fcret@cache.example.net:11211/');
    assert.equal(spec.storageId, 'memcached:public');
    assert.equal(spec.tls, true);
    assert.equal(spec.username, 'app');
    assert.equal(spec.password, 's/cret');
    assert.equal(parseGroupSpec('memcached:private://127.1.1.1/').tls, false);
    assert.equal(parseGroupSpec('private = 127.1.1.1').tls, false);
  });

  for (const protocol of PROTOCOLS) {
    it(`one private plain group beside a public authenticated, encrypted one (${protocol})`, async () => {
      const certs = certificates();
      const plain = await MemcachedServer.start();
      const secured = await MemcachedServer.start({
        tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile },
        ...AUTH[protocol].server,
      });
      const password = encodeURIComponent(PASSWORD);
      const cache = new CacheAPI(
        [`private = ${plain.address}`, `memcacheds:public://${USER}:${password}@${secured.address}/`],
        { protocol, tls: { ca: certs.ca } },
      );
      const wrong = new CacheAPI([`memcacheds:public://${USER}:wrong-pass-123@${secured.address}/`], { protocol, tls: { ca: certs.ca } });
      try {
        await cache.store('memcached_private', 'where', 'inside');
        await cache.store('memcached:public', 'where', 'outside');
        assert.equal(await cache.fetch('memcached_private', 'where'), 'inside');
        assert.equal(await cache.fetch('memcached:public', 'where'), 'outside');
        assert.equal(await cache.add('memcached:public', 'n', 5), 5);
        const error = await wrong.fetch('memcached:public', 'where').catch((e: MemcacheError) => e);
        assert.ok(error instanceof MemcacheError);
        assert.equal(error.code, 'MC_ERR_AUTH');
        assert.ok(!everythingSaid(error).includes('wrong-pass-123'));
      } finally {
        await cache.close();
        await wrong.close();
        await plain.stop();
        await secured.stop();
      }
    });
  }
});
