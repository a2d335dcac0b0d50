// Tracing through node:diagnostics_channel: the TracingChannel memring:command
// around every Group call, and a connection's life on memring:connect,
// memring:connect-error, memring:close, memring:server-down and
// memring:server-up, against real memcached.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as diagnostics_channel from 'node:diagnostics_channel';
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { Group, Item, MemcacheError } from '../lib/index.js';
import { CommandContext, type ConnectionMessage } from '../lib/diagnostics/command-context.js';
import * as workerChannels from '../lib/diagnostics/worker-channels.js';
import { freePort, MemcachedServer } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';

const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;
type EventName = (typeof EVENTS)[number];

interface Seen {
  event: EventName;
  context: CommandContext;
  /** The fields as they were when the event was published. */
  at: Partial<CommandContext>;
}

/** Subscribes to every event of memring:command until `stop()`. */
function recordCommands(): { seen: Seen[]; events: () => EventName[]; stop: () => void } {
  const seen: Seen[] = [];
  const channel = tracingChannel('memring:command');
  const handlers = Object.fromEntries(
    EVENTS.map((event) => [
      event,
      (message: unknown) => {
        const context = message as CommandContext;
        seen.push({ event, context, at: { ...context } });
      },
    ]),
  ) as unknown as Parameters<typeof channel.subscribe>[0];
  channel.subscribe(handlers);
  return { seen, events: () => seen.map((s) => s.event), stop: () => channel.unsubscribe(handlers) };
}

/** The calls' contexts, one per call, in order of their start. */
function contexts(seen: Seen[]): CommandContext[] {
  return seen.filter((s) => s.event === 'start').map((s) => s.context);
}

const LIFE = ['memring:connect', 'memring:connect-error', 'memring:close', 'memring:server-down', 'memring:server-up'];

function recordLife(): { seen: { name: string; message: ConnectionMessage }[]; stop: () => void } {
  const seen: { name: string; message: ConnectionMessage }[] = [];
  const listener = (message: unknown, name: string | symbol): void => {
    seen.push({ name: String(name), message: message as ConnectionMessage });
  };
  for (const name of LIFE) subscribe(name, listener);
  return { seen, stop: () => LIFE.forEach((name) => unsubscribe(name, listener)) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

let counter = 0;
const fresh = (): string => `diag:${process.pid}:${counter++}`;

for (const protocol of PROTOCOLS) {
  describe(`memring:command over ${protocol}`, () => {
    let servers: MemcachedServer[];
    let group: Group;
    let pair: Group;

    before(async () => {
      servers = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
      group = new Group([servers[0]!.address], { protocol });
      pair = new Group(servers.map((s) => s.address), { protocol });
    });
    after(async () => {
      await Promise.all([group.close(), pair.close()]);
      await Promise.all(servers.map((s) => s.stop()));
    });

    it('a get hit: start and end around the call, asyncStart and asyncEnd when it settles, one context', async () => {
      const key = fresh();
      await group.set(key, 'value');
      const trace = recordCommands();
      const item = await group.get(key);
      trace.stop();
      assert.deepEqual(trace.events(), ['start', 'end', 'asyncStart', 'asyncEnd']);
      const [context] = contexts(trace.seen);
      assert.ok(trace.seen.every((s) => s.context === context));
      assert.equal(context!.operation, 'get');
      assert.equal(context!.protocol, protocol);
      assert.equal(context!.server, servers[0]!.address);
      assert.equal(context!.host, '127.0.0.1');
      assert.equal(context!.port, servers[0]!.port);
      // Known from the start: the server; from the settlement: the outcome.
      assert.equal(trace.seen[0]!.at.server, servers[0]!.address);
      assert.equal(trace.seen[0]!.at.hit, undefined);
      assert.equal(context!.hit, true);
      assert.ok(context!.result instanceof Item);
      assert.equal(context!.result, item);
      assert.equal(context!.error, undefined);
    });

    it('a get miss has hit false', async () => {
      const trace = recordCommands();
      assert.equal(await group.get(fresh()), null);
      trace.stop();
      assert.deepEqual(trace.events(), ['start', 'end', 'asyncStart', 'asyncEnd']);
      assert.equal(contexts(trace.seen)[0]!.hit, false);
    });

    it('set, cas, incr and delete name their method; only reads have a hit', async () => {
      const key = fresh();
      const trace = recordCommands();
      await group.set(key, '1');
      const cas = (await group.get(key))!.cas;
      await group.cas(key, '2', cas);
      await group.incr(key, 5);
      await group.delete(key);
      trace.stop();
      const calls = contexts(trace.seen);
      assert.deepEqual(
        calls.map((c) => c.operation),
        ['set', 'get', 'cas', 'incr', 'delete'],
      );
      assert.deepEqual(
        calls.map((c) => c.hit),
        [undefined, true, undefined, undefined, undefined],
      );
      assert.equal(calls[0]!.result, true);
      assert.equal(calls[3]!.result, 7n);
      assert.ok(calls.every((c) => c.server === servers[0]!.address && c.protocol === protocol));
    });

    it('getMulti counts its keys, hits and misses; it names a server only when one is involved', async () => {
      const keys = Array.from({ length: 20 }, fresh);
      for (const key of keys.slice(0, 12)) await pair.set(key, key);
      const own = [fresh(), fresh(), fresh()];
      await group.set(own[0]!, 'x');
      const trace = recordCommands();
      const found = await pair.getMulti(keys);
      await group.getMulti(own);
      trace.stop();
      assert.equal(found.size, 12);
      assert.deepEqual(trace.events(), ['start', 'end', 'asyncStart', 'asyncEnd', 'start', 'end', 'asyncStart', 'asyncEnd']);
      const [both, one] = contexts(trace.seen);
      assert.deepEqual(
        { operation: both!.operation, keys: both!.keys, hits: both!.hits, misses: both!.misses, server: both!.server },
        { operation: 'getMulti', keys: 20, hits: 12, misses: 8, server: undefined },
      );
      assert.equal(both!.result, found);
      assert.deepEqual(
        { keys: one!.keys, hits: one!.hits, misses: one!.misses, server: one!.server, port: one!.port },
        { keys: 3, hits: 1, misses: 2, server: servers[0]!.address, port: servers[0]!.port },
      );
    });

    it('calls to every server are traced too (flush, version)', async () => {
      const trace = recordCommands();
      await group.version();
      await pair.flush();
      trace.stop();
      const [version, flush] = contexts(trace.seen);
      assert.deepEqual([version!.operation, version!.server], ['version', servers[0]!.address]);
      assert.deepEqual([flush!.operation, flush!.server], ['flush', undefined]);
      assert.ok(version!.result instanceof Map);
    });

    it('a refused argument: start, end, then error, asyncStart and asyncEnd', async () => {
      const trace = recordCommands();
      await assert.rejects(group.get(42 as unknown as string), { code: 'MC_ERR_BAD_KEY' });
      await assert.rejects(group.getMulti('not a list' as unknown as string[]), { code: 'MC_ERR_BAD_ARGUMENT' });
      trace.stop();
      assert.deepEqual(trace.events(), [
        ...['start', 'end', 'error', 'asyncStart', 'asyncEnd'],
        ...['start', 'end', 'error', 'asyncStart', 'asyncEnd'],
      ]);
      const [get, multi] = contexts(trace.seen);
      assert.equal((get!.error as MemcacheError).code, 'MC_ERR_BAD_KEY');
      assert.equal((multi!.error as MemcacheError).code, 'MC_ERR_BAD_ARGUMENT');
    });

    it('a server that does not answer: the error is in the context (MC_ERR_TIMEOUT)', async () => {
      const stalled = await MemcachedServer.start();
      const slow = new Group([stalled.address], { protocol, timeout: 150 });
      try {
        await slow.set('k', 'v');
        await stalled.pause();
        const trace = recordCommands();
        await assert.rejects(slow.get('k'), { code: 'MC_ERR_TIMEOUT' });
        trace.stop();
        assert.deepEqual(trace.events(), ['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
        const [context] = contexts(trace.seen);
        assert.equal(context!.operation, 'get');
        assert.equal(context!.server, stalled.address);
        assert.equal(context!.hit, undefined);
        assert.equal((context!.error as MemcacheError).code, 'MC_ERR_TIMEOUT');
        assert.equal(trace.seen[2]!.at.error, context!.error);
      } finally {
        await stalled.stop();
        await slow.close();
      }
    });
  });

  describe(`a connection's life over ${protocol}`, () => {
    it('connect, close when the server goes, connect-error and server-down while it is gone, server-up and connect once it is back, close at the end', async () => {
      const server = await MemcachedServer.start();
      const group = new Group([server.address], { protocol, timeout: 1000, retryDelay: 20, maxRetryDelay: 40 });
      const life = recordLife();
      try {
        await group.set('k', 'v');
        assert.deepEqual(life.seen.map((s) => s.name), ['memring:connect']);
        assert.deepEqual(life.seen[0]!.message, { server: server.address, host: '127.0.0.1', port: server.port, error: undefined });

        await server.stop();
        await until(() => life.seen.length === 2, 'the close');
        assert.equal(life.seen[1]!.name, 'memring:close');
        assert.ok(life.seen[1]!.message.error instanceof MemcacheError);

        await assert.rejects(group.get('k'), MemcacheError);
        await until(() => life.seen.some((s) => s.name === 'memring:server-down'), 'server-down');
        const refused = life.seen.find((s) => s.name === 'memring:connect-error')!;
        assert.equal((refused.message.error as MemcacheError).code, 'MC_ERR_CONNECT');
        const down = life.seen.find((s) => s.name === 'memring:server-down')!;
        assert.equal(down.message.server, server.address);
        assert.equal(down.message.failures, 1);
        assert.equal((down.message.error as MemcacheError).code, 'MC_ERR_CONNECT');

        await server.restart();
        await until(() => life.seen.some((s) => s.name === 'memring:server-up'), 'server-up');
        const up = life.seen.findIndex((s) => s.name === 'memring:server-up');
        // The probe's connection opened before its reply said the server is up.
        assert.equal(life.seen[up - 1]!.name, 'memring:connect');
        assert.deepEqual(life.seen[up]!.message, { server: server.address, host: '127.0.0.1', port: server.port });

        const before = life.seen.length;
        await group.close();
        assert.deepEqual(life.seen.slice(before).map((s) => s.name), ['memring:close']);
        assert.equal(life.seen.at(-1)!.message.error, undefined);
      } finally {
        life.stop();
        await group.close();
        await server.stop();
      }
    });

    it('a refused port (127.0.0.1, nothing listening): connect-error with MC_ERR_CONNECT', async () => {
      const port = await freePort();
      const group = new Group([`127.0.0.1:${port}`], { protocol, timeout: 1000 });
      const life = recordLife();
      const trace = recordCommands();
      try {
        await assert.rejects(group.get('k'), { code: 'MC_ERR_CONNECT' });
        assert.equal(life.seen[0]!.name, 'memring:connect-error');
        assert.equal(life.seen[0]!.message.port, port);
        assert.deepEqual(trace.events(), ['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
        assert.equal((contexts(trace.seen)[0]!.error as MemcacheError).code, 'MC_ERR_CONNECT');
      } finally {
        life.stop();
        trace.stop();
        await group.close();
      }
    });
  });
}

describe('nobody subscribed', () => {
  let server: MemcachedServer;
  let group: Group;

  before(async () => {
    server = await MemcachedServer.start();
    group = new Group([server.address, `127.0.0.1:${await freePort()}`], { timeout: 500 });
  });
  after(async () => {
    await group.close();
    await server.stop();
  });

  it('no context is made and nothing is published', async () => {
    const made = { start: 0 };
    const original = CommandContext.prototype.start;
    CommandContext.prototype.start = function (this: CommandContext) {
      made.start++;
      return original.call(this);
    };
    try {
      // Subscribed once and gone again: the channels are back to no subscribers.
      recordCommands().stop();
      recordLife().stop();
      for (const event of EVENTS) assert.equal(tracingChannel('memring:command')[event].hasSubscribers, false);
      const key = 'quiet';
      await group.set(key, 'v').catch(() => {});
      await group.get(key).catch(() => {});
      await group.getMulti(['a', 'b', 'c']);
      await group.version().catch(() => {});
      await assert.rejects(group.get(1 as unknown as string));
      assert.equal(made.start, 0);
      // The same calls with a subscriber do make contexts: the counter sees them.
      const trace = recordCommands();
      await group.get(key).catch(() => {});
      trace.stop();
      assert.equal(made.start, 1);
    } finally {
      CommandContext.prototype.start = original;
    }
  });

  it('under workerd and worker (worker-channels.ts), are the runtime\'s own channels where it offers them (nodejs_compat, as Node does)', () => {
    // This process has process.getBuiltinModule, as workerd has with nodejs_compat: the same channels as node:diagnostics_channel's.
    assert.equal(workerChannels.traced, true);
    const seen: unknown[] = [];
    const listener = (message: unknown): void => void seen.push(message);
    diagnostics_channel.subscribe('memring:connect', listener);
    try {
      assert.equal(workerChannels.connect.hasSubscribers, true);
      workerChannels.connect.publish({ server: 'here' });
      assert.deepEqual(seen, [{ server: 'here' }]);
    } finally {
      diagnostics_channel.unsubscribe('memring:connect', listener);
    }
  });
});
