// A rejection found by a timer or a socket callback says where the call was
// made: its stack holds the awaiting caller's frames, not only timers'.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Group, MemcacheError } from '../lib/index.js';
import { freePort } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';

/** A loopback listener that accepts and never answers. */
async function silentListener(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Named functions the stacks must show: the application's own code awaiting the call.
async function applicationHandler(group: Group, key: string): Promise<unknown> {
  return await group.get(key);
}
async function applicationRequest(group: Group, key: string): Promise<unknown> {
  return await applicationHandler(group, key);
}

async function rejection(promise: Promise<unknown>): Promise<MemcacheError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof MemcacheError, String(error));
  return error;
}

for (const protocol of PROTOCOLS) {
  describe(`a rejection's stack (${protocol})`, () => {
    let silent: Awaited<ReturnType<typeof silentListener>>;
    before(async () => {
      silent = await silentListener();
    });
    after(() => silent.close());

    it('names the awaiting callers when the server does not answer in time (a timer found it)', async () => {
      const group = new Group(silent.address, { protocol, timeout: 200 });
      try {
        const error = await rejection(applicationRequest(group, 'k'));
        assert.equal(error.code, 'MC_ERR_TIMEOUT');
        assert.equal(error.server, silent.address);
        assert.match(error.message, /no reply within 200 ms/);
        assert.match(error.stack!, /applicationHandler/);
        assert.match(error.stack!, /applicationRequest/);
        assert.match(error.stack!, /^MemcacheError: no reply within 200 ms/);
      } finally {
        await group.close();
      }
    });

    it('names the awaiting callers when the connection is refused (a socket callback found it)', async () => {
      const closed = `127.0.0.1:${await freePort()}`;
      const group = new Group(closed, { protocol });
      try {
        const error = await rejection(applicationRequest(group, 'k'));
        assert.equal(error.code, 'MC_ERR_CONNECT');
        assert.match(error.stack!, /applicationHandler/);
        assert.ok(error.cause instanceof Error, 'the socket error stays the cause');
      } finally {
        await group.close();
      }
    });

    it('gives each caller its own copy when one failure takes several calls down', async () => {
      const group = new Group(silent.address, { protocol, timeout: 200 });
      try {
        const [a, b] = await Promise.all([rejection(group.get('a')), rejection(group.get('b'))]);
        assert.notEqual(a, b);
        assert.equal(a.code, 'MC_ERR_TIMEOUT');
        assert.equal(b.code, 'MC_ERR_TIMEOUT');
        // The younger call's cause is the head's own failure, as without the copy.
        assert.ok(b.cause instanceof MemcacheError);
        assert.match(b.message, /older operation/);
      } finally {
        await group.close();
      }
    });

    it('keeps only the timer and socket frames with callerStacks: false', async () => {
      const group = new Group(silent.address, { protocol, timeout: 200, callerStacks: false });
      try {
        const error = await rejection(applicationRequest(group, 'k'));
        assert.equal(error.code, 'MC_ERR_TIMEOUT');
        assert.doesNotMatch(error.stack!, /applicationHandler/);
      } finally {
        await group.close();
      }
    });
  });
}

for (const protocol of PROTOCOLS) {
  describe(`a rejection's stack for calls over every server (${protocol})`, () => {
    async function multiHandler(group: Group): Promise<unknown> {
      return await group.getMulti(['a', 'b']).then(() => group.version());
    }
    it('names the awaiting caller of version() when a server does not answer', async () => {
      const silent = await silentListener();
      const group = new Group(silent.address, { protocol, timeout: 200 });
      try {
        // getMulti counts the failed server's keys as misses (its timeout marks the server down); version() rejects.
        const error = await rejection(multiHandler(group));
        assert.equal(error.code, 'MC_ERR_SERVER_DOWN');
        assert.match(error.stack!, /multiHandler/);
      } finally {
        await group.close();
        await silent.close();
      }
    });
  });
}

describe('callerStacks option', () => {
  it('is refused unless a boolean, at construction', () => {
    assert.throws(
      () => new Group('127.0.0.1:11211', { callerStacks: 'yes' as unknown as boolean }),
      (e: unknown) => e instanceof MemcacheError && e.code === 'MC_ERR_BAD_CONFIG' && /callerStacks must be true or false/.test(e.message),
    );
  });
});
