// getOrSet raced by SEPARATE PROCESSES, each with its own Group, against one
// real memcached: what leases guarantee across processes (meta), and what
// in-process sharing alone guarantees (binary). Loads are counted by the
// server (each factory run is an incr), never timed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Protocol } from '../lib/index.js';
import type { MemcachedServer } from './support/memcached.js';
import { serverFixture } from './support/server-fixture.js';

const RACER = fileURLToPath(new URL('./support/lease-racer.ts', import.meta.url));
const PROCESSES = 4;
const CALLS = 5;

interface Outcome {
  ok: boolean;
  text: string;
}

let counter = 0;
function fresh(prefix: string): string {
  return `${prefix}:${process.pid}:${counter++}`;
}

/** One racer process: "ready" once connected, then its outcomes; rejects if it exits otherwise. */
function racer(config: object): { go: () => void; ready: Promise<void>; outcomes: Promise<Outcome[]>; kill: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', RACER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<never>((_, reject) => {
    // 'close', not 'exit': stdout has been read to its end by then, so a last line is never lost.
    child.once('close', (code) => reject(new Error(`racer exited with ${code} before it answered: ${stderr}`)));
  });
  exited.catch(() => undefined);
  let readyLine!: () => void;
  let outcomeLine!: (outcomes: Outcome[]) => void;
  const ready = new Promise<void>((resolve) => (readyLine = resolve));
  const outcomes = new Promise<Outcome[]>((resolve) => (outcomeLine = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'ready') readyLine();
    else outcomeLine(JSON.parse(line) as Outcome[]);
  });
  return {
    go: () => child.stdin.end('go\n'),
    ready: Promise.race([ready, exited]),
    outcomes: Promise.race([outcomes, exited]),
    kill: () => child.kill('SIGKILL'),
  };
}

/** Starts PROCESSES racers, lets them go together once all are connected, and returns each one's outcomes. */
async function race(server: MemcachedServer, protocol: Protocol, key: string, countKey: string, options: { loadMs: number; failFirst?: boolean }): Promise<Outcome[][]> {
  const config = { address: server.address, protocol, key, counter: countKey, calls: CALLS, loadMs: options.loadMs, failFirst: options.failFirst ?? false };
  const racers = Array.from({ length: PROCESSES }, () => racer(config));
  const killer = setTimeout(() => racers.forEach((r) => r.kill()), 60_000);
  try {
    await Promise.all(racers.map((r) => r.ready));
    for (const r of racers) r.go();
    return await Promise.all(racers.map((r) => r.outcomes));
  } finally {
    clearTimeout(killer);
  }
}

describe('getOrSet raced by separate processes', () => {
  const fx = serverFixture();

  async function loads(countKey: string): Promise<number> {
    const item = await fx.raw.get(countKey);
    return item === null ? 0 : Number(item.text);
  }

  it(`meta: ${PROCESSES} processes × ${CALLS} calls on a missing key: one load across all, every call gets its value`, async () => {
    const key = fresh('procs');
    const countKey = fresh('procs-count');
    const outcomes = (await race(fx.server, 'meta', key, countKey, { loadMs: 300 })).flat();
    assert.equal(await loads(countKey), 1);
    assert.deepEqual(outcomes, Array(PROCESSES * CALLS).fill({ ok: true, text: 'load 1' }));
    assert.equal((await fx.raw.get(key))?.text, 'load 1');
  });

  it('meta: the first load throws: only the calls that shared it reject, another process loads at once', async () => {
    const key = fresh('procs-fail');
    const countKey = fresh('procs-fail-count');
    const byProcess = await race(fx.server, 'meta', key, countKey, { loadMs: 300, failFirst: true });
    assert.equal(await loads(countKey), 2);
    const failed = byProcess.filter((outcomes) => outcomes.every((o) => !o.ok && o.text === 'load 1 failed'));
    assert.equal(failed.length, 1, JSON.stringify(byProcess));
    const others = byProcess.filter((outcomes) => outcomes !== failed[0]).flat();
    assert.deepEqual(others, Array((PROCESSES - 1) * CALLS).fill({ ok: true, text: 'load 2' }));
  });

  it('meta: after invalidate, one process reloads while the stale value is served; one load across all', async () => {
    const key = fresh('procs-stale');
    const countKey = fresh('procs-stale-count');
    await fx.raw.set(key, 'stale', { expires: 600 });
    assert.equal(await fx.raw.invalidate(key), true);
    const outcomes = (await race(fx.server, 'meta', key, countKey, { loadMs: 1000 })).flat();
    assert.equal(await loads(countKey), 1);
    assert.ok(outcomes.every((o) => o.ok && (o.text === 'stale' || o.text === 'load 1')), JSON.stringify(outcomes));
    // At least the loading process's own other calls got the stale value without waiting for the load.
    assert.ok(outcomes.filter((o) => o.text === 'stale').length >= CALLS - 1, JSON.stringify(outcomes));
    assert.equal((await fx.raw.get(key))?.text, 'load 1');
  });

  it('binary (no leases): at most one load per process, each process’s calls agree, and add keeps the first value stored', async () => {
    const key = fresh('procs-binary');
    const countKey = fresh('procs-binary-count');
    const byProcess = await race(fx.server, 'binary', key, countKey, { loadMs: 300 });
    const count = await loads(countKey);
    assert.ok(count >= 1 && count <= PROCESSES, `loads: ${count}`);
    for (const outcomes of byProcess) {
      assert.ok(outcomes.every((o) => o.ok && o.text === outcomes[0]!.text), JSON.stringify(outcomes));
    }
    const stored = (await fx.raw.get(key))?.text;
    assert.ok(byProcess.some((outcomes) => outcomes[0]!.text === stored), `stored ${stored}`);
  });
});
