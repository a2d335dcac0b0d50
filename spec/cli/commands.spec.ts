// The everyday commands against real memcached, checked through a Group
// (what the server really holds), not only through the CLI's own output.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Group } from '../../lib/index.js';
import { MemcachedServer, freePort } from '../support/memcached.js';
import { cleanEnv, memring } from './run.js';

let one: MemcachedServer;
let two: MemcachedServer;
let group: Group;
let pair: string;

before(async () => {
  [one, two] = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
  group = new Group([one.address]);
  pair = `${one.address},${two.address}`;
});
after(async () => {
  await group.close();
  await Promise.all([one.stop(), two.stop()]);
});

let counter = 0;
const fresh = (prefix = 'cli'): string => `${prefix}:${process.pid}:${counter++}`;

describe('memring set and get', () => {
  it('stores a value with --flags and --expires and prints it back followed by a newline', async () => {
    const key = fresh();
    const set = await memring(['set', '-s', one.address, key, 'hello world', '--flags', '42', '--expires', '100']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, `stored ${key} on ${one.address}\n`);
    const item = await group.get(key);
    assert.equal(item?.text, 'hello world');
    assert.equal(item?.flags, 42);

    const get = await memring(['get', '-s', one.address, key]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, 'hello world\n');
  });

  it('reads the value from standard input when none is given, bytes as they are (get --raw)', async () => {
    const key = fresh();
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    const set = await memring(['set', '-s', one.address, key], { input: bytes });
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual([...(await group.get(key))!.value], [...bytes]);
    const get = await memring(['get', '-s', one.address, '--raw', key]);
    assert.equal(get.code, 0);
    assert.deepEqual([...get.stdoutBytes], [...bytes]);
  });

  it('lets --expires 1 expire the item', async () => {
    // No read right after the set: on a loaded machine the CLI's own start can take past the
    // item's second. A twin stored with a long expiration shows the set itself worked.
    const key = fresh();
    const twin = fresh('twin');
    assert.equal((await memring(['set', '-s', one.address, '-e', '1', key, 'brief'])).code, 0);
    assert.equal((await memring(['set', '-s', one.address, '-e', '3600', twin, 'brief'])).code, 0);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal(await group.get(key), null);
    assert.equal((await group.get(twin))?.text, 'brief');
  });

  it('exits 3 on a miss, with nothing on stdout and "not found" on stderr', async () => {
    const key = fresh('missing');
    const r = await memring(['get', '-s', one.address, key]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `memring get: ${key}: not found\n`);
  });

  it('prints several keys as KEY VALUE lines, and --json as an array with each key\'s server', async () => {
    const [a, b, missing] = [fresh(), fresh(), fresh('missing')];
    await group.set(a, 'A', { flags: 3 });
    await group.set(b, 'B');
    const text = await memring(['get', '-s', one.address, a, b]);
    assert.equal(text.code, 0);
    assert.equal(text.stdout, `${a} A\n${b} B\n`);

    const r = await memring(['get', '-s', one.address, '--json', a, missing]);
    assert.equal(r.code, 3, 'a key is missing');
    const items = JSON.parse(r.stdout) as { key: string; server: string; value: string | null; flags: number | null; cas: string | null }[];
    assert.equal(items.length, 2);
    assert.deepEqual({ ...items[0], cas: undefined }, { key: a, server: one.address, value: 'A', flags: 3, cas: undefined });
    assert.match(items[0]!.cas!, /^\d+$/);
    assert.deepEqual(items[1], { key: missing, server: one.address, value: null, flags: null, cas: null });
  });

  it('places keys over several servers exactly where a Group places them', async () => {
    const keys = Array.from({ length: 12 }, () => fresh('spread'));
    const placing = new Group([one.address, two.address]);
    const onOne = new Group([one.address]);
    const onTwo = new Group([two.address]);
    try {
      for (const key of keys) assert.equal((await memring(['set', '-s', pair, key, 'v'])).code, 0);
      const servers = new Set<string>();
      for (const key of keys) {
        const where = placing.serverFor(key)!;
        servers.add(where);
        const holder = where === one.address ? onOne : onTwo;
        const other = where === one.address ? onTwo : onOne;
        assert.equal((await holder.get(key))?.text, 'v', `${key} on ${where}`);
        assert.equal(await other.get(key), null, `${key} only on ${where}`);
      }
      assert.equal(servers.size, 2, 'the keys use both servers');
    } finally {
      await Promise.all([placing.close(), onOne.close(), onTwo.close()]);
    }
  });
});

describe('memring delete', () => {
  it('deletes a key (exit 0), and exits 3 when it is not there', async () => {
    const key = fresh();
    await group.set(key, 'v');
    const r = await memring(['delete', '-s', one.address, key]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `deleted ${key}\n`);
    assert.equal(await group.get(key), null);
    const again = await memring(['delete', '-s', one.address, key, '--json']);
    assert.equal(again.code, 3);
    assert.deepEqual(JSON.parse(again.stdout), [{ key, server: one.address, deleted: false }]);
  });
});

describe('memring incr and decr', () => {
  it('exits 3 on a missing counter, creates it with --initial, adds and subtracts (stopping at 0)', async () => {
    const key = fresh('counter');
    const missing = await memring(['incr', '-s', one.address, key]);
    assert.equal(missing.code, 3);
    assert.equal(missing.stderr, `memring incr: ${key}: not found\n`);
    assert.equal(await group.get(key), null, 'nothing created');

    const created = await memring(['incr', '-s', one.address, key, '5', '--initial', '10']);
    assert.equal(created.code, 0);
    assert.equal(created.stdout, '10\n');
    assert.equal((await memring(['incr', '-s', one.address, key, '5'])).stdout, '15\n');
    assert.equal((await memring(['decr', '-s', one.address, key])).stdout, '14\n');
    assert.equal((await memring(['decr', '-s', one.address, key, '100'])).stdout, '0\n');
    const big = await memring(['incr', '-s', one.address, key, '18446744073709551615', '--json']);
    assert.deepEqual(JSON.parse(big.stdout), { key, server: one.address, value: '18446744073709551615' });
    assert.equal((await group.get(key))?.text.trim(), '18446744073709551615');
  });

  it('exits 1 with MC_ERR_NOT_NUMERIC on a value that is not a number', async () => {
    const key = fresh();
    await group.set(key, 'text');
    const r = await memring(['incr', '-s', one.address, key]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^memring incr: MC_ERR_NOT_NUMERIC: .*\n$/);
  });
});

describe('memring stats, version and flush', () => {
  it('prints every server\'s stats, and one object per server with --json', async () => {
    const text = await memring(['stats', '-s', pair]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, new RegExp(`^${one.address}\\n  pid +\\d+`, 'm'));
    assert.match(text.stdout, new RegExp(`^${two.address}$`, 'm'));
    const json = await memring(['stats', '-s', pair, '--json', 'settings']);
    const stats = JSON.parse(json.stdout) as Record<string, Record<string, string>>;
    assert.deepEqual(Object.keys(stats), [one.address, two.address]);
    assert.equal(stats[two.address]!['tcpport'], String(two.port));
  });

  it('prints each server\'s version', async () => {
    const [expected] = [...(await group.version()).values()];
    const text = await memring(['version', '-s', pair]);
    assert.equal(text.code, 0);
    assert.equal(text.stdout, `${one.address} ${expected!}\n${two.address} ${expected!}\n`);
    const json = await memring(['version', '-s', one.address, '--json']);
    assert.deepEqual(JSON.parse(json.stdout), { [one.address]: expected });
  });

  it('flushes every server', async () => {
    const key = fresh();
    await group.set(key, 'v');
    const r = await memring(['flush', '-s', pair]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `flushed ${one.address}\nflushed ${two.address}\n`);
    assert.equal(await group.get(key), null);
  });
});

describe('memring against a server that is down', () => {
  const commands: [string, string[]][] = [
    ['get', ['k']],
    ['set', ['k', 'v']],
    ['delete', ['k']],
    ['incr', ['k']],
    ['stats', []],
    ['version', []],
    ['flush', []],
  ];
  for (const [command, args] of commands) {
    it(`${command}: exit 1, one line with MC_ERR_CONNECT and the server`, async () => {
      const down = `127.0.0.1:${await freePort()}`;
      const r = await memring([command, '--servers', down, ...args]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^memring ${command}: MC_ERR_CONNECT: .*${down.replace(/\./g, '\\.')}.*\\n$`));
    });
  }

  it('version: prints the live server\'s answer and the down server\'s error, exit 1', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const [expected] = [...(await group.version()).values()];
    const r = await memring(['version', '--servers', `${one.address},${down}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, `${one.address} ${expected!}\n`);
    assert.match(r.stderr, new RegExp(`^memring version: MC_ERR_CONNECT: .*\\(${down.replace(/\./g, '\\.')}\\)\\n$`));
    const json = await memring(['version', '--servers', `${down},${one.address}`, '--json']);
    assert.equal(json.code, 1);
    const answers = JSON.parse(json.stdout) as Record<string, string | { error: string; message: string }>;
    assert.deepEqual(Object.keys(answers), [down, one.address]);
    assert.equal(answers[one.address], expected);
    assert.equal((answers[down] as { error: string }).error, 'MC_ERR_CONNECT');
    assert.match((answers[down] as { message: string }).message, new RegExp(down.replace(/\./g, '\\.')));
  });

  it('stats: prints the live servers\' statistics and the down server\'s error, exit 1', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const r = await memring(['stats', '--servers', `${one.address},${down},${two.address}`, 'settings']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^${one.address}\\n  [\\s\\S]*\\n${two.address}\\n  [\\s\\S]*tcpport +${two.port}\\n`));
    assert.ok(!r.stdout.includes(down));
    assert.match(r.stderr, new RegExp(`^memring stats: MC_ERR_CONNECT: .*${down.replace(/\./g, '\\.')}.*\\n$`));
    const json = await memring(['stats', '--servers', `${one.address},${down}`, '--json']);
    const answers = JSON.parse(json.stdout) as Record<string, Record<string, string>>;
    assert.equal(answers[one.address]!['pid'] !== undefined, true);
    assert.equal(answers[down]!['error'], 'MC_ERR_CONNECT');
  });
});

describe('memring --protocol', () => {
  it('speaks meta by default and binary when asked; both reach the same items', async () => {
    const key = fresh('proto');
    const meta = await memring(['set', '-s', one.address, key, 'over meta']);
    assert.equal(meta.code, 0, meta.stderr);
    const binary = await memring(['get', '-s', one.address, '--protocol', 'binary', key]);
    assert.equal(binary.code, 0, binary.stderr);
    assert.equal(binary.stdout, 'over meta\n');
  });

  it('works against a memcached without binary (-B ascii) by default, and -p binary says why it cannot', async () => {
    const ascii = await MemcachedServer.start({ args: ['-B', 'ascii'] });
    try {
      const key = fresh('ascii');
      assert.equal((await memring(['set', '-s', ascii.address, key, 'text only'])).code, 0);
      assert.equal((await memring(['get', '-s', ascii.address, key])).stdout, 'text only\n');
      const refused = await memring(['get', '-s', ascii.address, '-p', 'binary', '--timeout', '5000', key]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /MC_ERR_PROTOCOL/);
      assert.match(refused.stderr, /text protocol/);
    } finally {
      await ascii.stop();
    }
  });
});

describe('memring with MEMCACHED_SERVERS', () => {
  it('reads the servers from MEMCACHED_SERVERS (space- or comma-separated) when --servers is absent', async () => {
    const [expected] = [...(await group.version()).values()];
    for (const list of [`${one.address} ${two.address}`, `${one.address},${two.address}`, ` ${one.address}, ${two.address} `]) {
      const r = await memring(['version'], { env: cleanEnv({ MEMCACHED_SERVERS: list }) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${one.address} ${expected!}\n${two.address} ${expected!}\n`, list);
    }
  });

  it('places keys as a Group of those servers does, and --servers wins over it', async () => {
    const placing = new Group([one.address, two.address]);
    try {
      const key = fresh('env');
      const set = await memring(['set', key, 'from env'], { env: cleanEnv({ MEMCACHED_SERVERS: `${one.address} ${two.address}` }) });
      assert.equal(set.code, 0, set.stderr);
      assert.equal(set.stdout, `stored ${key} on ${placing.serverFor(key)!}\n`);
      assert.equal((await placing.get(key))?.text, 'from env');
      const down = `127.0.0.1:${await freePort()}`;
      const get = await memring(['get', '-s', `${one.address},${two.address}`, key], { env: cleanEnv({ MEMCACHED_SERVERS: down }) });
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout, 'from env\n');
    } finally {
      await placing.close();
    }
  });
});

describe('memring set --expires', () => {
  it('takes an absolute Unix time to come (over 30 days from 1970), and the item is there', async () => {
    const key = fresh('absolute');
    const at = Math.floor(Date.now() / 1000) + 3600;
    const r = await memring(['set', '-s', one.address, '--expires', String(at), key, 'later']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await group.get(key))?.text, 'later');
  });

  it('takes exactly 2592000 seconds (30 days) as a time to live', async () => {
    const key = fresh('thirty-days');
    const r = await memring(['set', '-s', one.address, '--expires', '2592000', key, 'month']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await group.get(key))?.text, 'month');
  });
});
