// A healthy server is never reported down for what it did not do: a socket
// closed right after a reply (idle timeouts, proxies, load balancers), an
// event loop blocked by the caller. And a server that does fail is counted
// as libmemcached counts it: every failed operation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Group, MemcacheError, type TransportFactory } from '../lib/index.js';
import { nodeTransport } from '../lib/net/node-transport.js';
import { requestFrames, responseFrame, startFakeServer } from './support/fake-server.js';
import { freePort, MemcachedServer } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';

const GET = 0x00;
const KEY_NOT_FOUND = 0x0001;
const NOOP = 0x0a;

function serverEvents(group: Group): string[] {
  const seen: string[] = [];
  for (const type of ['server-down', 'server-up', 'server-ejected', 'server-restored'] as const) {
    group.addEventListener(type, (event) => seen.push(`${type} ${event.server}`));
  }
  return seen;
}

/** Blocks the event loop, as a caller's synchronous work does. */
function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

const afterFlush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('a server that closes the socket right after a reply', () => {
  it('loses no operation issued after the reply: 200 gets in a row all succeed, and no server-down', async () => {
    // Answers the first request on each connection (after the binary handshake's Noop), then closes it,
    // as an idle timeout or a proxy may.
    const fake = await startFakeServer((socket, chunk) => {
      for (const frame of requestFrames(chunk)) {
        const reply = responseFrame({ opcode: frame.opcode, opaque: frame.opaque, status: frame.opcode === NOOP ? 0 : KEY_NOT_FOUND });
        if (frame.opcode === NOOP) socket.write(reply);
        else return void socket.end(reply);
      }
    });
    const group = new Group([fake.address], { protocol: 'binary', timeout: 2000 });
    const events = serverEvents(group);
    const failures: string[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        try {
          assert.equal(await group.get(`k${i}`), null);
        } catch (error) {
          failures.push((error as MemcacheError).code);
        }
      }
      assert.deepEqual(failures, [], `${failures.length} of 200 gets failed`);
      assert.deepEqual(events, []);
      assert.ok(fake.connections >= 100, `the gets went over ${fake.connections} connections`);
    } finally {
      await group.close();
      await fake.close();
    }
  });

  for (const protocol of PROTOCOLS) {
    it(`fails a write that was sent and never answered with MC_ERR_CONN_CLOSED, without sending it again (${protocol})`, async () => {
      // Closes every connection as soon as anything arrives, answering nothing: no wire format is scripted, so it runs for both.
      const fake = await startFakeServer((socket) => socket.destroy());
      const group = new Group([fake.address], { protocol, timeout: 2000 });
      try {
        await assert.rejects(group.set('k', 'v'), (error: MemcacheError) => error.code === 'MC_ERR_CONN_CLOSED');
        assert.equal(fake.connections, 1, 'its outcome is unknown: it is not repeated');
      } finally {
        await group.close();
        await fake.close();
      }
    });
  }

  it('sends a read that was sent and never answered once more, then fails it with MC_ERR_CONN_CLOSED', async () => {
    // Answers the handshake's Noop, and closes the connection on anything else.
    const fake = await startFakeServer((socket, chunk) => {
      for (const frame of requestFrames(chunk)) {
        if (frame.opcode !== NOOP) return void socket.destroy();
        socket.write(responseFrame({ opcode: NOOP, opaque: frame.opaque }));
      }
    });
    const group = new Group([fake.address], { protocol: 'binary', timeout: 2000 });
    try {
      await assert.rejects(group.get('k'), (error: MemcacheError) => error.code === 'MC_ERR_CONN_CLOSED');
      assert.equal(fake.connections, 2);
      const gets = fake.received.map((bytes) => requestFrames(bytes).filter((f) => f.opcode === GET).map((f) => f.key));
      assert.deepEqual(gets, [['k'], ['k']]);
    } finally {
      await group.close();
      await fake.close();
    }
  });

  for (const protocol of PROTOCOLS) {
    it(`sends an operation issued before the close on a fresh connection, against real memcached with idle_timeout (${protocol})`, async () => {
      const server = await MemcachedServer.start({ args: ['-o', 'idle_timeout=1'] });
      const group = new Group([server.address], { protocol });
      const events = serverEvents(group);
      try {
        await group.set('k', 'v');
        // memcached closes connections idle for over a second (checked every second or so).
        await new Promise((resolve) => setTimeout(resolve, 2500));
        assert.equal((await group.get('k'))?.text, 'v');
        assert.deepEqual(events, []);
      } finally {
        await group.close();
        await server.stop();
      }
    });
  }

  for (const protocol of PROTOCOLS) {
    it(`sends a read written just before memcached died once more; the write fails with MC_ERR_CONN_CLOSED (${protocol})`, async () => {
      const server = await MemcachedServer.start();
      let connections = 0;
      const counted: TransportFactory = (options, events) => (connections++, nodeTransport(options, events));
      // No probe within the test: every connection is one the operations asked for.
      const group = new Group([server.address], { protocol, transport: counted, retryDelay: 60_000, maxRetryDelay: 60_000 });
      try {
        await group.set('k', 'v');
        await server.pause();
        const write = group.set('k', 'v2');
        const read = group.get('k').then(() => null, (e: MemcacheError) => e);
        await new Promise((resolve) => setTimeout(resolve, 50));
        // Killed while stopped, so it answers neither (stop() would let it run first).
        server.signal('SIGKILL');
        await assert.rejects(write, { code: 'MC_ERR_CONN_CLOSED' });
        const error = await read;
        // The read went out once more, on one fresh connection: refused by the dead server, or (on a loaded
        // machine) accepted by its listener in the moment before the kernel closed it, then reset.
        assert.equal(connections, 2);
        assert.ok(error !== null && ['MC_ERR_CONNECT', 'MC_ERR_CONN_CLOSED'].includes(error.code), String(error));
      } finally {
        await group.close();
        await server.stop();
      }
    });
  }
});

for (const protocol of PROTOCOLS) {
  describe(`an event loop blocked longer than the timeout (${protocol})`, () => {
    it('does not reject operations whose replies arrived during the stall, nor mark the server down', async () => {
      const server = await MemcachedServer.start();
      const group = new Group([server.address], { protocol, timeout: 200 });
      const events = serverEvents(group);
      try {
        await group.set('k', 'v');
        const gets = Array.from({ length: 5 }, () => group.get('k'));
        await afterFlush(); // the gets are written; their replies arrive while the loop is blocked
        stall(400);
        const items = await Promise.all(gets);
        assert.deepEqual(items.map((item) => item?.text), Array(5).fill('v'));
        assert.deepEqual(events, []);
        assert.equal((await group.get('k'))?.text, 'v');
      } finally {
        await group.close();
        await server.stop();
      }
    });

    it('gives a request written only after the stall its own time, not the time the stall ate', async () => {
      const server = await MemcachedServer.start();
      const group = new Group([server.address], { protocol, timeout: 200 });
      const events = serverEvents(group);
      try {
        await group.set('k', 'v');
        const gets = Array.from({ length: 5 }, () => group.get('k'));
        stall(400); // before the batch is written
        const items = await Promise.all(gets);
        assert.deepEqual(items.map((item) => item?.text), Array(5).fill('v'));
        assert.deepEqual(events, []);
      } finally {
        await group.close();
        await server.stop();
      }
    });

    it('still times out a server that is really stalled, and names the operation that waited', async () => {
      const server = await MemcachedServer.start();
      const group = new Group([server.address], { protocol, timeout: 200 });
      try {
        await group.set('k', 'v');
        await server.pause();
        const errors = await Promise.all(Array.from({ length: 3 }, () => group.get('k').then(() => null, (e: MemcacheError) => e)));
        assert.deepEqual(errors.map((e) => e?.code), Array(3).fill('MC_ERR_TIMEOUT'));
        assert.match(errors[0]!.message, /^no reply within 200 ms; connection closed/);
        for (const younger of errors.slice(1)) {
          assert.match(younger!.message, /^connection closed because an older operation on it got no reply within 200 ms/);
          assert.equal((younger!.cause as MemcacheError).message, errors[0]!.message);
        }
      } finally {
        server.signal('SIGCONT');
        await group.close();
        await server.stop();
      }
    });
  });
}

for (const protocol of PROTOCOLS) {
  describe(`ejection counts failed operations, as libmemcached does (${protocol})`, () => {
    it('ejects a killed server after failureLimit failed operations, even with a long retryDelay', async () => {
      const [a, b] = [await MemcachedServer.start(), await MemcachedServer.start()];
      const group = new Group([a.address, b.address], { protocol, failover: 'eject', failureLimit: 3, retryDelay: 60_000, maxRetryDelay: 60_000 });
      const events = serverEvents(group);
      try {
        const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => group.serverFor(k) === a.address)!;
        await group.set(key, 'v');
        await a.stop('SIGKILL');
        const codes: string[] = [];
        for (let i = 0; i < 3; i++) codes.push(await group.get(key).then(() => 'ok', (e: MemcacheError) => e.code));
        // The first finds the server gone, the next two fail fast; the third failure ejects it.
        assert.equal(codes[1], 'MC_ERR_SERVER_DOWN');
        assert.equal(codes[2], 'MC_ERR_SERVER_DOWN');
        assert.match(codes[0]!, /MC_ERR_CONN_CLOSED|MC_ERR_CONNECT/);
        assert.deepEqual(events, [`server-down ${a.address}`, `server-ejected ${a.address}`]);
        assert.equal(group.serverFor(key), b.address);
        assert.equal(await group.get(key), null, 'the key now lives on the other server');
      } finally {
        await group.close();
        await b.stop();
      }
    });

    it('counts every operation a failing connection had in flight', async () => {
      const live = await MemcachedServer.start();
      const dead = `127.0.0.1:${await freePort()}`;
      const group = new Group([dead, live.address], { protocol, failover: 'eject', failureLimit: 4, retryDelay: 60_000 });
      const failures: number[] = [];
      group.addEventListener('server-ejected', (event) => failures.push(event.failures));
      try {
        const keys = Array.from({ length: 200 }, (_, i) => `k${i}`).filter((k) => group.serverFor(k) === dead).slice(0, 5);
        // Five operations wait for one connection that is refused: five failures, past the limit of 4.
        const codes = await Promise.all(keys.map((k) => group.get(k).then(() => 'ok', (e: MemcacheError) => e.code)));
        assert.deepEqual(codes, Array(5).fill('MC_ERR_CONNECT'));
        assert.deepEqual(failures, [5]);
      } finally {
        await group.close();
        await live.stop();
      }
    });
  });
}
