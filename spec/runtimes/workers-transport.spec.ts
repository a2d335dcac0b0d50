// lib/net/workers-transport.ts, run here with spec/runtimes/cloudflare-sockets.ts
// standing in for Workers' module, against real memcached. workerd itself runs
// it in spec/runtimes.test.ts; this covers the paths a workload does not take.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { register } from 'node:module';
import { Group, MemcacheError } from '../../lib/index.js';
import { freePort, MemcachedServer } from '../support/memcached.js';

const standIn = new URL('./cloudflare-sockets.ts', import.meta.url).href;
register(
  'data:text/javascript,' +
    encodeURIComponent(
      `export function resolve(specifier, context, next) {
        return next(specifier === 'cloudflare:sockets' ? ${JSON.stringify(standIn)} : specifier, context);
      }`,
    ),
);
const { workersTransport, defaultTransport } = await import('../../lib/net/workers-transport.js');
const { calls } = (await import(standIn)) as typeof import('./cloudflare-sockets.js');

describe('Workers transport: the workload path', () => {
  let server: MemcachedServer;
  before(async () => {
    server = await MemcachedServer.start();
  });
  after(() => server.stop());

  it('is what #transport names under the workerd condition', () => {
    assert.equal(defaultTransport, workersTransport);
  });

  it('pipelines, keeps big values intact and asks for a plain socket to the host and port', async () => {
    const group = new Group([server.address], { transport: workersTransport });
    try {
      const big = new Uint8Array(300 * 1024).map((_, i) => (i * 7) & 0xff);
      const stored = await Promise.all([
        group.set('wt:big', big),
        ...Array.from({ length: 300 }, (_, i) => group.set(`wt:${i}`, `v${i}`)),
      ]);
      assert.ok(stored.every((ok) => ok));
      const items = await group.getMulti(Array.from({ length: 300 }, (_, i) => `wt:${i}`));
      assert.equal(items.size, 300);
      assert.equal(items.get('wt:299')?.text, 'v299');
      assert.deepEqual((await group.get('wt:big'))?.value, big);
      assert.deepEqual(calls.at(-1), {
        address: { hostname: '127.0.0.1', port: server.port },
        options: { secureTransport: 'off', allowHalfOpen: false },
      });
    } finally {
      await group.close();
    }
  });
});

describe('Workers transport: failures', () => {
  it('a server that is not listening: MC_ERR_CONNECT', async () => {
    const group = new Group([`127.0.0.1:${await freePort()}`], { transport: workersTransport });
    try {
      await assert.rejects(group.get('k'), { code: 'MC_ERR_CONNECT', message: /could not connect: .*ECONNREFUSED/ });
    } finally {
      await group.close();
    }
  });

  it('a server that dies: a write in flight rejects with MC_ERR_CONN_CLOSED, a read after one more try; a restarted one is used again', async () => {
    const server = await MemcachedServer.start();
    const group = new Group([server.address], { transport: workersTransport, retryDelay: 20, maxRetryDelay: 50 });
    try {
      await group.set('k', 'v');
      await server.pause();
      const write = group.set('k', 'v2');
      const read = group.get('k');
      await new Promise((r) => setTimeout(r, 50));
      server.signal('SIGKILL');
      await assert.rejects(write, { code: 'MC_ERR_CONN_CLOSED' });
      // The read was sent once more, on a fresh connection the dying server refused (or, on a loaded
      // machine, still accepted and then reset).
      await assert.rejects(read, (error: MemcacheError) => error.code === 'MC_ERR_CONNECT' || error.code === 'MC_ERR_CONN_CLOSED');
      await server.restart();
      const deadline = Date.now() + 3000;
      for (;;) {
        try {
          assert.equal(await group.get('k'), null);
          break;
        } catch (error) {
          if (!(error instanceof MemcacheError) || Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    } finally {
      await group.close();
      await server.stop();
    }
  });

  it('a server that closes an idle socket: the next operation reconnects, and no failure is reported', async () => {
    const server = await MemcachedServer.start();
    const group = new Group([server.address], { transport: workersTransport });
    const downs: string[] = [];
    group.addEventListener('server-down', (e) => downs.push(e.type));
    try {
      await group.set('k', 'v');
      const sockets = calls.length;
      // Stopped and started again: the idle socket reads end-of-stream.
      await server.restart();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await group.get('k'), null);
      assert.equal(calls.length, sockets + 1, 'one new socket');
      assert.deepEqual(downs, []);
    } finally {
      await group.close();
      await server.stop();
    }
  });
});

describe('Workers transport: TLS settings', () => {
  it('tls: true asks for secureTransport "on" (and a servername equal to the host is no different)', async () => {
    for (const tls of [true, { servername: '127.0.0.1' }] as const) {
      const group = new Group([`127.0.0.1:${await freePort()}`], { transport: workersTransport, tls });
      try {
        await assert.rejects(group.get('k'), { code: 'MC_ERR_CONNECT' });
        assert.equal(calls.at(-1)?.options?.secureTransport, 'on');
      } finally {
        await group.close();
      }
    }
  });

  it('refuses the settings Workers cannot honour, naming them, before any socket is asked for', async () => {
    const cases = [
      [{ ca: 'PEM' }, /cannot honour ca$/],
      [{ cert: 'PEM', key: 'PEM' }, /cannot honour cert, key$/],
      [{ servername: 'cache.example.net' }, /cannot honour servername$/],
      [{ rejectUnauthorized: false }, /cannot honour rejectUnauthorized: false$/],
    ] as const;
    for (const [tls, message] of cases) {
      const group = new Group(['127.0.0.1:11211'], { transport: workersTransport, tls });
      const before = calls.length;
      try {
        const error = await group.get('k').then(
          () => assert.fail('resolved'),
          (e: MemcacheError) => e,
        );
        assert.equal(error.code, 'MC_ERR_CONNECT');
        assert.ok(error.cause instanceof MemcacheError);
        assert.equal(error.cause.code, 'MC_ERR_BAD_CONFIG');
        assert.match(error.cause.message, message);
        assert.equal(calls.length, before);
      } finally {
        await group.close();
      }
    }
  });
});
