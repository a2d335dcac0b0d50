// Servers that crash, stall or refuse, under load: every operation settles
// in time, no caller gets another key's value, and healthy servers' keys
// never fail.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Group, MemcacheError } from '../lib/index.js';
import { freePort, MemcachedServer } from './support/memcached.js';
import { SERVER_CASES } from './support/protocols.js';

interface Outcome {
  key: string;
  ms: number;
  value?: string | null;
  error?: MemcacheError;
}

/** Runs `get`s of `keys` with `concurrency` in flight until `stop()` resolves; records every outcome. */
async function load(group: Group, keys: string[], concurrency: number, stop: Promise<void>): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let stopped = false;
  void stop.then(() => (stopped = true));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const key = keys[next++ % keys.length]!;
      const start = Date.now();
      try {
        const item = await group.get(key);
        outcomes.push({ key, ms: Date.now() - start, value: item === null ? null : item.text });
      } catch (error) {
        outcomes.push({ key, ms: Date.now() - start, error: error as MemcacheError });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function events(group: Group): { type: string; server: string; at: number }[] {
  const seen: { type: string; server: string; at: number }[] = [];
  for (const type of ['server-down', 'server-up', 'server-ejected', 'server-restored'] as const) {
    group.addEventListener(type, (event) => seen.push({ type, server: event.server, at: Date.now() }));
  }
  return seen;
}

async function startServers(n: number, args: string[]): Promise<MemcachedServer[]> {
  const servers: MemcachedServer[] = [];
  for (let i = 0; i < n; i++) servers.push(await MemcachedServer.start({ args }));
  return servers;
}

/** Keys spread over the group, each stored with its own name as value. */
async function seed(group: Group, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => `load:${i}`);
  await Promise.all(keys.map((k) => group.set(k, `value-of-${k}`)));
  return keys;
}

// Every server case, so the fault run also holds for meta against memcached -B ascii (binary disabled).
for (const { name, protocol, args } of SERVER_CASES) {
  describe(`failover 'fail' (the default): the ring stays, the dead server's keys fail fast (${name})`, () => {
    it('kill -9 under load: healthy keys never fail, dead keys fail within 2 s, nobody gets a wrong value', async () => {
      const servers = await startServers(3, args);
      const group = new Group(servers.map((s) => s.address), { protocol });
      const seen = events(group);
      try {
        const keys = await seed(group, 300);
        const victim = servers[1]!;
        const stop = sleep(2500);
        const running = load(group, keys, 64, stop);
        await sleep(300);
        await victim.stop('SIGKILL');
        const outcomes = await running;
        assert.ok(outcomes.length > 1000, `only ${outcomes.length} operations ran`);
        let failed = 0;
        for (const o of outcomes) {
          assert.ok(o.ms <= 2000, `an operation waited ${o.ms} ms`);
          if (o.error === undefined) {
            assert.equal(o.value, `value-of-${o.key}`, 'a value reached the wrong caller');
            continue;
          }
          failed++;
          assert.equal(group.serverFor(o.key), victim.address, `${o.key} failed (${o.error.code}) on a healthy server`);
          assert.ok(['MC_ERR_CONN_CLOSED', 'MC_ERR_SERVER_DOWN', 'MC_ERR_CONNECT'].includes(o.error.code), o.error.code);
        }
        assert.ok(failed > 0, "the dead server's keys should have failed");
        assert.ok(seen.some((e) => e.type === 'server-down' && e.server === victim.address));
        assert.ok(!seen.some((e) => e.type === 'server-ejected'));
      } finally {
        await group.close();
        for (const s of servers) await s.stop();
      }
    });

    it('a restarted server is used again within a few seconds', async () => {
      const servers = await startServers(2, args);
      const group = new Group(servers.map((s) => s.address), { protocol });
      try {
        const keys = await seed(group, 50);
        const victim = servers[0]!;
        const onVictim = keys.find((k) => group.serverFor(k) === victim.address)!;
        await victim.stop('SIGKILL');
        await assert.rejects(group.get(onVictim));
        await assert.rejects(group.get(onVictim), { code: 'MC_ERR_SERVER_DOWN' });
        // Listened for before the restart: a probe may reach the server while restart() still waits for its port.
        const up = once(group, 'server-up', { signal: AbortSignal.timeout(15_000) });
        const restartedAt = Date.now();
        await victim.restart();
        await up;
        // Probes back off to maxRetryDelay (2 s): the next one after the restart comes within it, plus a loaded machine's delays.
        assert.ok(Date.now() - restartedAt < 6000, `took ${Date.now() - restartedAt} ms`);
        assert.equal(await group.get(onVictim), null, 'the restarted server is empty');
        assert.equal(await group.set(onVictim, 'again'), true);
        assert.equal((await group.get(onVictim))?.text, 'again');
      } finally {
        await group.close();
        for (const s of servers) await s.stop();
      }
    });

    it('a stalled server (SIGSTOP) is caught by the timeout; the others carry on; SIGCONT brings it back', async () => {
      const servers = await startServers(3, args);
      const group = new Group(servers.map((s) => s.address), { protocol });
      const seen = events(group);
      try {
        const keys = await seed(group, 300);
        const victim = servers[2]!;
        const stop = sleep(2500);
        const running = load(group, keys, 64, stop);
        await sleep(200);
        await victim.pause();
        const outcomes = await running;
        let timedOut = 0;
        for (const o of outcomes) {
          assert.ok(o.ms <= 2000, `an operation waited ${o.ms} ms`);
          if (o.error === undefined) {
            assert.equal(o.value, `value-of-${o.key}`);
            continue;
          }
          assert.equal(group.serverFor(o.key), victim.address, `${o.key} failed on a healthy server`);
          if (o.error.code === 'MC_ERR_TIMEOUT') timedOut++;
          else assert.equal(o.error.code, 'MC_ERR_SERVER_DOWN');
        }
        assert.ok(timedOut > 0);
        const up = once(group, 'server-up', { signal: AbortSignal.timeout(5000) });
        victim.signal('SIGCONT');
        await up;
        const onVictim = keys.find((k) => group.serverFor(k) === victim.address)!;
        assert.equal((await group.get(onVictim))?.text, `value-of-${onVictim}`);
        assert.ok(seen.some((e) => e.type === 'server-down' && e.server === victim.address));
      } finally {
        for (const s of servers) s.signal('SIGCONT');
        await group.close();
        for (const s of servers) await s.stop();
      }
    });

    it('a refused server fails fast after its first failure; the others are untouched', async () => {
      const live = await MemcachedServer.start({ args });
      const dead = `127.0.0.1:${await freePort()}`;
      const group = new Group([live.address, dead], { protocol });
      try {
        const keys = Array.from({ length: 100 }, (_, i) => `refused:${i}`);
        const deadKeys = keys.filter((k) => group.serverFor(k) === dead);
        const liveKeys = keys.filter((k) => group.serverFor(k) === live.address);
        assert.ok(deadKeys.length > 0 && liveKeys.length > 0);
        await assert.rejects(group.set(deadKeys[0]!, 'x'), { code: 'MC_ERR_CONNECT' });
        for (const key of deadKeys) {
          const start = Date.now();
          await assert.rejects(group.set(key, 'x'), { code: 'MC_ERR_SERVER_DOWN' });
          // Far under the 1000 ms timeout a wait for a connection or a reply would take, with room for a loaded machine.
          assert.ok(Date.now() - start < 500, `took ${Date.now() - start} ms`);
        }
        for (const key of liveKeys) assert.equal(await group.set(key, 'x'), true);
        // getMulti: the dead server's keys are misses, the live ones are returned.
        const items = await group.getMulti(keys);
        assert.deepEqual([...items.keys()].sort(), [...liveKeys].sort());
      } finally {
        await group.close();
        await live.stop();
      }
    });
  });

  describe(`failover 'eject': the dead server leaves the ring and its keys move (${name})`, () => {
    it('ejects after the failure limit, moves only its keys, and restores it when it answers again', async () => {
      const servers = await startServers(3, args);
      const group = new Group(servers.map((s) => s.address), { protocol, failover: 'eject', failureLimit: 2 });
      const seen = events(group);
      try {
        const keys = await seed(group, 300);
        const victim = servers[0]!;
        const home = new Map(keys.map((k) => [k, group.serverFor(k)]));
        await victim.stop('SIGKILL');
        const ejected = once(group, 'server-ejected', { signal: AbortSignal.timeout(5000) });
        await Promise.allSettled(keys.map((k) => group.get(k)));
        await ejected;
        for (const key of keys) {
          const now = group.serverFor(key);
          if (home.get(key) === victim.address) assert.notEqual(now, victim.address);
          else assert.equal(now, home.get(key), `${key} moved though its server is alive`);
        }
        // Every key works again: the moved ones miss, then can be stored on their new server.
        for (const key of keys) {
          const item = await group.get(key);
          if (home.get(key) === victim.address) {
            assert.equal(item, null);
            assert.equal(await group.set(key, 'moved'), true);
          } else {
            assert.equal(item?.text, `value-of-${key}`);
          }
        }
        const restored = once(group, 'server-restored', { signal: AbortSignal.timeout(6000) });
        await victim.restart();
        await restored;
        for (const key of keys) assert.equal(group.serverFor(key), home.get(key));
        const order = seen.filter((e) => e.server === victim.address).map((e) => e.type);
        assert.deepEqual(order.slice(0, 2), ['server-down', 'server-ejected']);
        assert.deepEqual(order.slice(-2), ['server-restored', 'server-up']);
      } finally {
        await group.close();
        for (const s of servers) await s.stop();
      }
    });

    it('with every server gone, operations reject with MC_ERR_NO_SERVERS', async () => {
      const servers = await startServers(2, args);
      const group = new Group(servers.map((s) => s.address), { protocol, failover: 'eject', failureLimit: 1 });
      try {
        await group.set('a', '1');
        for (const s of servers) await s.stop('SIGKILL');
        let ejections = 0;
        group.addEventListener('server-ejected', () => ejections++);
        for (let i = 0; i < 20 && ejections < 2; i++) {
          await Promise.allSettled(Array.from({ length: 10 }, (_, j) => group.get(`k${i}:${j}`)));
          await sleep(50);
        }
        assert.equal(ejections, 2);
        await assert.rejects(group.get('a'), { code: 'MC_ERR_NO_SERVERS' });
        assert.equal((await group.getMulti(['a', 'b'])).size, 0);
      } finally {
        await group.close();
      }
    });
  });

  describe(`bounded queue (${name})`, () => {
    it('refuses operations past maxQueueSize with MC_ERR_QUEUE_FULL, and the queued ones still settle', async () => {
      const server = await MemcachedServer.start({ args });
      const group = new Group([server.address], { protocol, maxQueueSize: 10, timeout: 300 });
      try {
        await group.set('k', 'v');
        await server.pause();
        const queued = Array.from({ length: 10 }, () => group.get('k').catch((e: MemcacheError) => e.code));
        await assert.rejects(group.get('k'), (error: MemcacheError) => {
          assert.equal(error.code, 'MC_ERR_QUEUE_FULL');
          assert.match(error.message, new RegExp(server.address));
          return true;
        });
        assert.deepEqual(await Promise.all(queued), Array(10).fill('MC_ERR_TIMEOUT'));
      } finally {
        server.signal('SIGCONT');
        await group.close();
        await server.stop();
      }
    });
  });
}
