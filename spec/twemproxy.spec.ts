// memring's text protocol through a real twemproxy (nutcracker) in front of
// real memcached servers: every operation, multi-gets spanning backends,
// placement equal to memring's own ketama (measured from outside: stored
// through the proxy, found on the backends directly), the commands twemproxy
// refuses, and a backend killed behind it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Group, type MemcacheError } from '../lib/index.js';
import { MemcachedServer } from './support/memcached.js';
import { Twemproxy, type TwemproxyBackend } from './support/twemproxy.js';
import { memring } from './cli/run.js';

const KEYS = 2000;

/** Which backend holds each key, asked of each backend directly. */
async function holders(backends: MemcachedServer[], keys: string[]): Promise<Map<string, number[]>> {
  const found = new Map<string, number[]>(keys.map((k) => [k, []]));
  for (const [index, backend] of backends.entries()) {
    const direct = new Group([backend.address], { protocol: 'meta' });
    try {
      for (const key of (await direct.getMulti(keys)).keys()) found.get(key)!.push(index);
    } finally {
      await direct.close();
    }
  }
  return found;
}

/** Stores KEYS keys through the proxy; counts those found on the backend memring's own ring names. */
async function placementAgreement(proxy: Twemproxy, backends: MemcachedServer[], ring: Group, prefix: string): Promise<number> {
  const through = new Group([proxy.address], { protocol: 'text' });
  const keys = Array.from({ length: KEYS }, (_, i) => `${prefix}:${i}:${(i * 2654435761) % 1000003}`);
  try {
    const stored = await Promise.all(keys.map((k) => through.set(k, 'v')));
    assert.ok(stored.every(Boolean));
  } finally {
    await through.close();
  }
  const found = await holders(backends, keys);
  let agree = 0;
  for (const key of keys) {
    const where = found.get(key)!;
    assert.equal(where.length, 1, `${key} is on ${where.length} backends`);
    // The ring lists the backends in the proxy's order, perhaps under other names.
    if (ring.serverFor(key) === ring.serverNames[where[0]!]) agree++;
  }
  return agree;
}

describe('through twemproxy (protocol text)', () => {
  let backends: MemcachedServer[];
  let proxy: Twemproxy;
  let group: Group;
  before(async () => {
    backends = await Promise.all([0, 1, 2].map(() => MemcachedServer.start()));
    proxy = await Twemproxy.start({ backends: backends.map((b) => ({ address: b.address })) });
    group = new Group([proxy.address], { protocol: 'text', timeout: 3000 });
  });
  after(async () => {
    await group?.close();
    await proxy?.stop();
    await Promise.all((backends ?? []).map((b) => b.stop()));
  });

  it('every operation the proxy carries answers as memcached does', async () => {
    assert.equal(await group.set('op:a', 'hello', { flags: 9, expires: 300 }), true);
    const item = (await group.get('op:a'))!;
    assert.equal(item.text, 'hello');
    assert.equal(item.flags, 9);
    assert.equal(await group.cas('op:a', 'changed', item.cas + 1n), false);
    assert.equal(await group.cas('op:a', 'changed', item.cas), true);
    assert.equal(await group.add('op:a', 'x'), false);
    assert.equal(await group.add('op:new', 'x'), true);
    assert.equal(await group.replace('op:missing', 'x'), false);
    assert.equal(await group.replace('op:new', 'y'), true);
    assert.equal(await group.append('op:new', '>'), true);
    assert.equal(await group.prepend('op:new', '<'), true);
    assert.equal((await group.get('op:new'))!.text, '<y>');
    assert.equal(await group.touch('op:new', 600), true);
    assert.equal(await group.touch('op:missing', 600), false);
    assert.equal(await group.incr('op:n', 1), null);
    assert.equal(await group.incr('op:n', 5, { initial: 10 }), 10n);
    assert.equal(await group.incr('op:n', 5, { initial: 10 }), 15n);
    assert.equal(await group.decr('op:n', 20), 0n);
    assert.equal(await group.decr('op:d', 1, { initial: 7 }), 7n);
    await assert.rejects(group.incr('op:a', 1), { code: 'MC_ERR_NOT_NUMERIC' });
    assert.equal(await group.delete('op:new'), true);
    assert.equal(await group.delete('op:new'), false);
    assert.equal(await group.get('op:new'), null);
    const versions = await group.version();
    assert.match(versions.get(proxy.address)!, /^\d+\.\d+/);
    await group.noop();
  });

  it('incr with an initial value from many callers at once creates the key once and loses no delta', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => group.incr('op:race', 1, { initial: 100 })));
    const sorted = results.map(Number).sort((a, b) => a - b);
    // One caller created it at 100; the 49 others each added 1.
    assert.deepEqual(sorted, Array.from({ length: 50 }, (_, i) => 100 + i));
  });

  it('a getMulti spanning every backend gets every hit, with a CAS usable as on the other protocols', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `multi:${i}`);
    await Promise.all(keys.map((k, i) => group.set(k, `v${i}`)));
    const hits = await group.getMulti([...keys, 'multi:absent']);
    assert.equal(hits.size, keys.length);
    assert.equal(hits.get('multi:299')!.text, 'v299');
    const where = await holders(backends, keys);
    assert.equal(new Set([...where.values()].map((w) => w[0])).size, 3, 'the keys span the three backends');
    assert.equal(await group.cas('multi:7', 'new', hits.get('multi:7')!.cas), true);
  });

  it("places every key where memring's ketama over the same backends places it (2000/2000)", async () => {
    const direct = new Group(backends.map((b) => b.address));
    try {
      assert.equal(await placementAgreement(proxy, backends, direct, 'place'), KEYS);
    } finally {
      await direct.close();
    }
  });

  it('the CLI speaks text through the proxy: set, get, and bench with --compare raw', async () => {
    const servers = ['-s', proxy.address, '-p', 'text'];
    assert.equal((await memring(['set', ...servers, 'cli:k', 'through'])).code, 0);
    const got = await memring(['get', ...servers, 'cli:k']);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /through/);
    const bench = await memring(['bench', ...servers, '-n', '3000', '--keys', '200', '--compare', 'raw', '--json']);
    assert.equal(bench.code, 0, bench.stderr);
    const report = JSON.parse(bench.stdout) as { protocol: string; ops: number; failed: number; compare: { raw_ops_per_sec: number } };
    assert.equal(report.protocol, 'text');
    assert.equal(report.failed, 0);
    assert.equal(report.ops, 3000);
    assert.ok(report.compare.raw_ops_per_sec > 0);
  });

  it('stats, flush_all and gat, which twemproxy does not carry, fail MC_ERR_UNSUPPORTED saying so; the rest goes on', async () => {
    const own = new Group([proxy.address], { protocol: 'text', timeout: 3000 });
    try {
      await own.set('refused:k', 'v');
      for (const call of [() => own.stats(), () => own.flush(), () => own.gat('refused:k', 100)]) {
        const error = await call().then(() => null, (e: MemcacheError) => e);
        assert.equal(error?.code, 'MC_ERR_UNSUPPORTED', String(error));
        assert.match(error!.message, /twemproxy/);
      }
      // Refused again without a round trip, and the connection's other work is unaffected.
      await assert.rejects(own.stats(), (e: MemcacheError) => e.code === 'MC_ERR_UNSUPPORTED' && /without sending/.test(e.message));
      assert.equal((await own.get('refused:k'))!.text, 'v');
    } finally {
      await own.close();
    }
  });
});

describe('through twemproxy: placement with weights and server names', () => {
  it('weighted backends: twemproxy and memring agree on every key', async () => {
    const backends = await Promise.all([0, 1, 2].map(() => MemcachedServer.start()));
    const weights = [1, 2, 3];
    const proxy = await Twemproxy.start({ backends: backends.map((b, i) => ({ address: b.address, weight: weights[i]! })) });
    const direct = new Group(backends.map((b, i) => ({ host: b.host, port: b.port, weight: weights[i]! })));
    try {
      assert.equal(await placementAgreement(proxy, backends, direct, 'weighted'), KEYS);
    } finally {
      await direct.close();
      await proxy.stop();
      await Promise.all(backends.map((b) => b.stop()));
    }
  });

  it('servers on the default port: naming each twemproxy server by its host gives the placement of memring over host:11211', async () => {
    // libmemcached (and so memring) labels a server on port 11211 by its host alone, twemproxy by host:port
    // unless the server line names it. The backends listen elsewhere; the names stand for hosts on 11211.
    const backends = await Promise.all([0, 1, 2].map(() => MemcachedServer.start()));
    const hosts = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    const named: TwemproxyBackend[] = backends.map((b, i) => ({ address: b.address, name: hosts[i]! }));
    const proxy = await Twemproxy.start({ backends: named });
    // Nothing connects to these addresses: serverFor only places keys.
    const ring = new Group(hosts.map((h) => `${h}:11211`));
    try {
      assert.equal(await placementAgreement(proxy, backends, ring, 'named'), KEYS);
    } finally {
      await ring.close();
      await proxy.stop();
      await Promise.all(backends.map((b) => b.stop()));
    }
  });
});

describe('through twemproxy: a backend killed behind the proxy', () => {
  it("fails that backend's keys with a typed error, leaves the others unaffected, and nothing hangs", async () => {
    const backends = await Promise.all([0, 1, 2].map(() => MemcachedServer.start()));
    const proxy = await Twemproxy.start({ backends: backends.map((b) => ({ address: b.address })), timeout: 1000 });
    const group = new Group([proxy.address], { protocol: 'text', timeout: 4000 });
    const direct = new Group(backends.map((b) => b.address));
    try {
      const keys = Array.from({ length: 60 }, (_, i) => `dead:${i}`);
      await Promise.all(keys.map((k) => group.set(k, 'v')));
      const victim = backends[1]!;
      await victim.stop('SIGKILL');
      const onVictim = keys.filter((k) => direct.serverFor(k) === victim.address);
      const elsewhere = keys.filter((k) => direct.serverFor(k) !== victim.address);
      assert.ok(onVictim.length > 0 && elsewhere.length > 0);

      const started = Date.now();
      const outcomes = await Promise.all(onVictim.map((k) => group.get(k).then(() => null, (e: MemcacheError) => e)));
      for (const error of outcomes) {
        assert.equal(error?.code, 'MC_ERR_SERVER', String(error));
        assert.match(error!.message, /SERVER_ERROR/);
      }
      await assert.rejects(group.set(onVictim[0]!, 'w'), { code: 'MC_ERR_SERVER' });
      await assert.rejects(group.incr(onVictim[0]!, 1, { initial: 1 }), { code: 'MC_ERR_SERVER' });
      for (const key of elsewhere) assert.equal((await group.get(key))!.text, 'v');
      assert.equal(await group.set(elsewhere[0]!, 'w'), true);
      // A multi-get touching the dead backend: twemproxy fails the whole request; memring reads it as misses.
      const hits = await group.getMulti(keys);
      assert.ok(hits.size === 0 || hits.size === elsewhere.length, `got ${hits.size}`);
      // A multi-get of live keys only is whole.
      assert.equal((await group.getMulti(elsewhere)).size, elsewhere.length);
      // Everything settled well within the operations' own bounds.
      assert.ok(Date.now() - started < 30_000);

      await victim.restart();
      // Twemproxy retries the backend after server_retry_timeout.
      let back = false;
      for (let i = 0; i < 50 && !back; i++) {
        back = await group.set(onVictim[0]!, 'again').then(
          () => true,
          () => false,
        );
        if (!back) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(back, 'the restarted backend is reached through the proxy again');
    } finally {
      await direct.close();
      await group.close();
      await proxy.stop();
      await Promise.all(backends.map((b) => b.stop()));
    }
  });

  it("a Noop (the pool's probe) through the proxy answers even when version's backend is down; version itself fails typed", async () => {
    const backends = await Promise.all([0, 1].map(() => MemcachedServer.start()));
    const proxy = await Twemproxy.start({ backends: backends.map((b) => ({ address: b.address })), timeout: 1000 });
    const group = new Group([proxy.address], { protocol: 'text', timeout: 4000 });
    try {
      await group.version();
      for (const backend of backends) await backend.stop('SIGKILL');
      await group.noop();
      await assert.rejects(group.version(), { code: 'MC_ERR_SERVER' });
    } finally {
      await group.close();
      await proxy.stop();
      await Promise.all(backends.map((b) => b.stop()));
    }
  });
});
