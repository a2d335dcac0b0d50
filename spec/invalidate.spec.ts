// invalidate: an item marked stale (md I) instead of deleted, served while
// one getOrSet caller reloads it (stale-while-revalidate), against a real
// memcached; and what other clients (classic get, binary, php-memcached,
// i.e. libmemcached as OpenSIPS uses it) see of a stale item and of a load
// in progress.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { Group, MemcacheError } from '../lib/index.js';
import { MemcachedServer } from './support/memcached.js';

let counter = 0;
function fresh(prefix = 'inv'): string {
  return `${prefix}:${process.pid}:${counter++}`;
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function rejection(promise: Promise<unknown>): Promise<MemcacheError> {
  try {
    await promise;
  } catch (error) {
    return error as MemcacheError;
  }
  throw new Error('expected a rejection');
}

async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What the server answers to `request` (text lines), read up to the MN of an mn sent after it. */
function ask(server: MemcachedServer, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, server.host);
    let reply = '';
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no reply to ${JSON.stringify(request)}`))), 10_000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.endsWith('MN\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply.slice(0, -4));
      }
    });
    socket.write(`${request}\r\nmn\r\n`);
  });
}

/**
 * The flags of an `mg <key> t` reply line (t's TTL, X, W, Z), or null on a
 * miss. An mg of a stale item no one holds takes its win (W): look last.
 */
async function inspect(server: MemcachedServer, key: string): Promise<{ ttl: number; flags: string[] } | null> {
  const reply = await ask(server, `mg ${key} t`);
  if (reply.startsWith('EN')) return null;
  const tokens = reply.trim().split(' ').slice(1);
  const ttl = Number(tokens.find((t) => t.startsWith('t'))!.slice(1));
  return { ttl, flags: tokens.filter((t) => !t.startsWith('t')) };
}

const PHP_PEEK = `
$out = [];
foreach ([false, true] as $binary) {
  $m = new Memcached();
  $m->setOption(Memcached::OPT_BINARY_PROTOCOL, $binary);
  $m->addServer('127.0.0.1', (int)$argv[1]);
  $v = $m->get($argv[2]);
  $out[$binary ? 'binary' : 'text'] = ['value' => $v, 'hit' => $m->getResultCode() === Memcached::RES_SUCCESS];
}
echo json_encode($out);
`;
const PHP_HINT =
  'the invalidate spec reads items with php-memcached (libmemcached, as OpenSIPS uses it): install it with ' +
  '`apt-get update && apt-get install -y php-cli php-memcached` (or scripts/install-system-packages.sh), then run the specs again.';

/** What php-memcached's get (libmemcached over text, then binary) returns for `key`. */
function phpGet(server: MemcachedServer, key: string): Record<'text' | 'binary', { value: unknown; hit: boolean }> {
  const run = spawnSync('php', ['-r', PHP_PEEK, '--', String(server.port), key], { encoding: 'utf8', timeout: 30_000 });
  if (run.error !== undefined || run.status !== 0 || /Class "Memcached" not found/.test(run.stderr + run.stdout)) {
    throw new Error(`${PHP_HINT} (${run.error?.message ?? run.stderr.trim()})`);
  }
  return JSON.parse(run.stdout);
}

describe('invalidate (meta)', () => {
  let server: MemcachedServer;
  let groups: Group[];
  let group: Group;

  before(async () => {
    server = await MemcachedServer.start();
    groups = Array.from({ length: 5 }, () => new Group([server.address], { timeout: 10_000 }));
    group = groups[0]!;
  });
  after(async () => {
    await Promise.all(groups.map((g) => g.close()));
    await server.stop();
  });

  describe('marking an item stale', () => {
    it('resolves true and keeps the value, marked stale (X), for staleFor: 30 s by default', async () => {
      const key = fresh();
      await group.set(key, 'kept', { expires: 3600 });
      assert.equal(await group.invalidate(key), true);
      const seen = await inspect(server, key);
      assert.ok(seen !== null);
      assert.ok(seen.flags.includes('X'), seen.flags.join(' '));
      assert.ok(seen.ttl > 0 && seen.ttl <= 30, `ttl ${seen.ttl}`);
    });

    it('takes staleFor in seconds', async () => {
      const key = fresh();
      await group.set(key, 'kept');
      assert.equal(await group.invalidate(key, { staleFor: 5 }), true);
      const seen = await inspect(server, key);
      assert.ok(seen !== null && seen.ttl > 0 && seen.ttl <= 5, `ttl ${seen?.ttl}`);
    });

    it('resolves false for a missing key and creates nothing', async () => {
      const key = fresh();
      assert.equal(await group.invalidate(key), false);
      assert.equal(await inspect(server, key), null);
    });

    it('refuses staleFor 0 (memcached would keep the stale item forever), bad numbers and keys, sending nothing', async () => {
      const key = fresh();
      await group.set(key, 'untouched');
      for (const [staleFor, code] of [[0, 'MC_ERR_BAD_ARGUMENT'], [-1, 'MC_ERR_BAD_ARGUMENT'], [1.5, 'MC_ERR_BAD_ARGUMENT'], ['5', 'MC_ERR_BAD_ARGUMENT']] as const) {
        const error = await rejection(group.invalidate(key, { staleFor: staleFor as number }));
        assert.equal(error.code, code, `staleFor ${String(staleFor)}: ${error.message}`);
      }
      assert.equal((await rejection(group.invalidate('a b'))).code, 'MC_ERR_BAD_KEY');
      assert.equal((await rejection(group.invalidate(key, 'x' as never))).code, 'MC_ERR_BAD_ARGUMENT');
      assert.deepEqual((await inspect(server, key))?.flags, [], 'not stale');
    });

    it('a signal fired before the call rejects with MC_ERR_ABORTED, naming invalidate, and marks nothing', async () => {
      const key = fresh();
      await group.set(key, 'untouched');
      const error = await rejection(group.invalidate(key, { signal: AbortSignal.abort() }));
      assert.equal(error.code, 'MC_ERR_ABORTED');
      assert.match(error.message, /^invalidate aborted/);
      assert.deepEqual((await inspect(server, key))?.flags, [], 'not stale');
    });
  });

  describe('stale-while-revalidate', () => {
    it('after invalidate, 50 calls over 5 clients: one load, and the 49 others get the stale value while it runs', async () => {
      const key = fresh('swr');
      await group.set(key, 'stale value', { expires: 3600 });
      await group.invalidate(key);
      const hold = gate();
      let runs = 0;
      const factory = async (): Promise<string> => {
        runs++;
        await hold.opened;
        return 'fresh value';
      };
      const settled: string[] = [];
      const calls = groups.flatMap((g) =>
        Array.from({ length: 10 }, () => g.getOrSet(key, factory, { expires: 3600 }).then((item) => (settled.push(item.text), item.text))),
      );
      // Counted while the load is held, never timed: everyone but the loader has its answer already.
      await eventually(() => settled.length === 49 && runs === 1);
      assert.deepEqual(settled, Array(49).fill('stale value'));
      hold.open();
      const texts = await Promise.all(calls);
      assert.equal(runs, 1);
      assert.equal(texts.filter((t) => t === 'fresh value').length, 1);
      assert.equal((await group.get(key))?.text, 'fresh value');
      assert.deepEqual((await inspect(server, key))?.flags, [], 'the new value is neither stale nor leased');
    });

    it('a reload that fails keeps the stale value and releases the win: another client reloads at once', async () => {
      const key = fresh('swr-fail');
      await group.set(key, 'old', { expires: 3600 });
      await group.invalidate(key);
      const [first, second, third] = groups;
      const hold = gate();
      let runs = 0;
      const failing = first!.getOrSet(key, async () => (runs++, await hold.opened, Promise.reject(new Error('reload failed'))), { expires: 60 });
      await eventually(() => runs === 1);
      assert.equal((await second!.getOrSet(key, () => (runs++, 'never'), { expires: 60 })).text, 'old', 'stale served during the load');
      hold.open();
      assert.equal((await rejection(failing)).message, 'reload failed');
      // (No mg here to look: on a stale item it would take the released win itself.)
      assert.equal((await third!.getOrSet(key, () => (runs++, 'reloaded'), { expires: 60 })).text, 'reloaded');
      assert.equal(runs, 2);
    });

    it('an invalidate during a reload wins over it: the reload is not stored, the next caller reloads again', async () => {
      const key = fresh('swr-again');
      await group.set(key, 'v1');
      await group.invalidate(key);
      const hold = gate();
      let runs = 0;
      const reload = groups[1]!.getOrSet(key, async () => (runs++, await hold.opened, 'v2 (outdated)'), { expires: 60 });
      await eventually(() => runs === 1);
      assert.equal(await group.invalidate(key), true);
      hold.open();
      const outdated = await reload;
      assert.equal(outdated.text, 'v2 (outdated)');
      assert.equal(outdated.cas, 0n, 'not stored');
      assert.equal((await groups[2]!.getOrSet(key, () => (runs++, 'v3'), { expires: 60 })).text, 'v3');
      assert.equal((await group.get(key))?.text, 'v3');
    });

    it('a stale item left alone goes after staleFor; the next getOrSet loads as on a miss', async () => {
      const key = fresh('swr-gone');
      await group.set(key, 'old');
      await group.invalidate(key, { staleFor: 1 });
      // memcached counts whole seconds: gone within 2 s.
      const deadline = Date.now() + 10_000;
      while ((await inspect(server, key)) !== null) {
        assert.ok(Date.now() < deadline, 'the stale item outlived its staleFor');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal((await group.getOrSet(key, () => 'new', { expires: 60 })).text, 'new');
    });
  });

  describe('what other clients see', () => {
    it('of a stale item: the value as an ordinary hit (classic get, binary get, php-memcached text and binary), and they take no win', async () => {
      const key = fresh('peer');
      await group.set(key, 'stale for them too', { expires: 3600 });
      await group.invalidate(key);
      assert.equal(await ask(server, `get ${key}`), `VALUE ${key} 0 18\r\nstale for them too\r\nEND\r\n`);
      const binary = new Group([server.address], { protocol: 'binary' });
      try {
        assert.equal((await binary.get(key))?.text, 'stale for them too');
      } finally {
        await binary.close();
      }
      assert.deepEqual(phpGet(server, key), {
        text: { value: 'stale for them too', hit: true },
        binary: { value: 'stale for them too', hit: true },
      });
      // None of them took the win: the next lease still gets it.
      const seen = await inspect(server, key);
      assert.ok(seen?.flags.includes('X') && !seen.flags.includes('Z'), seen?.flags.join(' '));
    });

    it("a meta get (Group.get over meta) of a stale item takes the win: getOrSet callers then get the stale value until staleFor ends", async () => {
      const key = fresh('meta-get');
      await group.set(key, 'old', { expires: 3600 });
      await group.invalidate(key, { staleFor: 60 });
      assert.equal((await group.get(key))?.text, 'old');
      assert.deepEqual((await inspect(server, key))?.flags.sort(), ['X', 'Z']);
      let runs = 0;
      assert.equal((await groups[1]!.getOrSet(key, () => (runs++, 'new'), { expires: 60 })).text, 'old');
      assert.equal(runs, 0);
    });

    it('of a load in progress: an empty value with flags 0 (the stub), as a hit', async () => {
      const key = fresh('stub');
      const hold = gate();
      let runs = 0;
      const loading = group.getOrSet(key, async () => (runs++, await hold.opened, 'loaded'), { expires: 60 });
      await eventually(() => runs === 1);
      assert.equal(await ask(server, `get ${key}`), `VALUE ${key} 0 0\r\n\r\nEND\r\n`);
      assert.deepEqual(phpGet(server, key), { text: { value: '', hit: true }, binary: { value: '', hit: true } });
      hold.open();
      assert.equal((await loading).text, 'loaded');
      assert.deepEqual(phpGet(server, key), { text: { value: 'loaded', hit: true }, binary: { value: 'loaded', hit: true } });
    });
  });
});

describe('invalidate over binary', () => {
  let server: MemcachedServer;
  let binary: Group;

  before(async () => {
    server = await MemcachedServer.start();
    binary = new Group([server.address], { protocol: 'binary' });
  });
  after(async () => {
    await binary.close();
    await server.stop();
  });

  it('rejects with MC_ERR_UNSUPPORTED and sends nothing: the item stays as it was', async () => {
    const key = fresh('bin');
    await binary.set(key, 'plain');
    const error = await rejection(binary.invalidate(key));
    assert.equal(error.code, 'MC_ERR_UNSUPPORTED');
    assert.match(error.message, /meta/);
    assert.deepEqual((await inspect(server, key))?.flags, []);
  });

  it('checks its arguments first: a bad key is MC_ERR_BAD_KEY', async () => {
    assert.equal((await rejection(binary.invalidate('a b'))).code, 'MC_ERR_BAD_KEY');
  });
});
