// memring bench as a user runs it: against given servers, against the
// memcached it starts itself, with servers down, and interrupted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Group } from '../../lib/index.js';
import type { BenchReport } from '../../lib/cli/bench-report.js';
import { MemcachedServer, freePort } from '../support/memcached.js';
import { cleanEnv, finished, listening, memring, start } from './run.js';

let one: MemcachedServer;
let two: MemcachedServer;

before(async () => {
  [one, two] = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
});
after(async () => {
  await Promise.all([one.stop(), two.stop()]);
});

async function serverCounter(address: string, name: string): Promise<number> {
  const group = new Group([address]);
  try {
    return Number((await group.stats()).get(address)![name]);
  } finally {
    await group.close();
  }
}

function checkLatency(l: BenchReport['latency_us']): void {
  assert.ok(l.p50 > 0, `p50 ${l.p50}`);
  assert.ok(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p99_9 && l.p99_9 <= l.max, JSON.stringify(l));
}

describe('memring bench --json', () => {
  it('runs --ops operations with 64 in flight and reports them as one JSON object', async () => {
    const hitsBefore = await serverCounter(one.address, 'get_hits');
    const r = await memring(['bench', '--servers', one.address, '--ops', '2000', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('\r') && !r.stdout.includes('\x1b'), 'no progress line when stdout is not a terminal');
    const report = JSON.parse(r.stdout) as BenchReport;
    assert.equal(report.embedded, false);
    assert.deepEqual(report.servers, [one.address]);
    assert.match(report.memcached_version[one.address]!, /^\d+\.\d+\.\d+/);
    assert.equal(report.concurrency, 64);
    assert.equal(report.ops, 2000);
    assert.equal(report.gets + report.sets, 2000);
    assert.ok(report.sets > 0 && report.gets > report.sets, 'mix 9:1 by default');
    assert.equal(report.hits, report.gets, 'every key was stored first');
    assert.equal(report.failed, 0);
    assert.deepEqual(report.errors, {});
    assert.ok(report.ops_per_sec > 0);
    assert.ok(Math.abs(report.ops_per_sec - report.ops / report.duration_sec) / report.ops_per_sec < 0.05);
    assert.equal(report.latency_us.count, 2000);
    checkLatency(report.latency_us);
    assert.equal(report.per_server.length, 1);
    assert.equal(report.per_server[0]!.ops, 2000);
    // The gets really reached the server.
    assert.ok((await serverCounter(one.address, 'get_hits')) - hitsBefore >= report.hits);
  });

  it('splits results per server, as the ring places the keys', async () => {
    const r = await memring(['bench', '-s', `${one.address},${two.address}`, '-n', '3000', '-c', '16', '--keys', '500', '--value-size', '1000', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as BenchReport;
    assert.equal(report.concurrency, 16);
    assert.equal(report.value_size, 1000);
    assert.equal(report.keys, 500);
    assert.deepEqual(report.per_server.map((s) => s.server), [one.address, two.address]);
    assert.equal(report.per_server.reduce((n, s) => n + s.ops, 0), 3000);
    for (const s of report.per_server) {
      assert.ok(s.ops > 500, `${s.server} took a share: ${s.ops}`);
      checkLatency(s.latency_us);
    }
  });

  it('--multi N: gets are getMulti calls of N keys; --mix 1:0: gets only', async () => {
    const r = await memring(['bench', '-s', one.address, '--ops', '500', '--multi', '10', '--mix', '1:0', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as BenchReport;
    assert.equal(report.multi, 10);
    assert.equal(report.gets, 500);
    assert.equal(report.sets, 0);
    assert.equal(report.hits, 5000, 'ten distinct stored keys per call');
    assert.ok(Math.abs(report.keys_per_sec / report.ops_per_sec - 10) < 0.1);
  });

  it('--compare raw measures raw sockets at the same concurrency and gives memring\'s share, both sides gets only', async () => {
    const r = await memring(['bench', '-s', one.address, '--ops', '5000', '--compare', 'raw', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as BenchReport;
    assert.deepEqual(report.mix, { get: 1, set: 0 }, 'the raw sockets send only gets, so memring does too');
    assert.equal(report.sets, 0);
    assert.equal(report.gets, 5000);
    assert.ok(report.compare !== undefined);
    assert.ok(report.compare.raw_ops_per_sec > 0);
    assert.ok(Math.abs(report.compare.share - report.ops_per_sec / report.compare.raw_ops_per_sec) < 0.01);
  });

  it('--duration runs for that long', async () => {
    const r = await memring(['bench', '-s', one.address, '--duration', '0.5', '--json']);
    const report = JSON.parse(r.stdout) as BenchReport;
    assert.ok(report.duration_sec >= 0.5 && report.duration_sec < 1.5, `${report.duration_sec} s`);
    assert.ok(report.ops > 0);
  });
});

describe('memring bench: the table', () => {
  it('prints the setup, then ops/s and latency percentiles per server, and the errors', async () => {
    const r = await memring(['bench', '-s', `${one.address},${two.address}`, '--ops', '2000', '--compare', 'raw']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('\r') && !r.stdout.includes('\x1b'), 'no progress line when stdout is not a terminal');
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^memring bench, 2 servers: /);
    assert.match(lines[1]!, /^64 in flight, 100-byte values, 10,000 keys, get:set 1:0, ketama, meta protocol, 2,000 ops$/);
    assert.match(r.stdout, /\n +ops +ops\/s +p50 ms +p90 ms +p99 ms +p99\.9 ms +max ms +errors\n/);
    assert.match(r.stdout, /\nall +2,000 +[\d,]+ +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3} +0\n/);
    assert.match(r.stdout, new RegExp(`\\n${one.address.replace(/\./g, '\\.')} +[\\d,]+ +[\\d,]+ `));
    assert.match(r.stdout, /\nerrors: none\n/);
    assert.match(r.stdout, /\nraw sockets, prebuilt mg requests, 64 in flight: [\d,]+ ops\/s; memring, gets only as they are, [\d,]+ ops\/s = \d+\.\d% of it\n/);
  });
});

describe('memring bench without --servers', () => {
  it('starts its own memcached on 127.0.0.1, measures it, and stops it', async () => {
    const r = await memring(['bench', '--ops', '2000', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as BenchReport;
    assert.equal(report.embedded, true);
    assert.equal(report.ops, 2000);
    const [server] = report.servers;
    assert.match(server!, /^127\.0\.0\.1:\d+$/);
    assert.equal(await listening(Number(server!.split(':')[1])), false, 'the memcached it started is gone');
  });

  it('says how to install memcached when it is not on PATH (exit 1)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'memring-no-memcached-'));
    const r = await memring(['bench', '--ops', '10'], { env: cleanEnv({ PATH: empty }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /memcached is not installed \(or not on PATH\)\. Install it with `apt-get install -y memcached`/);
    assert.equal(r.stdout, '');
  });

  it('stops on Ctrl-C (SIGINT): partial results, exit 130, its memcached stopped', async () => {
    const child = start(['bench', '--duration', '60']);
    const result = finished(child);
    const header = await new Promise<string>((resolve) => {
      let text = '';
      child.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n\n')) resolve(text);
      });
    });
    const port = Number(/started on 127\.0\.0\.1:(\d+)/.exec(header)![1]);
    assert.equal(await listening(port), true);
    // Interrupted once the measured run has begun (gets come after the keys are stored), however slow the machine.
    while (child.exitCode === null && (await serverCounter(`127.0.0.1:${port}`, 'cmd_get')) === 0) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const r = await result;
    assert.equal(r.code, 130);
    assert.match(r.stdout, /\nall +[\d,]+ +[\d,]+ /);
    assert.match(r.stdout, /s \(interrupted\);/);
    assert.equal(await listening(port), false);
  });
});

describe('memring bench with a server down', () => {
  it('exits 1 with the error code and the server when it cannot reach it', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const r = await memring(['bench', '--servers', down, '--ops', '100']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^memring bench: MC_ERR_CONNECT: .*\\(${down.replace(/\./g, '\\.')}\\)\\n$`));
  });

  it('counts errors by code when a server dies during the run, and exits 1', async () => {
    const victim = await MemcachedServer.start();
    const child = start(['bench', '-s', `${one.address},${victim.address}`, '--duration', '3', '-c', '8', '--keys', '200', '--json']);
    const result = finished(child);
    // Gets mean the measured run has begun (the keys are first stored with sets only).
    while (child.exitCode === null && (await serverCounter(victim.address, 'cmd_get')) === 0) await new Promise((r) => setTimeout(r, 50));
    await victim.stop('SIGKILL');
    const r = await result;
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as BenchReport;
    assert.ok(report.failed > 0);
    assert.equal(Object.values(report.errors).reduce((a, b) => a + b, 0), report.failed);
    assert.ok(Object.keys(report.errors).every((code) => code.startsWith('MC_ERR_')), JSON.stringify(report.errors));
    const [healthy, dead] = report.per_server;
    assert.deepEqual(healthy!.errors, {}, 'the live server had no errors');
    assert.ok((dead!.errors['MC_ERR_SERVER_DOWN'] ?? 0) > 0, JSON.stringify(dead!.errors));
  });
});
