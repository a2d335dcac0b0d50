// Memory is bounded: what waits on a server is bounded in bytes as well as
// in operations, the socket's backpressure is honoured, an aborted operation
// frees its slot, and idle connections cost almost nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { Group, MemcacheError, type TransportFactory } from '../lib/index.js';
import { nodeTransport } from '../lib/net/node-transport.js';
import { MemcachedServer } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';
import { throwsCode } from './support/throws.js';

const MiB = 1024 * 1024;

/** A listener that accepts connections and never reads a byte from them. */
async function deafServer(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Node's transport, recording whether anything was written between a full buffer and its drain. */
function watchedTransport(): { factory: TransportFactory; fullBuffers: number; writesWhileFull: number } {
  const seen = { fullBuffers: 0, writesWhileFull: 0, factory: null as unknown as TransportFactory };
  seen.factory = (options, events) => {
    let full = false;
    const transport = nodeTransport(options, {
      onOpen: () => events.onOpen(),
      onData: (chunk) => events.onData(chunk),
      onClose: (error) => events.onClose(error),
      onDrain: () => {
        full = false;
        events.onDrain();
      },
    });
    return {
      write(chunks) {
        if (full) seen.writesWhileFull++;
        const more = transport.write(chunks);
        if (!more) {
          full = true;
          seen.fullBuffers++;
        }
        return more;
      },
      close: () => transport.close(),
      ref: () => transport.ref(),
      unref: () => transport.unref(),
    };
  };
  return seen;
}

function heldMemory(): number {
  const usage = process.memoryUsage();
  return usage.arrayBuffers + usage.heapUsed;
}

// First in the file: no earlier test's garbage is collected while it measures.
describe('connections', () => {
  it('refuses more than 128 per server with MC_ERR_BAD_CONFIG, at once', () => {
    const started = Date.now();
    for (const connections of [129, 50_000]) {
      const error = throwsCode(() => new Group(['127.0.0.1:11211'], { connections }), 'MC_ERR_BAD_CONFIG');
      assert.match(error.message, /at most 128/);
    }
    assert.ok(Date.now() - started < 1000);
  });

  it('allocates buffers only when a connection is first used', async () => {
    const servers = Array.from({ length: 50 }, (_, i) => `127.0.0.1:${20000 + i}`);
    const before = process.memoryUsage().arrayBuffers;
    const group = new Group(servers, { connections: 128 });
    const grown = (process.memoryUsage().arrayBuffers - before) / MiB;
    try {
      // 6,400 connections; a read and a write buffer each would be over 400 MiB.
      assert.ok(grown < 8, `building the group took ${grown.toFixed(1)} MiB of buffers`);
    } finally {
      await group.close();
    }
  });
});

for (const protocol of PROTOCOLS) {
  describe(`a server that accepts but never reads (${protocol})`, () => {
    it('refuses sets past maxQueueBytes with MC_ERR_QUEUE_FULL before encoding them, and memory stays bounded', async () => {
      const deaf = await deafServer();
      const watched = watchedTransport();
      const group = new Group([deaf.address], { protocol, timeout: 1500, transport: watched.factory });
      const value = 'x'.repeat(500_000);
      try {
        const before = heldMemory();
        const calls = Array.from({ length: 2000 }, (_, i) => group.set(`big:${i}`, value).then(() => 'stored', (e: MemcacheError) => e));
        // Everything accepted is encoded by now; let the writes and the full buffer happen.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const grown = (heldMemory() - before) / MiB;
        const outcomes = await Promise.all(calls);
        const full = outcomes.filter((o) => o instanceof MemcacheError && o.code === 'MC_ERR_QUEUE_FULL') as MemcacheError[];
        const timedOut = outcomes.filter((o) => o instanceof MemcacheError && o.code === 'MC_ERR_TIMEOUT');
        // 64 MiB of 500 KB requests: about 134 accepted, the rest refused at once.
        assert.ok(full.length >= 1850, `${full.length} of 2000 refused`);
        assert.equal(full.length + timedOut.length, 2000, 'every call settles: refused, or timed out unanswered');
        assert.match(full[0]!.message, /maxQueueBytes/);
        assert.ok(grown < 200, `memory grew by ${grown.toFixed(0)} MiB`);
        assert.ok(watched.fullBuffers >= 1, 'the socket filled up');
        assert.equal(watched.writesWhileFull, 0, 'nothing was written between a full buffer and its drain');
      } finally {
        await group.close();
        await deaf.close();
      }
    });
  });

  describe(`the operations bound (${protocol})`, () => {
    it('frees an aborted operation\'s slot at once, not when a reply that may never come arrives', async () => {
      const server = await MemcachedServer.start();
      const group = new Group([server.address], { protocol, maxQueueSize: 10, timeout: 500 });
      try {
        await group.set('k', 'v');
        await server.pause();
        const controller = new AbortController();
        const aborted = Array.from({ length: 10 }, () => group.get('k', { signal: controller.signal }).catch((e: MemcacheError) => e.code));
        controller.abort();
        assert.deepEqual(await Promise.all(aborted), Array(10).fill('MC_ERR_ABORTED'));
        const next = Array.from({ length: 10 }, () => group.get('k').catch((e: MemcacheError) => e.code));
        await assert.rejects(group.get('k'), (e: MemcacheError) => e.code === 'MC_ERR_QUEUE_FULL');
        assert.deepEqual(await Promise.all(next), Array(10).fill('MC_ERR_TIMEOUT'));
      } finally {
        server.signal('SIGCONT');
        await group.close();
        await server.stop();
      }
    });
  });
}
